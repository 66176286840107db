/**
 * Flow-runtime errors: one class per failure, each with a stable `code` string. Interruptions (a flow
 * cancelled, a user preempted away, a preemption superseded) are told apart from failures with
 * `isFlowInterruption(err)`, which also recognises the ctrl SDK's cancellation errors.
 */

import { CallGoneError, isCancellation } from '../ctrl/index.js';

/** Stable codes of the flow runtime's errors. */
export type FlowErrorCode =
  | 'not-owner'
  | 'preemption-refused'
  | 'preempted'
  | 'superseded'
  | 'flow-cancelled'
  | 'mailbox-closed'
  | 'user-unavailable'
  | 'runtime-closed';

/** Base class of every flow-runtime error. */
export class FlowError extends Error {
  override readonly name: string = 'FlowError';
  readonly code: FlowErrorCode;
  constructor(code: FlowErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A flow operated on a user it does not own (ownership is taken with `acquire`/`call`). */
export class NotOwnerError extends FlowError {
  override readonly name = 'NotOwnerError';
  constructor(user: string, flow: string, owner: string | undefined) {
    super(
      'not-owner',
      `flow ${flow} does not own user ${user}${owner === undefined ? ' (nobody does)' : ` (owned by ${owner})`}`,
    );
  }
}

/** A preemption by a flow whose priority does not exceed the owner's. Nothing was changed. */
export class PreemptionRefusedError extends FlowError {
  override readonly name = 'PreemptionRefusedError';
  constructor(user: string, flow: string, priority: number, owner: string, ownerPriority: number) {
    super(
      'preemption-refused',
      `flow ${flow} (priority ${priority}) cannot preempt user ${user} from ${owner} (priority ${ownerPriority})`,
    );
  }
}

/**
 * The user was taken by another flow: operations the old owner had running on it reject with this,
 * and it is the abort reason of tasks bound to the user.
 */
export class PreemptedError extends FlowError {
  override readonly name = 'PreemptedError';
  readonly user: string;
  /** Name of the flow that took the user, or undefined for a tear-down by the runtime. */
  readonly by: string | undefined;
  constructor(user: string, by: string | undefined) {
    super('preempted', `user ${user} was taken by ${by ?? 'a tear-down'}`);
    this.user = user;
    this.by = by;
  }
}

/** A later preemption of the same user started while this one was in progress: the later wins. */
export class PreemptionSupersededError extends FlowError {
  override readonly name = 'PreemptionSupersededError';
  constructor(user: string, flow: string, by: string | undefined) {
    super('superseded', `preemption of user ${user} by ${flow} superseded by ${by ?? 'a tear-down'}`);
  }
}

/** The abort reason of a flow cancelled through its handle (or the runtime closing). */
export class FlowCancelledError extends FlowError {
  override readonly name = 'FlowCancelledError';
  readonly reason: string;
  constructor(flow: string, reason: string) {
    super('flow-cancelled', `flow ${flow} cancelled: ${reason}`);
    this.reason = reason;
  }
}

/** The mailbox is closed (its flow ended): nothing more can be posted, pending requests fail. */
export class MailboxClosedError extends FlowError {
  override readonly name = 'MailboxClosedError';
  constructor(what: string) {
    super('mailbox-closed', `mailbox of ${what} is closed`);
  }
}

/** The operation needs the user on a call (talking), but it is idle or still ringing. */
export class UserUnavailableError extends FlowError {
  override readonly name = 'UserUnavailableError';
  constructor(user: string, state: string, what: string) {
    super('user-unavailable', `${what}: user ${user} is ${state}`);
  }
}

/** The runtime was closed: no new flow can start. */
export class RuntimeClosedError extends FlowError {
  override readonly name = 'RuntimeClosedError';
  constructor(what: string) {
    super('runtime-closed', `${what}: the flow runtime is closed`);
  }
}

/**
 * True for the ways an operation stops because someone stopped it rather than because it failed: a flow
 * cancellation, a preemption, a superseded preemption, and the ctrl SDK's cancellation (`CancelledError`,
 * `AbortError`). A failed call attempt or a 410 from the node is not an interruption.
 */
export function isFlowInterruption(err: unknown): boolean {
  if (err instanceof PreemptedError || err instanceof FlowCancelledError) return true;
  if (err instanceof PreemptionSupersededError) return true;
  // The ctrl SDK's CancelledError (FlowCancelledError of ctrl extends it) and DOM AbortErrors.
  return isCancellation(err);
}

/** True for the node's 410 (the call ended or the operation was stopped on the node). */
export function isCallGone(err: unknown): boolean {
  return err instanceof CallGoneError;
}
