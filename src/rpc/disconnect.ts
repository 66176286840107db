/**
 * The originator's connection-loss policy (§2.6, §3.3): `keep` (default, Megaco engine) keeps every
 * transaction and its timers across a disconnect; `cancel` fails everything in flight with
 * `DisconnectedError` when the bus reports a disconnect.
 */
import { XccError, type XccErrorOptions } from '../protocol/errors.js';

export type DisconnectPolicy = 'keep' | 'cancel';

/** Error code of `DisconnectedError` (JSON-RPC server-error range, next to PENDING_LIMIT -32050). */
export const DISCONNECTED_CODE = -32051;

/**
 * A call failed because the bus lost its connection and the policy is `onDisconnect: 'cancel'`. The
 * outcome on the responder is unknown.
 */
export class DisconnectedError extends XccError {
  override readonly name = 'DisconnectedError';
  /** The §3.3 code name. */
  readonly codeName = 'DISCONNECTED';
  constructor(
    message = 'bus disconnected; the outcome on the node is unknown',
    options: XccErrorOptions = {},
  ) {
    super(DISCONNECTED_CODE, message, options);
  }
}
