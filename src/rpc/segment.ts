/**
 * Segmentation of large final answers (seed 004 §2.5, Megaco v3 segments; cases 23–25 of §3.5).
 *
 * Pure half: `splitResult` cuts a final `result` into segment Responses that each fit a byte limit, and
 * `Reassembly` puts them back together whatever order they come in. Stateful half: `SegmentSender`
 * (responder: a window of unacknowledged segments, `rpc.segack` / `rpc.segerr` received on its own
 * inbox) and `SegmentReceiver` (originator: acks every segment, reassembles, runs `segmentRecvTimer`).
 *
 * A segment is an ordinary JSON-RPC Response whose `result` is a provisional wrapper (the envelope
 * decoder keeps only `jsonrpc/id/result/error`, so the metadata rides inside `result`):
 *
 * ```json
 * {"jsonrpc":"2.0","id":"c1:e1:7","result":{"code":100,"message":"Segment",
 *   "segment":{"n":3,"of":3,"last":true,"ack_to":"_INBOX.x","split":"items","field":"actions"},
 *   "part":[…]}}
 * ```
 *
 * `code` 100 means an originator that knows nothing of segments takes each one for a provisional
 * answer and never for the final result.
 */
import type { Bus, BusMsg, Subscription } from '../bus/index.js';
import type { Clock, Timer } from '../clock/index.js';
import { Code, RpcErrorCode } from '../protocol/codes.js';
import { DEFAULT_MAX_MESSAGE_BYTES, decode, encode, request, resultResponse } from '../protocol/envelope.js';
import { JsonRpcError } from '../protocol/errors.js';
import { type Logger, silentLogger } from '../protocol/logger.js';
import { SEGMENTS_MISSING_CODE, SegmentsMissingError } from './errors.js';

/** Originator → responder: segment `n` arrived (also for duplicates), or `n: 'all'` when 1..N are complete. */
export const SEGACK_METHOD = 'rpc.segack';
/** Originator → responder: `segmentRecvTimer` ran out with gaps, params `{id, missing, code, message}`. */
export const SEGERR_METHOD = 'rpc.segerr';
/** `result.message` of a segment. */
export const SEGMENT_MESSAGE = 'Segment';
/** Default `segmentRecvTimer` (§3.2): 2 s. */
export const DEFAULT_SEGMENT_RECV_TIMER_MS = 2000;
/** Smallest accepted `maxPayloadBytes`: room for the wrapper, the id and the ack subject. */
export const MIN_SEGMENT_BYTES = 256;

/** Responder options (`ResponderReliability.segmentation`); presence turns segmentation on. */
export interface SegmentationOptions {
  /**
   * Largest encoded segment, and the size above which a final answer is segmented. Default: the bus's
   * `maxPayload` at send time, capped at 1 MiB (the largest message an `RpcClient` decodes).
   */
  maxPayloadBytes?: number;
  /** Unacknowledged segments in flight per answer (Megaco `segment_send`): an integer >= 1 or 'all' (default). */
  segmentSend?: number | 'all';
  /** Called when an originator reports `SEGMENTS_MISSING` (`rpc.segerr`) for one of our answers. */
  onSegmentError?: (info: { id: string; missing: number[] }) => void;
}

/** `result.segment` of a segment Response. */
export interface SegmentInfo {
  /** 1-based segment number. */
  n: number;
  /** Number of segments; only on the last one. */
  of?: number;
  /** Only on the last segment. */
  last?: true;
  /** Where `rpc.segack` / `rpc.segerr` go (the responder's segment inbox). */
  ack_to: string;
  /** `items`: whole items of the array `field`; `text`: byte ranges of the encoded result. */
  split: 'items' | 'text';
  /** The array field split (items mode). */
  field?: string;
}

/** Problems of a segmentation config, one line each naming the option path. */
export function segmentationProblems(
  options: SegmentationOptions,
  path = 'reliability.segmentation',
): string[] {
  const problems: string[] = [];
  const max = options.maxPayloadBytes;
  if (max !== undefined && !(Number.isInteger(max) && max >= MIN_SEGMENT_BYTES))
    problems.push(`${path}.maxPayloadBytes: expected an integer >= ${MIN_SEGMENT_BYTES}`);
  const k = options.segmentSend;
  if (k !== undefined && k !== 'all' && !(Number.isInteger(k) && k >= 1))
    problems.push(`${path}.segmentSend: expected an integer >= 1 or 'all'`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Pure: split and reassemble

const encoder = new TextEncoder();
const utf8 = (s: string): number => encoder.encode(s).byteLength;
/** Upper bound of a segment number in size estimates (9 digits). */
const WORST_N = 999_999_999;

/** Bytes of one segment Response. */
function segmentBytes(id: string, info: SegmentInfo, part: unknown): Uint8Array {
  return encode(resultResponse(id, { code: Code.Trying, message: SEGMENT_MESSAGE, segment: info, part }));
}

/**
 * Splits a final `result` into encoded segment Responses of at most `maxBytes` each.
 *
 * - **items**, when the result has an array field that is the bulk: the largest array field (by
 *   encoded size) is used if the rest of the result fits in one segment and every item fits in a
 *   segment of its own. Segment 1 carries the result with a first slice of that array; each later
 *   segment carries the next slice (a JSON array). Segments hold as many whole items as fit, so a
 *   segment boundary is always an item boundary (Megaco: one segment per action reply).
 * - **text** otherwise: the result's JSON text is cut into consecutive pieces (never inside a UTF-16
 *   surrogate pair), each carried as a JSON string; the receiver concatenates and parses them.
 *
 * @throws RangeError if `maxBytes` cannot hold even the wrapper.
 * @example
 * const segments = splitResult('c1:e1:7', { code: 200, message: 'OK', actions }, { maxBytes: 4096, ackTo });
 */
export function splitResult(
  id: string,
  result: Record<string, unknown>,
  options: { maxBytes: number; ackTo: string },
): Uint8Array[] {
  const { maxBytes, ackTo } = options;
  const worst = (split: 'items' | 'text', field?: string): SegmentInfo => ({
    n: WORST_N,
    of: WORST_N,
    last: true,
    ack_to: ackTo,
    split,
    ...(field === undefined ? {} : { field }),
  });
  const pieces = splitItems(id, result, maxBytes, worst) ?? splitText(id, result, maxBytes, worst('text'));
  const of = pieces.parts.length;
  return pieces.parts.map((part, i) => {
    const n = i + 1;
    const info: SegmentInfo = {
      n,
      ...(n === of ? { of, last: true as const } : {}),
      ack_to: ackTo,
      split: pieces.split,
      ...(pieces.field === undefined ? {} : { field: pieces.field }),
    };
    const bytes = segmentBytes(id, info, part);
    // The sizes above are exact upper bounds; this guards the arithmetic, not the input.
    if (bytes.byteLength > maxBytes)
      throw new Error(`segment ${n} is ${bytes.byteLength} bytes > ${maxBytes}`);
    return bytes;
  });
}

interface Pieces {
  split: 'items' | 'text';
  field?: string;
  parts: unknown[];
}

function splitItems(
  id: string,
  result: Record<string, unknown>,
  maxBytes: number,
  worst: (split: 'items', field: string) => SegmentInfo,
): Pieces | undefined {
  let field: string | undefined;
  let items: unknown[] = [];
  let itemSizes: number[] = [];
  let bulk = -1;
  for (const [key, value] of Object.entries(result)) {
    if (!Array.isArray(value) || value.length === 0) continue;
    const sizes = value.map((item) => utf8(JSON.stringify(item) ?? 'null'));
    const size = sizes.reduce((a, b) => a + b, 0);
    if (size > bulk) {
      bulk = size;
      field = key;
      items = value;
      itemSizes = sizes;
    }
  }
  if (field === undefined) return undefined;
  const info = worst('items', field);
  const head = { ...result, [field]: [] };
  const headBase = segmentBytes(id, info, head).byteLength;
  const restBase = segmentBytes(id, info, []).byteLength;
  if (headBase > maxBytes || itemSizes.some((s) => restBase + s > maxBytes)) return undefined;
  const parts: unknown[] = [];
  let slice: unknown[] = [];
  let used = headBase;
  const flush = (): void => {
    parts.push(parts.length === 0 ? { ...result, [field]: slice } : slice);
    slice = [];
    used = restBase;
  };
  items.forEach((item, i) => {
    // Each item adds its bytes plus a comma after the first one.
    const size = (itemSizes[i] as number) + (slice.length > 0 ? 1 : 0);
    if (used + size > maxBytes) flush();
    used += (itemSizes[i] as number) + (slice.length > 0 ? 1 : 0);
    slice.push(item);
  });
  flush();
  return { split: 'items', field, parts };
}

/** Bytes a UTF-16 code unit (or pair, 2 units) takes inside a JSON string, and how many units it is. */
function escapedAt(text: string, i: number): { bytes: number; units: number } {
  const c = text.charCodeAt(i);
  if (c === 0x22 || c === 0x5c) return { bytes: 2, units: 1 };
  if (c < 0x20) return { bytes: c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6, units: 1 };
  if (c < 0x80) return { bytes: 1, units: 1 };
  if (c < 0x800) return { bytes: 2, units: 1 };
  if (c >= 0xd800 && c <= 0xdbff) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return { bytes: 4, units: 2 };
    return { bytes: 6, units: 1 };
  }
  if (c >= 0xdc00 && c <= 0xdfff) return { bytes: 6, units: 1 };
  return { bytes: 3, units: 1 };
}

function splitText(id: string, result: Record<string, unknown>, maxBytes: number, info: SegmentInfo): Pieces {
  const text = JSON.stringify(result);
  const budget = maxBytes - segmentBytes(id, info, '').byteLength;
  if (budget < 6) throw new RangeError(`maxPayloadBytes ${maxBytes} leaves no room for segment content`);
  const parts: string[] = [];
  let start = 0;
  let used = 0;
  let i = 0;
  while (i < text.length) {
    const { bytes, units } = escapedAt(text, i);
    if (used + bytes > budget) {
      parts.push(text.slice(start, i));
      start = i;
      used = 0;
    }
    used += bytes;
    i += units;
  }
  parts.push(text.slice(start));
  return { split: 'text', parts };
}

/** A segment Response's `result`, checked. */
export interface ParsedSegment {
  info: SegmentInfo;
  part: unknown;
}

/** True when a `result` is a segment wrapper (code 100 with a `segment` object). */
export function isSegmentResult(result: Record<string, unknown>): boolean {
  return result.code === Code.Trying && typeof result.segment === 'object' && result.segment !== null;
}

/** Checks a segment wrapper; returns the problem as a string when it is malformed. */
export function parseSegment(result: Record<string, unknown>): ParsedSegment | string {
  const s = result.segment;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return 'segment must be an object';
  const { n, of, last, ack_to: ackTo, split, field } = s as Record<string, unknown>;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) return 'segment.n must be an integer >= 1';
  if (typeof ackTo !== 'string' || ackTo.length === 0) return 'segment.ack_to must be a non-empty string';
  if (split !== 'items' && split !== 'text') return 'segment.split must be "items" or "text"';
  if (split === 'items' && (typeof field !== 'string' || field.length === 0))
    return 'segment.field must name the split array';
  if (last !== undefined && last !== true) return 'segment.last must be true when present';
  if (last === true && of !== n) return 'segment.of must equal n on the last segment';
  if (last === undefined && of !== undefined) return 'segment.of is only allowed on the last segment';
  const part = result.part;
  if (split === 'text' && typeof part !== 'string') return 'part must be a string in text mode';
  if (split === 'items') {
    if (n === 1) {
      const head = part as Record<string, unknown> | null;
      if (
        typeof head !== 'object' ||
        head === null ||
        Array.isArray(head) ||
        !Array.isArray(head[field as string])
      )
        return `part of segment 1 must be an object with the array "${field as string}"`;
    } else if (!Array.isArray(part)) return 'part must be an array in items mode';
  }
  const info: SegmentInfo = { n, ack_to: ackTo, split, ...(last === true ? { of: n, last } : {}) };
  if (split === 'items') info.field = field as string;
  return { info, part };
}

/**
 * The segments of one answer as they arrive: in any order, duplicates recognised, gaps listed.
 *
 * @example
 * const r = new Reassembly();
 * r.add(info3, part3); r.add(info1, part1); r.add(info2, part2);
 * if (r.complete) result = r.assemble();
 */
export class Reassembly {
  readonly #parts = new Map<number, unknown>();
  #of: number | undefined;
  #split: 'items' | 'text' | undefined;
  #field: string | undefined;

  /** The number of segments, once the last one arrived. */
  get of(): number | undefined {
    return this.#of;
  }

  /** Segments held. */
  get size(): number {
    return this.#parts.size;
  }

  /** True when 1..N are all here (N known from the last segment). */
  get complete(): boolean {
    return this.#of !== undefined && this.#parts.size === this.#of;
  }

  /**
   * Adds a segment. `duplicate` when that number is already held (the first copy stays). Returns the
   * problem as a string when the segment contradicts the ones before (another split, another count,
   * a number past the last).
   */
  add(info: SegmentInfo, part: unknown): 'new' | 'duplicate' | string {
    if (this.#split === undefined) {
      this.#split = info.split;
      this.#field = info.field;
    } else if (info.split !== this.#split || info.field !== this.#field) {
      return 'segments disagree on how the answer was split';
    }
    if (info.of !== undefined) {
      if (this.#of !== undefined && this.#of !== info.of)
        return 'segments disagree on the number of segments';
      const beyond = [...this.#parts.keys()].find((k) => k > (info.of as number));
      if (beyond !== undefined) return `segment ${beyond} is past the last segment ${info.of}`;
      this.#of = info.of;
    } else if (this.#of !== undefined && info.n > this.#of) {
      return `segment ${info.n} is past the last segment ${this.#of}`;
    }
    if (this.#parts.has(info.n)) return 'duplicate';
    this.#parts.set(info.n, part);
    return 'new';
  }

  /** Numbers not held, from 1 to N (or to the highest held while N is unknown). */
  missing(): number[] {
    const top = this.#of ?? Math.max(0, ...this.#parts.keys());
    const gaps: number[] = [];
    for (let n = 1; n <= top; n++) if (!this.#parts.has(n)) gaps.push(n);
    return gaps;
  }

  /**
   * The original result. Call only when `complete`.
   * @throws Error when the pieces do not make a result object (text mode: invalid JSON).
   */
  assemble(): Record<string, unknown> {
    const of = this.#of;
    if (of === undefined || !this.complete) throw new Error('reassembly is not complete');
    const ordered = Array.from({ length: of }, (_, i) => this.#parts.get(i + 1));
    if (this.#split === 'text') {
      const value: unknown = JSON.parse((ordered as string[]).join(''));
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('reassembled text is not a JSON object');
      return value as Record<string, unknown>;
    }
    const field = this.#field as string;
    const head = ordered[0] as Record<string, unknown>;
    const items = (head[field] as unknown[]).concat(...(ordered.slice(1) as unknown[][]));
    return { ...head, [field]: items };
  }
}

// ---------------------------------------------------------------------------------------------------
// Responder: SegmentSender

interface Outgoing {
  subject: string;
  readonly segments: readonly Uint8Array[];
  /** Segments 1..sent went out at least once. */
  sent: number;
  /** Acknowledged segment numbers (each <= sent). */
  readonly acked: Set<number>;
  readonly hold: Timer;
}

/**
 * The responder's half: sends an oversize final answer as segments, at most `segmentSend` of them
 * unacknowledged, releasing one more per `rpc.segack`. Acks come to its own inbox (`ack_to`). An
 * answer is forgotten when every segment (or `n: 'all'`) was acked, on `rpc.segerr`, or `holdMs` after
 * it was first sent.
 *
 * @example
 * const sender = new SegmentSender(bus, clock, { segmentSend: 4, holdMs: 60_000 });
 * sender.start();
 * if (!sender.send(subject, id, bytes)) bus.publish(subject, bytes); // small answers go as they are
 */
export class SegmentSender {
  readonly #bus: Bus;
  readonly #clock: Clock;
  readonly #options: SegmentationOptions;
  readonly #holdMs: number;
  readonly #logger: Logger;
  readonly #out = new Map<string, Outgoing>();
  #sub: Subscription | undefined;
  #ackTo: string | undefined;

  constructor(
    bus: Bus,
    clock: Clock,
    options: SegmentationOptions & { holdMs: number; logger?: Logger | undefined },
  ) {
    this.#bus = bus;
    this.#clock = clock;
    this.#options = options;
    this.#holdMs = options.holdMs;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Segmented answers still held (sending or waiting for acks). */
  get active(): number {
    return this.#out.size;
  }

  /** The limit in force now: the option, else the bus's max payload capped at 1 MiB. */
  get maxBytes(): number {
    return this.#options.maxPayloadBytes ?? Math.min(this.#bus.maxPayload, DEFAULT_MAX_MESSAGE_BYTES);
  }

  /** Subscribes the ack inbox. Idempotent. */
  start(): void {
    if (this.#sub) return;
    this.#ackTo = this.#bus.inbox();
    this.#sub = this.#bus.subscribe(this.#ackTo, { callback: (msg) => this.#onAck(msg) });
  }

  /** Unsubscribes and forgets every answer (their timers too). */
  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#ackTo = undefined;
    for (const out of this.#out.values()) out.hold.cancel();
    this.#out.clear();
  }

  /**
   * Sends the final answer `bytes` for `id` to `subject` as segments if it is larger than the limit.
   * Returns false when the caller should publish `bytes` itself: it fits, it is not a result Response
   * (error answers are small), or the sender is not started. A repeated call for an answer still held
   * (a duplicate request) resends the segments sent and not yet acked, then goes on with the window.
   */
  send(subject: string, id: string, bytes: Uint8Array): boolean {
    const maxBytes = this.maxBytes;
    const ackTo = this.#ackTo;
    if (bytes.byteLength <= maxBytes || ackTo === undefined) return false;
    const held = this.#out.get(id);
    if (held) {
      held.subject = subject;
      for (let n = 1; n <= held.sent; n++) if (!held.acked.has(n)) this.#publish(id, held, n);
      this.#pump(id, held);
      return true;
    }
    let segments: Uint8Array[];
    try {
      const decoded = decode(bytes, Number.POSITIVE_INFINITY);
      if (decoded.kind !== 'response' || !('result' in decoded.message)) return false;
      segments = splitResult(id, decoded.message.result, { maxBytes, ackTo });
    } catch (err) {
      this.#logger.error({ err, id }, 'rpc: could not segment an oversize answer');
      return false;
    }
    const hold = this.#clock.setTimeout(() => {
      this.#out.delete(id);
      this.#logger.warn({ id }, 'rpc: segmented answer never fully acknowledged; forgotten');
    }, this.#holdMs);
    const out: Outgoing = { subject, segments, sent: 0, acked: new Set(), hold };
    this.#out.set(id, out);
    this.#logger.debug({ id, bytes: bytes.byteLength, segments: segments.length }, 'rpc: answer segmented');
    this.#pump(id, out);
    return true;
  }

  /** Sends further segments while fewer than `segmentSend` are unacknowledged. */
  #pump(id: string, out: Outgoing): void {
    const k = this.#options.segmentSend ?? 'all';
    const window = k === 'all' ? Number.POSITIVE_INFINITY : k;
    while (out.sent < out.segments.length && out.sent - out.acked.size < window) {
      out.sent += 1;
      this.#publish(id, out, out.sent);
    }
  }

  #publish(id: string, out: Outgoing, n: number): void {
    try {
      this.#bus.publish(out.subject, out.segments[n - 1] as Uint8Array);
    } catch (err) {
      this.#logger.warn({ err, id, n, subject: out.subject }, 'rpc: could not send a segment');
    }
  }

  #release(id: string): void {
    const out = this.#out.get(id);
    if (!out) return;
    out.hold.cancel();
    this.#out.delete(id);
  }

  #onAck(msg: BusMsg): void {
    const decoded = decode(msg.data);
    if (decoded.kind !== 'notification') {
      this.#logger.warn({ subject: msg.subject, kind: decoded.kind }, 'rpc: not a segment ack; ignored');
      return;
    }
    const { method, params = {} } = decoded.message;
    const id = params.id;
    if (typeof id !== 'string') {
      this.#logger.warn({ method, params }, 'rpc: segment ack without a string id; ignored');
      return;
    }
    const out = this.#out.get(id);
    if (!out) {
      this.#logger.debug({ method, id }, 'rpc: segment ack for an answer no longer held');
      return;
    }
    if (method === SEGERR_METHOD) {
      const missing = Array.isArray(params.missing)
        ? params.missing.filter((n): n is number => typeof n === 'number')
        : [];
      this.#release(id);
      this.#logger.warn({ id, missing }, 'rpc: originator reports SEGMENTS_MISSING');
      try {
        this.#options.onSegmentError?.({ id, missing });
      } catch (err) {
        this.#logger.error({ err, id }, 'rpc: onSegmentError threw');
      }
      return;
    }
    if (method !== SEGACK_METHOD) {
      this.#logger.warn({ method, id }, 'rpc: unknown method on the segment inbox; ignored');
      return;
    }
    const n = params.n;
    if (n === 'all') {
      this.#release(id);
      return;
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > out.sent) {
      this.#logger.warn({ id, n, sent: out.sent }, 'rpc: segment ack for a segment not sent; ignored');
      return;
    }
    out.acked.add(n);
    if (out.acked.size === out.segments.length) {
      this.#release(id);
      return;
    }
    this.#pump(id, out);
  }
}

// ---------------------------------------------------------------------------------------------------
// Originator: SegmentReceiver

/** What the receiver does to the call a segmented answer belongs to. */
export interface SegmentSink {
  readonly method: string;
  /** The first segment arrived: it acts as a provisional answer (the request timer stops). */
  first(): void;
  /** 1..N are complete: the reassembled result. */
  deliver(result: Record<string, unknown>): void;
  /** The answer cannot be completed (`SegmentsMissingError`, or a `JsonRpcError` for malformed segments). */
  fail(err: unknown): void;
}

interface Incoming {
  readonly assembly: Reassembly;
  ackTo: string;
  timer: Timer | undefined;
}

/**
 * The originator's half: acks every segment to its `ack_to` (duplicates too), keeps each number once,
 * delivers the reassembled result when 1..N are here and then sends `rpc.segack {id, n: 'all'}`.
 * `segmentRecvTimer` starts when the last segment arrives with gaps left and restarts whenever a new
 * segment fills one; on expiry the responder gets `rpc.segerr` and the call `SegmentsMissingError`.
 *
 * @example
 * const receiver = new SegmentReceiver(bus, clock, { recvTimerMs: 2000 });
 * if (isSegmentResult(result)) receiver.receive(id, result, sink);
 */
export class SegmentReceiver {
  readonly #bus: Bus;
  readonly #clock: Clock;
  readonly #recvTimerMs: number;
  readonly #logger: Logger;
  readonly #in = new Map<string, Incoming>();

  constructor(bus: Bus, clock: Clock, options: { recvTimerMs?: number; logger?: Logger | undefined } = {}) {
    this.#bus = bus;
    this.#clock = clock;
    this.#recvTimerMs = options.recvTimerMs ?? DEFAULT_SEGMENT_RECV_TIMER_MS;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Answers being reassembled. */
  get active(): number {
    return this.#in.size;
  }

  /** Handles one segment of the answer to the pending call `id`. */
  receive(id: string, result: Record<string, unknown>, sink: SegmentSink): void {
    const parsed = parseSegment(result);
    if (typeof parsed === 'string') {
      this.#invalid(id, parsed, sink);
      return;
    }
    const { info, part } = parsed;
    let state = this.#in.get(id);
    const first = state === undefined;
    if (state === undefined) {
      state = { assembly: new Reassembly(), ackTo: info.ack_to, timer: undefined };
      this.#in.set(id, state);
    }
    state.ackTo = info.ack_to;
    const added = state.assembly.add(info, part);
    if (added !== 'new' && added !== 'duplicate') {
      this.#invalid(id, added, sink);
      return;
    }
    this.#notify(state.ackTo, SEGACK_METHOD, { id, n: info.n });
    if (first) {
      sink.first();
      // The provisional answer may have failed the call (pending limit): then it is dropped.
      if (this.#in.get(id) !== state) return;
    }
    if (added === 'duplicate') return;
    if (state.assembly.complete) {
      let whole: Record<string, unknown>;
      try {
        whole = state.assembly.assemble();
      } catch (err) {
        this.#invalid(id, err instanceof Error ? err.message : String(err), sink);
        return;
      }
      this.drop(id);
      this.#notify(state.ackTo, SEGACK_METHOD, { id, n: 'all' });
      sink.deliver(whole);
      return;
    }
    if (state.assembly.of !== undefined) {
      state.timer?.cancel();
      state.timer = this.#clock.setTimeout(() => this.#expire(id, sink), this.#recvTimerMs);
    }
  }

  /**
   * A segment whose call is gone (settled, cancelled, another epoch): tells the responder to stop
   * (`rpc.segack {id, n: 'all'}`) and returns its number (0 when malformed: logged and dropped).
   * Not a segment: undefined.
   */
  stray(id: string, result: Record<string, unknown>): number | undefined {
    if (!isSegmentResult(result)) return undefined;
    const parsed = parseSegment(result);
    if (typeof parsed === 'string') {
      this.#logger.warn({ id, problem: parsed }, 'rpc: invalid segment for an unknown id; dropped');
      return 0;
    }
    this.#notify(parsed.info.ack_to, SEGACK_METHOD, { id, n: 'all' });
    return parsed.info.n;
  }

  /** Forgets the answer to `id` (its call settled another way) and cancels its timer. */
  drop(id: string): void {
    const state = this.#in.get(id);
    if (!state) return;
    state.timer?.cancel();
    this.#in.delete(id);
  }

  #expire(id: string, sink: SegmentSink): void {
    const state = this.#in.get(id);
    if (!state) return;
    state.timer = undefined;
    const missing = state.assembly.missing();
    this.drop(id);
    const err = new SegmentsMissingError(missing, { method: sink.method });
    this.#logger.warn({ id, missing }, 'rpc: segmented answer incomplete after segmentRecvTimer');
    this.#notify(state.ackTo, SEGERR_METHOD, {
      id,
      missing,
      code: SEGMENTS_MISSING_CODE,
      message: err.message,
    });
    sink.fail(err);
  }

  #invalid(id: string, problem: string, sink: SegmentSink): void {
    this.drop(id);
    this.#logger.warn({ id, problem }, 'rpc: invalid segment; call failed');
    sink.fail(
      new JsonRpcError(RpcErrorCode.InvalidRequest, `invalid segment: ${problem}`, undefined, {
        method: sink.method,
      }),
    );
  }

  #notify(subject: string, method: string, params: Record<string, unknown>): void {
    try {
      this.#bus.publish(subject, encode(request(method, params)));
    } catch (err) {
      this.#logger.warn({ err, subject, method, id: params.id }, 'rpc: could not send a segment ack');
    }
  }
}
