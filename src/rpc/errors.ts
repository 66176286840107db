/**
 * Errors of the seed-004 transaction layer: too many provisional answers, and a refused configuration.
 */
import { XccError, type XccErrorOptions } from '../protocol/errors.js';

/** JSON-RPC error code for "too many provisional answers" (Megaco 506, §3.2 `PENDING_LIMIT`). */
export const PENDING_LIMIT_CODE = -32050;

/**
 * A transaction passed its pending limit: the responder sent `PENDING_LIMIT` (it saw too many
 * duplicates while working), or the originator received more provisional answers than it accepts.
 * The outcome on the responder is unknown.
 */
export class PendingLimitError extends XccError {
  override readonly name = 'PendingLimitError';
  constructor(message: string, options: XccErrorOptions = {}) {
    super(PENDING_LIMIT_CODE, message, options);
  }
}

/** A reliability configuration that cannot work (e.g. a reply cache TTL shorter than the resend window). */
export class RpcConfigError extends Error {
  override readonly name = 'RpcConfigError';
  /** One line per problem, each naming the option path. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid rpc reliability config: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
