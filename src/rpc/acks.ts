/**
 * Transaction acknowledgements of the seed-004 layer (Megaco `TransactionAck`, §2.3, §3.1): ack modes
 * per method, `rpc.ack {originator, epoch, ranges:[[first,last],…]}` (serials of one epoch), the range
 * codec (1,2,3,4 → [1,4]), and `AckWaiters`, the responder's replies waiting for an ack: each is resent
 * on the legs of an incremental timer until acked, then reported as `ackTimeout`.
 */
import type { Clock } from '../clock/index.js';
import { type Logger, silentLogger } from '../protocol/logger.js';
import { type IncrementalTimer, LegTimer } from './timers.js';

/** Notification method of an acknowledgement: params `{originator, epoch, ranges: [[first, last], …]}`. */
export const ACK_METHOD = 'rpc.ack';

/**
 * How a responder treats acks for a method's final answers (Megaco `discard_ack` / `handle_ack` /
 * `handle_pending_ack`): `discard` asks for none; `require` asks for one on every final answer;
 * `ifProvisional` asks for one only if a provisional answer (100, 202, `rpc.progress`) went out first.
 */
export type AckMode = 'discard' | 'require' | 'ifProvisional';

/** Why a reply that asked for an ack never got one: the ack timer ran out, or `cancelAll()` / `stop()`. */
export type AckError = 'ackTimeout' | 'cancelled';

/** What `onAck` is told: `error` absent means the originator acknowledged. */
export interface AckInfo {
  readonly id: string;
  readonly method: string;
  readonly error?: AckError;
}

/** Result fields that ask for an ack (inside `result`, because the envelope keeps only `jsonrpc/id/result/error`). */
export const ACK_REQUIRED_FIELD = 'ack_required';
/** Result field naming the subject acks should go to (the responder's own subject). */
export const ACK_TO_FIELD = 'ack_to';

/** Default responder ack timer: resends at 1, 3, 7 s; `ackTimeout` at 15 s. */
export const DEFAULT_ACK_TIMER: IncrementalTimer = { waitMs: 1000, factor: 2, maxRetries: 3 };

/** Longest range one ack may cover; longer ones are rejected as a protocol violation (bounded work per ack). */
export const MAX_ACK_RANGE = 10_000;

const ACK_MODES: readonly string[] = ['discard', 'require', 'ifProvisional'];

/** True for a valid `AckMode`. */
export function isAckMode(value: unknown): value is AckMode {
  return typeof value === 'string' && ACK_MODES.includes(value);
}

/**
 * Sorts serials and compresses them into inclusive ranges.
 *
 * @example
 * compressSerials([4, 1, 2, 3, 9]); // [[1, 4], [9, 9]]
 */
export function compressSerials(serials: Iterable<number>): [number, number][] {
  const sorted = [...new Set(serials)].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const s of sorted) {
    const last = ranges.at(-1);
    if (last && s === last[1] + 1) last[1] = s;
    else ranges.push([s, s]);
  }
  return ranges;
}

/** A decoded `rpc.ack`: the valid ranges, and one line per rejected part. */
export interface ParsedAck {
  readonly originator: string;
  readonly epoch: string;
  readonly ranges: readonly [number, number][];
  readonly rejected: readonly string[];
}

/**
 * Checks `rpc.ack` params. Returns undefined (with `problem`) when originator/epoch/ranges are unusable;
 * otherwise the valid ranges and the rejected ones (first > last, non-integers, too long).
 */
export function parseAck(params: Record<string, unknown>): ParsedAck | { problem: string } {
  const { originator, epoch, ranges } = params;
  if (typeof originator !== 'string' || originator.length === 0 || originator.includes(':'))
    return { problem: 'rpc.ack: "originator" must be a non-empty string without ":"' };
  if (typeof epoch !== 'string' || epoch.length === 0 || epoch.includes(':'))
    return { problem: 'rpc.ack: "epoch" must be a non-empty string without ":"' };
  if (!Array.isArray(ranges)) return { problem: 'rpc.ack: "ranges" must be an array' };
  const valid: [number, number][] = [];
  const rejected: string[] = [];
  for (const range of ranges as unknown[]) {
    const text = JSON.stringify(range) ?? String(range);
    if (!Array.isArray(range) || range.length !== 2) {
      rejected.push(`${text}: not a [first, last] pair`);
      continue;
    }
    const [first, last] = range as [unknown, unknown];
    if (!isSerial(first) || !isSerial(last)) {
      rejected.push(`${text}: serials must be integers >= 1`);
      continue;
    }
    if (first > last) {
      rejected.push(`${text}: first > last`);
      continue;
    }
    if (last - first + 1 > MAX_ACK_RANGE) {
      rejected.push(`${text}: longer than ${MAX_ACK_RANGE}`);
      continue;
    }
    valid.push([first, last]);
  }
  return { originator, epoch, ranges: valid, rejected };
}

function isSerial(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

/**
 * Replies waiting for an ack, each with its own incremental timer: every intermediate leg resends the
 * reply, the final leg reports `ackTimeout`. Owns one Clock timer per waiting reply.
 *
 * @example
 * const waiters = new AckWaiters(clock, DEFAULT_ACK_TIMER, (info) => log(info));
 * waiters.wait(id, 'XNode.Dial', () => publish(bytes));
 * waiters.ack(id); // → onAck({id, method}) and the timer is gone
 */
export class AckWaiters {
  readonly #clock: Clock;
  readonly #timer: IncrementalTimer;
  readonly #onAck: (info: AckInfo) => void;
  readonly #logger: Logger;
  readonly #waiting = new Map<string, { method: string; timer: LegTimer }>();

  constructor(clock: Clock, timer: IncrementalTimer, onAck: (info: AckInfo) => void, logger?: Logger) {
    this.#clock = clock;
    this.#timer = timer;
    this.#onAck = onAck;
    this.#logger = logger ?? silentLogger;
  }

  /** Replies waiting for an ack. */
  get size(): number {
    return this.#waiting.size;
  }

  has(id: string): boolean {
    return this.#waiting.has(id);
  }

  /** Starts waiting for the ack of `id`; `resend` runs on every intermediate leg (it must not throw). */
  wait(id: string, method: string, resend: () => void): void {
    this.#waiting.get(id)?.timer.cancel();
    const timer = new LegTimer(this.#clock, this.#timer, (final) => {
      if (this.#waiting.get(id)?.timer !== timer) return;
      if (!final) {
        this.#logger.debug({ id, method }, 'rpc: reply not acked yet; resent');
        resend();
        return;
      }
      this.#waiting.delete(id);
      this.#logger.warn({ id, method }, 'rpc: reply never acked (ackTimeout)');
      this.#report({ id, method, error: 'ackTimeout' });
    });
    this.#waiting.set(id, { method, timer });
    timer.start();
  }

  /** The ack of `id` arrived: stops the timer and reports success. False if nothing waited. */
  ack(id: string): boolean {
    const waiting = this.#waiting.get(id);
    if (!waiting) return false;
    waiting.timer.cancel();
    this.#waiting.delete(id);
    this.#report({ id, method: waiting.method });
    return true;
  }

  /** Megaco `cancel`: every waiting reply is reported with `error` (default `cancelled`). Returns how many. */
  cancelAll(error: AckError = 'cancelled'): number {
    const all = [...this.#waiting];
    this.#waiting.clear();
    for (const [id, { method, timer }] of all) {
      timer.cancel();
      this.#report({ id, method, error });
    }
    return all.length;
  }

  #report(info: AckInfo): void {
    try {
      this.#onAck(info);
    } catch (err) {
      this.#logger.error({ err, id: info.id }, 'rpc: onAck threw');
    }
  }
}

/** What `applyAck` did with one `rpc.ack`. */
export interface AckOutcome {
  /** Entries acknowledged and forgotten. */
  cleared: number;
  /** Ids with no entry (never seen, expired, already acked): ignored. */
  unknown: number;
  /** Ids still being worked on: an ack before the reply is discarded. */
  early: number;
}

/** The part of the reply cache `applyAck` needs. */
export interface AckableCache {
  get(id: string): { readonly state: string } | undefined;
  delete(id: string): void;
}

/**
 * Applies the valid ranges of an ack (Megaco: expanded, each id handled on its own): a `done` entry is
 * forgotten and its waiter (if any) told `ok`; an `eval` entry is left alone (ack before the reply);
 * an unknown or aborted id is ignored.
 */
export function applyAck(ack: ParsedAck, cache: AckableCache, waiters: AckWaiters | undefined): AckOutcome {
  const outcome: AckOutcome = { cleared: 0, unknown: 0, early: 0 };
  for (const [first, last] of ack.ranges) {
    for (let serial = first; serial <= last; serial++) {
      const id = `${ack.originator}:${ack.epoch}:${serial}`;
      const entry = cache.get(id);
      if (entry?.state === 'done') {
        waiters?.ack(id);
        cache.delete(id);
        outcome.cleared += 1;
      } else if (entry?.state === 'eval') {
        outcome.early += 1;
      } else {
        outcome.unknown += 1;
      }
    }
  }
  return outcome;
}
