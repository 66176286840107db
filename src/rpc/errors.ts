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

/** JSON-RPC error code of `rpc.segerr` (Megaco 459): a segmented answer stayed incomplete. */
export const SEGMENTS_MISSING_CODE = -32059;

/**
 * A segmented answer stayed incomplete: `segmentRecvTimer` ran out after the last segment with gaps
 * left. `missing` lists the segment numbers that never came; the responder was told (`rpc.segerr`).
 * The operation itself ran on the responder; only its answer is incomplete.
 */
export class SegmentsMissingError extends XccError {
  override readonly name = 'SegmentsMissingError';
  readonly missing: readonly number[];
  constructor(missing: readonly number[], options: XccErrorOptions = {}) {
    super(
      SEGMENTS_MISSING_CODE,
      `SEGMENTS_MISSING: segment${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of the answer never arrived`,
      options,
    );
    this.missing = missing;
  }
}
