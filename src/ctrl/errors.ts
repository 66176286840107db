/**
 * Controller-side errors. Every abort of a call's flow carries a `FlowCancelledError` naming why, so
 * a flow (and its logs) can tell a hangup from a reap, a takeover or a controller shutdown, while
 * `isCancellation(err)` stays the one check for "this was cancelled".
 */
import { CancelledError, type XccErrorOptions } from '../protocol/errors.js';

/**
 * Why a call's flow was cancelled.
 * - `destroyed`: the channel ended (DESTROY event).
 * - `node-lost`: the node expired or unregistered without reporting the end of the call.
 * - `max-lifetime`: the call outlived `maxChannelLifetimeMs` (garbage collection).
 * - `controller-closed`: `Controller.close()`.
 * - `taken-over`: another controller took the call over (a 419 on a call we controlled).
 * - `flow-ended`: the flow returned; anything still running under its signal is stopped.
 */
export type CancelReason =
  | 'destroyed'
  | 'node-lost'
  | 'max-lifetime'
  | 'controller-closed'
  | 'taken-over'
  | 'flow-ended';

/** The abort reason of a call's signal. `isCancellation()` is true for it. */
export class FlowCancelledError extends CancelledError {
  readonly reason: CancelReason;

  constructor(reason: CancelReason, options: XccErrorOptions = {}) {
    super(`call flow cancelled: ${reason}`, options);
    this.reason = reason;
  }
}

/** The controller was used before `start()` or after `close()`. */
export class ControllerStateError extends Error {
  override readonly name = 'ControllerStateError';
}
