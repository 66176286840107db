/**
 * The dispatch console's own failures, each with a stable wire `code`, and the mapping of any error a
 * command meets (flow runtime, ctrl SDK) to the `{code, message}` a reply carries.
 */
import { CallFailedError } from '../../src/protocol/index.js';
import {
  FlowCancelledError,
  MailboxClosedError,
  PreemptedError,
  PreemptionRefusedError,
  PreemptionSupersededError,
  UserUnavailableError,
} from '../../src/flow/index.js';

/** Error codes of replies (see README.md). */
export type DispatchErrorCode =
  | 'parse-error'
  | 'bad-request'
  | 'unknown-command'
  | 'not-found'
  | 'unsupported'
  | 'not-in-call'
  | 'busy'
  | 'call-failed'
  | 'user-unavailable'
  | 'preempted'
  | 'cancelled'
  | 'closed'
  | 'failed';

/** A failure the console reports with a specific code. */
export class DispatchError extends Error {
  override readonly name = 'DispatchError';
  readonly code: DispatchErrorCode;
  constructor(code: DispatchErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** What a failed reply carries. `cause` is the hangup cause of a failed call attempt. */
export interface ReplyError {
  code: DispatchErrorCode;
  message: string;
  cause?: string;
}

/** Maps any error to the reply's `{code, message}`. */
export function toReplyError(err: unknown): ReplyError {
  if (err instanceof DispatchError) return { code: err.code, message: err.message };
  if (err instanceof PreemptionRefusedError) return { code: 'busy', message: err.message };
  if (err instanceof CallFailedError) {
    const out: ReplyError = { code: 'call-failed', message: err.message };
    const cause = err.hangupCause;
    if (cause !== undefined) out.cause = cause;
    return out;
  }
  if (err instanceof UserUnavailableError) return { code: 'user-unavailable', message: err.message };
  if (err instanceof PreemptedError || err instanceof PreemptionSupersededError)
    return { code: 'preempted', message: err.message };
  if (err instanceof FlowCancelledError) return { code: 'cancelled', message: err.message };
  if (err instanceof MailboxClosedError) return { code: 'not-found', message: 'the session has ended' };
  return { code: 'failed', message: err instanceof Error ? err.message : String(err) };
}
