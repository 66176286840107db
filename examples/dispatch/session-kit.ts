/**
 * What every dispatch flow shares: the session's message and reply types, `startSession` (a flow plus
 * the moment it is "established", which the starting command's reply waits for), and small helpers for
 * flows — waiting for a message or something else, taking a party so it returns where it came from,
 * checking a preemption would be allowed before changing anything.
 */
import { linkSignals } from '../../src/ctrl/index.js';
import {
  type CallUserOptions,
  type FlowHandle,
  type FlowSession,
  isCallGone,
  isFlowInterruption,
  type Letter,
  type User,
  type UserManager,
} from '../../src/flow/index.js';
import { DispatchError } from './errors.js';
import type { SessionKind } from './priorities.js';

/** Messages a running session receives (from `add`, `remove`, `complete`). */
export type SessionMessage =
  | { type: 'add'; user: string }
  | { type: 'remove'; user: string }
  | { type: 'complete' };

/** What a session answers to a message. */
export type SessionReply = Record<string, unknown>;

/** The session type of every dispatch flow. */
export type DispatchSession = FlowSession<undefined, SessionMessage, SessionReply>;

/** A running dispatch flow. */
export type DispatchHandle = FlowHandle<void, undefined, SessionMessage, SessionReply>;

/** A started session: its flow, and the result of the command that started it. */
export interface StartedSession {
  readonly kind: SessionKind;
  readonly handle: DispatchHandle;
  /**
   * Resolves with the command's result once the flow reports it is established; rejects with the
   * flow's failure if it ends before that.
   */
  readonly established: Promise<Record<string, unknown>>;
}

/** The body of a dispatch flow; it calls `established(result)` once the command's action is in place. */
export type SessionBody = (
  s: DispatchSession,
  established: (result: Record<string, unknown>) => void,
) => Promise<void>;

/** Starts `body` as a flow of `kind`. */
export function startSession(
  manager: UserManager,
  kind: SessionKind,
  body: SessionBody,
  options: { priority: number; endPolicy: 'hangup' | 'gc' },
): StartedSession {
  let resolve!: (value: Record<string, unknown>) => void;
  const ready = new Promise<Record<string, unknown>>((res) => {
    resolve = res;
  });
  const handle = manager.start<void, undefined, SessionMessage, SessionReply>((s) => body(s, resolve), {
    name: kind,
    priority: options.priority,
    endPolicy: options.endPolicy,
  });
  const ended = handle.done.then((outcome): Record<string, unknown> => {
    switch (outcome.status) {
      case 'completed':
        return { ended: true };
      case 'failed':
        throw outcome.error;
      case 'cancelled':
        throw outcome.reason;
    }
  });
  // Whichever comes first; the loser is still handled by `race`, so no rejection floats.
  const established = Promise.race([ready, ended]).then((result) => ({ session: handle.id, ...result }));
  return { kind, handle, established };
}

/** What `receiveOr` returns: a letter, or the other promise's outcome. */
export type Next<T> =
  | { kind: 'letter'; letter: Letter<SessionMessage, SessionReply> }
  | { kind: 'other'; ok: true; value: T }
  | { kind: 'other'; ok: false; error: unknown };

/**
 * Waits for the next message or for `other` to settle, whichever is first. A letter that arrives in the
 * same instant as `other` wins is failed (so its sender is not left waiting), never lost silently.
 */
export async function receiveOr<T>(s: DispatchSession, other: Promise<T>): Promise<Next<T>> {
  const stop = new AbortController();
  const linked = linkSignals(s.signal, stop.signal);
  let decided = false;
  const letter = s.receive({ signal: linked.signal }).then((l): Next<T> => {
    if (decided) l.fail(new DispatchError('failed', `session ${s.id} is ending`));
    return { kind: 'letter', letter: l };
  });
  const settled = other.then(
    (value): Next<T> => ({ kind: 'other', ok: true, value }),
    (error: unknown): Next<T> => ({ kind: 'other', ok: false, error }),
  );
  try {
    return await Promise.race([letter, settled]);
  } finally {
    decided = true;
    stop.abort(new DispatchError('failed', 'wait over'));
    linked.dispose();
    // The losing receive rejects with the abort (or the flow's cancellation): expected, not an error.
    letter.catch(() => {});
  }
}

/**
 * Takes `user` onto a call owned by this flow (preempting a lower-priority owner, dialling if idle) and
 * sets its end policy so that it returns where it came from: a user taken from another flow is let go
 * (`gc`) when this flow ends — that flow (a group call) takes it back — while a user this flow called
 * from nowhere is hung up.
 */
export async function takeParty(
  s: DispatchSession,
  user: User,
  options: CallUserOptions = {},
): Promise<void> {
  const before = user.owner;
  // `clear`: a user in a relation nobody owns (a bridge left by a finished flow) is freed of it first.
  await s.acquire(user, { clear: true });
  await s.call(user, options);
  s.setEndPolicy(user, before === undefined ? 'hangup' : 'gc');
}

/**
 * Refuses before anything changes when one of `users` is held by a flow that this one cannot preempt
 * (so a flow taking two users never takes the first and then fails on the second).
 */
export function ensureCanTake(s: DispatchSession, users: readonly User[]): void {
  for (const user of users) {
    const owner = user.owner;
    if (owner !== undefined && owner.id !== s.id && owner.priority >= s.priority) {
      throw new DispatchError(
        'busy',
        `user ${user.number} is in ${owner.name} (priority ${owner.priority}), which ${s.name} (priority ${s.priority}) cannot preempt`,
      );
    }
  }
}

/** The peer of `user` in a two-party call, or a `not-in-call` error. */
export function peerOf(user: User): User {
  const info = user.callInfo;
  if (user.state !== 'talking' || info?.kind !== 'p2p' || info.peer === undefined) {
    throw new DispatchError('not-in-call', `user ${user.number} is not in a two-party call`);
  }
  return info.peer;
}

/**
 * Awaits a relation (bridge, meet membership) to its end, treating an interruption (cancelled,
 * preempted) or the node's 410 (a party hung up) as its normal end.
 */
export async function settle(result: Promise<unknown>): Promise<void> {
  try {
    await result;
  } catch (err) {
    if (!isFlowInterruption(err) && !isCallGone(err)) throw err;
  }
}

/** True while `user` has an answered call. */
export function talking(user: User): boolean {
  return user.state === 'talking';
}
