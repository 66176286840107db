/**
 * Configuration of the seed-004 transaction layer for both ends, its defaults (§3.2), the rule that
 * ties them together (reply cache TTL >= the originator's whole resend window) and transaction ids
 * `<originator>:<epoch>:<serial>`.
 */
import { randomBytes } from 'node:crypto';
import type { ResponderClaims } from './claims.js';
import type { AckInfo, AckMode } from './acks.js';
import type { DisconnectPolicy } from './disconnect.js';
import { RpcConfigError } from './errors.js';
import { type SegmentationOptions, segmentationProblems } from './segment.js';
import {
  DEFAULT_LONG_REQUEST_TIMER,
  DEFAULT_REQUEST_TIMER,
  type IncrementalTimer,
  timerProblems,
  timerWindowMs,
} from './timers.js';
import type { TransSender, TransSenderOptions } from './trans-sender.js';
import { originatorExtraProblems, responderExtraProblems } from './transaction-options.js';

/** Default limit of provisional answers per transaction, at both ends (§3.2). */
export const DEFAULT_PENDING_LIMIT = 20;
/** Default reply cache TTL: above the default originator window (7.5 s + 35 s + transit). */
export const DEFAULT_REPLY_CACHE_TTL_MS = 60_000;
/** Default allowance for transit time in the TTL rule. */
export const DEFAULT_TRANSIT_MS = 1000;

/** Originator (RpcClient) reliability options. */
export interface OriginatorReliability {
  /** Who we are in transaction ids; must not contain ':'. Usually the ctrl uuid. */
  originator: string;
  /** Epoch part of ids. Default: fresh per client instance (time + random), so a restart never reuses ids. */
  epoch?: string;
  /** Resend timer before any provisional answer. Default `DEFAULT_REQUEST_TIMER` (500 ms ×2, 3 retries). */
  requestTimer?: IncrementalTimer;
  /** Timer after a provisional answer. Default `DEFAULT_LONG_REQUEST_TIMER` (5 s ×1, 6 retries). */
  longRequestTimer?: IncrementalTimer;
  /** Keep resending (same bytes) on long-timer legs, in case the final answer is lost. Default true. */
  longRequestResend?: boolean;
  /** Provisional answers accepted per call; one more fails it with `PendingLimitError`. Default 20. */
  recvPendingLimit?: number;
  /**
   * Transaction sender (§2.4): requests and acks to the same subject are packed into JSON-RPC batches.
   * Options, or a `TransSender` shared with an `RpcServer` of the same process. Default: off.
   */
  batching?: TransSenderOptions | TransSender;
  /** Connection loss: `keep` (default) keeps timers; `cancel` fails every call with `DisconnectedError`. */
  onDisconnect?: DisconnectPolicy;
  /**
   * The peer a subject names, for the wrong-peer check (§3.5 case 5): a final answer whose
   * `result.node_uuid` names another peer goes to `onUnexpected` with reason `WRONG_PEER`. Default: the
   * last token after `.node.` (`cn.xswitch.node.<uuid>`); a queue-group subject names no peer.
   */
  peerOf?: (subject: string) => string | undefined;
  /**
   * Segmented answers (§2.5): how long after the last segment a gap may stay open (restarted by each
   * new segment) before the call fails with `SegmentsMissingError`. Default 2000 ms.
   */
  segmentRecvTimerMs?: number;
}

/** What an originator's timers look like to a responder's config check. */
export interface OriginatorTimers {
  requestTimer?: IncrementalTimer;
  longRequestTimer?: IncrementalTimer;
}

/** Responder (RpcServer) reliability options. */
export interface ResponderReliability {
  /** How long a final answer stays cached after it was sent. Default 60 s. Must cover `originator`'s window. */
  replyCacheTtlMs?: number;
  /** Provisional 100s sent to duplicates of one request; one more → `-32050 PENDING_LIMIT`. Default 20. */
  sentPendingLimit?: number;
  /** The timers of the originators we serve (for the TTL rule). Default: the §3.2 defaults. */
  originator?: OriginatorTimers;
  /** Transit allowance in the TTL rule. Default 1000 ms. */
  transitMs?: number;
  /**
   * Called when a request with a transaction id starts executing (not for duplicates answered from the
   * cache): what tests and the chaos soak count to prove nothing ran twice.
   */
  onExecute?: (info: { id: string; method: string }) => void;
  /** Called when a request is aborted because its duplicates passed the pending limit. */
  onAbort?: (info: { id: string; method: string }) => void;
  /**
   * Queue groups (§3.5 case 15): claim each request with a transaction id that arrives on a queue-group
   * subscription in a store shared by the group; a member that loses forwards it to the owner. See
   * `src/rpc/claims.ts`. Default: off (the reply cache is per server).
   */
  claims?: ResponderClaims;
  /**
   * Progress on its own (§3.3, case 16): a handler working longer than this gets `rpc.progress
   * {id, status: 100}` at incremental intervals, counted against `sentPendingLimit`. `true` uses
   * `DEFAULT_PENDING_TIMER` (200 ms ×2). Must be shorter than the originator's `requestTimer.waitMs`.
   * Default: off.
   */
  pendingTimer?: IncrementalTimer | boolean;
  /** Ack mode for every method, or per method name (others `discard`). Default `discard`. */
  ackMode?: AckMode | Readonly<Record<string, AckMode>>;
  /** Resend legs of a reply waiting for an ack; the final leg reports `ackTimeout`. Default 1 s ×2, 3 retries. */
  ackTimer?: IncrementalTimer;
  /** Ack outcome of a reply that asked for one: `{id, method}` acked, or with `error`. */
  onAck?: (info: AckInfo) => void;
  /** Subject acks are asked to go to (`result.ack_to`). Default: the first subject without a queue group. */
  ackSubject?: string;
  /** Transaction sender for replies and progress (stored items of a shared sender ride along). Default: off. */
  batching?: TransSenderOptions | TransSender;
  /** Split final answers above the payload limit into acknowledged segments (§2.5). Default: off. */
  segmentation?: SegmentationOptions;
}

/**
 * The longest an originator with these timers can keep resending one request: the short window plus
 * the long window (conservative: a request in the long phase resends at most one long window after
 * the last provisional answer, which the responder sends before its final answer).
 */
export function originatorWindowMs(timers: OriginatorTimers = {}): number {
  return (
    timerWindowMs(timers.requestTimer ?? DEFAULT_REQUEST_TIMER) +
    timerWindowMs(timers.longRequestTimer ?? DEFAULT_LONG_REQUEST_TIMER)
  );
}

/** Checks originator options; throws `RpcConfigError` naming every bad field. */
export function validateOriginatorReliability(options: OriginatorReliability): void {
  const problems: string[] = [];
  if (options.originator.length === 0 || options.originator.includes(':'))
    problems.push('reliability.originator: expected a non-empty string without ":"');
  if (options.epoch !== undefined && (options.epoch.length === 0 || options.epoch.includes(':')))
    problems.push('reliability.epoch: expected a non-empty string without ":"');
  problems.push(...timerProblems('reliability.requestTimer', options.requestTimer ?? DEFAULT_REQUEST_TIMER));
  problems.push(
    ...timerProblems('reliability.longRequestTimer', options.longRequestTimer ?? DEFAULT_LONG_REQUEST_TIMER),
  );
  const limit = options.recvPendingLimit ?? DEFAULT_PENDING_LIMIT;
  if (!(Number.isInteger(limit) && limit >= 0))
    problems.push('reliability.recvPendingLimit: expected an integer >= 0');
  problems.push(...originatorExtraProblems(options));
  const recv = options.segmentRecvTimerMs;
  if (recv !== undefined && !(Number.isFinite(recv) && recv > 0))
    problems.push('reliability.segmentRecvTimerMs: expected a number > 0');
  if (problems.length > 0) throw new RpcConfigError(problems);
}

/**
 * Checks responder options; throws `RpcConfigError` naming every bad field. In particular the reply
 * cache TTL must be at least the originator's whole resend window plus transit: a shorter TTL would
 * let a late resend run the handler a second time.
 */
export function validateResponderReliability(options: ResponderReliability): void {
  const problems: string[] = [];
  const ttl = options.replyCacheTtlMs ?? DEFAULT_REPLY_CACHE_TTL_MS;
  const transit = options.transitMs ?? DEFAULT_TRANSIT_MS;
  const limit = options.sentPendingLimit ?? DEFAULT_PENDING_LIMIT;
  if (!(Number.isFinite(ttl) && ttl > 0)) problems.push('reliability.replyCacheTtlMs: expected a number > 0');
  if (!(Number.isFinite(transit) && transit >= 0))
    problems.push('reliability.transitMs: expected a number >= 0');
  if (!(Number.isInteger(limit) && limit >= 0))
    problems.push('reliability.sentPendingLimit: expected an integer >= 0');
  const timers = options.originator ?? {};
  const timerIssues = [
    ...timerProblems('reliability.originator.requestTimer', timers.requestTimer ?? DEFAULT_REQUEST_TIMER),
    ...timerProblems(
      'reliability.originator.longRequestTimer',
      timers.longRequestTimer ?? DEFAULT_LONG_REQUEST_TIMER,
    ),
  ];
  problems.push(...timerIssues);
  problems.push(...responderExtraProblems(options));
  if (options.segmentation) problems.push(...segmentationProblems(options.segmentation));
  if (problems.length === 0) {
    const needed = originatorWindowMs(timers) + transit;
    if (ttl < needed) {
      problems.push(
        Number.isFinite(needed)
          ? `reliability.replyCacheTtlMs: ${ttl} ms is shorter than the originator's resend window plus transit (${needed} ms)`
          : `reliability.replyCacheTtlMs: the originator's timers never end (maxRetries 'infinity'), no TTL covers them`,
      );
    }
  }
  if (problems.length > 0) throw new RpcConfigError(problems);
}

/** A fresh epoch: wall time (base36) and a random part, so two starts in the same ms still differ. */
export function newEpoch(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Transaction id generator: `<originator>:<epoch>:<serial>`, serial from 1.
 *
 * @example
 * const ids = transactionIds('c1', 'e1');
 * ids(); // 'c1:e1:1'
 */
export function transactionIds(originator: string, epoch: string): () => string {
  let serial = 0;
  return () => `${originator}:${epoch}:${++serial}`;
}

/** Splits a transaction id; undefined if it does not have the three parts and an integer serial. */
export function parseTransactionId(
  id: string,
): { originator: string; epoch: string; serial: number } | undefined {
  const parts = id.split(':');
  if (parts.length !== 3) return undefined;
  const [originator, epoch, serialText] = parts as [string, string, string];
  const serial = Number(serialText);
  if (!originator || !epoch || !/^[1-9][0-9]*$/.test(serialText) || !Number.isSafeInteger(serial))
    return undefined;
  return { originator, epoch, serial };
}
