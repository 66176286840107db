/**
 * The transaction sender (seed 004, Megaco `megaco_trans_sender`, §2.4): packs small requests and acks
 * going to the same subject into one JSON-RPC batch array. Per destination it holds requests (already
 * encoded bytes) and ack serials, and flushes them when its timer expires, when acks reach `maxAcks`,
 * requests reach `maxRequests` or their size `maxBytes`, or when a reply or progress goes out to that
 * destination (the stored items ride in the same array). An item too big on its own goes alone after a
 * flush; a request id already in the store is a resend and flushes at once. Acks go as one
 * `rpc.ack {originator, epoch, ranges}` per epoch, sorted and compressed (1,2,3,4 → [1,4]).
 * Owns at most one Clock timer per destination with stored items.
 */
import type { Clock, Timer } from '../clock/index.js';
import { encode, request } from '../protocol/envelope.js';
import { type Logger, silentLogger } from '../protocol/logger.js';
import { ACK_METHOD, compressSerials } from './acks.js';

/** Options of the transaction sender (§3.2 "ack batching"). */
export interface TransSenderOptions {
  /** Longest an item waits in the store, in ms on the Clock. Default 50. */
  timerMs?: number;
  /** Flush when this many ack serials are stored for a destination. Default 32. */
  maxAcks?: number;
  /** Flush when this many requests are stored for a destination. Default 10. */
  maxRequests?: number;
  /** Flush when stored requests reach this many bytes; a bigger request goes alone. Default 4096. */
  maxBytes?: number;
}

export const DEFAULT_TRANS_TIMER_MS = 50;
export const DEFAULT_TRANS_MAX_ACKS = 32;
export const DEFAULT_TRANS_MAX_REQUESTS = 10;
export const DEFAULT_TRANS_MAX_BYTES = 4096;

/** Problems with sender options, each naming the field under `name`. */
export function transSenderProblems(name: string, options: TransSenderOptions): string[] {
  const problems: string[] = [];
  const positiveInt = (v: number | undefined): boolean => v === undefined || (Number.isInteger(v) && v >= 1);
  if (options.timerMs !== undefined && !(Number.isFinite(options.timerMs) && options.timerMs > 0))
    problems.push(`${name}.timerMs: expected a number > 0`);
  if (!positiveInt(options.maxAcks)) problems.push(`${name}.maxAcks: expected an integer >= 1`);
  if (!positiveInt(options.maxRequests)) problems.push(`${name}.maxRequests: expected an integer >= 1`);
  if (!positiveInt(options.maxBytes)) problems.push(`${name}.maxBytes: expected an integer >= 1`);
  return problems;
}

/** Counters of what the sender did (benchmarks and tests read them). */
export interface TransSenderStats {
  /** Bus publishes made. */
  messages: number;
  /** Items carried (requests, replies, ack notifications). */
  items: number;
  /** Flushes by cause. */
  flushes: {
    timer: number;
    count: number;
    size: number;
    reply: number;
    resend: number;
    oversize: number;
    close: number;
  };
}

interface Store {
  readonly requests: Map<string, Uint8Array>;
  requestBytes: number;
  /** `<originator>:<epoch>` → serials. */
  readonly acks: Map<string, Set<number>>;
  ackCount: number;
  timer: Timer | undefined;
}

type FlushCause = keyof TransSenderStats['flushes'];

const OPEN = new Uint8Array([0x5b]); // [
const COMMA = new Uint8Array([0x2c]); // ,
const CLOSE = new Uint8Array([0x5d]); // ]

/**
 * @example
 * const sender = new TransSender((subject, bytes) => bus.publish(subject, bytes), clock, { timerMs: 50 });
 * sender.request('cn.xswitch.node', id, bytes); // stored; goes within 50 ms, with whatever else is stored
 * sender.ack('cn.xswitch.node.n1', 'c1', 'e1', 7);
 * sender.close(); // flushes everything and releases the timers
 */
export class TransSender {
  readonly #publish: (subject: string, bytes: Uint8Array) => void;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #timerMs: number;
  readonly #maxAcks: number;
  readonly #maxRequests: number;
  readonly #maxBytes: number;
  readonly #stores = new Map<string, Store>();
  readonly stats: TransSenderStats = {
    messages: 0,
    items: 0,
    flushes: { timer: 0, count: 0, size: 0, reply: 0, resend: 0, oversize: 0, close: 0 },
  };

  constructor(
    publish: (subject: string, bytes: Uint8Array) => void,
    clock: Clock,
    options: TransSenderOptions = {},
    logger?: Logger,
  ) {
    this.#publish = publish;
    this.#clock = clock;
    this.#logger = logger ?? silentLogger;
    this.#timerMs = options.timerMs ?? DEFAULT_TRANS_TIMER_MS;
    this.#maxAcks = options.maxAcks ?? DEFAULT_TRANS_MAX_ACKS;
    this.#maxRequests = options.maxRequests ?? DEFAULT_TRANS_MAX_REQUESTS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_TRANS_MAX_BYTES;
  }

  /** Items stored and not yet sent (requests + ack serials), over every destination. */
  get stored(): number {
    let n = 0;
    for (const s of this.#stores.values()) n += s.requests.size + s.ackCount;
    return n;
  }

  /**
   * Stores a request for `subject`. A request whose id is already stored is a resend: everything stored
   * for `subject` (the request included) goes at once. Throws the bus's error when a publish it makes
   * now fails (the items of that publish are lost; their timers resend them).
   */
  request(subject: string, id: string, bytes: Uint8Array): void {
    const store = this.#store(subject);
    if (store.requests.has(id)) {
      this.#flush(subject, 'resend');
      return;
    }
    if (bytes.byteLength + 2 > this.#maxBytes) {
      // Too big to share a message: what is stored goes first, then this alone (order kept).
      if (this.#has(store)) this.#flush(subject, 'oversize');
      this.#send(subject, [bytes]);
      return;
    }
    store.requests.set(id, bytes);
    store.requestBytes += bytes.byteLength + 1;
    if (store.requests.size >= this.#maxRequests) this.#flush(subject, 'count');
    else if (store.requestBytes + 1 >= this.#maxBytes) this.#flush(subject, 'size');
    else this.#arm(subject, store);
  }

  /** Stores the ack of transaction `<originator>:<epoch>:<serial>` for `subject`. */
  ack(subject: string, originator: string, epoch: string, serial: number): void {
    const store = this.#store(subject);
    const key = `${originator}:${epoch}`;
    let serials = store.acks.get(key);
    if (!serials) {
      serials = new Set();
      store.acks.set(key, serials);
    }
    if (!serials.has(serial)) {
      serials.add(serial);
      store.ackCount += 1;
    }
    if (store.ackCount >= this.#maxAcks) this.#flush(subject, 'count');
    else this.#arm(subject, store);
  }

  /**
   * Sends a reply or progress (anything that must not wait) to `subject` now; what is stored for that
   * subject rides in the same batch. Throws the bus's error when the publish fails.
   */
  reply(subject: string, bytes: Uint8Array): void {
    const store = this.#stores.get(subject);
    if (!store || !this.#has(store)) {
      this.#send(subject, [bytes]);
      return;
    }
    const items = this.#take(subject, store);
    items.push(bytes);
    this.stats.flushes.reply += 1;
    this.#send(subject, items);
  }

  /** Sends what is stored for `subject` (or for every subject) now. Throws the bus's error. */
  flush(subject?: string): void {
    if (subject !== undefined) {
      this.#flush(subject, 'close');
      return;
    }
    for (const s of [...this.#stores.keys()]) this.#flush(s, 'close');
  }

  /** Flushes everything (failures logged) and releases every timer. The sender stays usable. */
  close(): void {
    for (const subject of [...this.#stores.keys()]) {
      try {
        this.#flush(subject, 'close');
      } catch (err) {
        this.#logger.warn({ err, subject }, 'rpc: transaction sender could not flush on close');
      }
    }
  }

  #store(subject: string): Store {
    let store = this.#stores.get(subject);
    if (!store) {
      store = { requests: new Map(), requestBytes: 1, acks: new Map(), ackCount: 0, timer: undefined };
      this.#stores.set(subject, store);
    }
    return store;
  }

  #has(store: Store): boolean {
    return store.requests.size > 0 || store.ackCount > 0;
  }

  #arm(subject: string, store: Store): void {
    if (store.timer) return;
    store.timer = this.#clock.setTimeout(() => {
      store.timer = undefined;
      try {
        this.#flush(subject, 'timer');
      } catch (err) {
        // Nobody to throw to: the stored requests' own timers resend them.
        this.#logger.warn({ err, subject }, 'rpc: transaction sender flush failed');
      }
    }, this.#timerMs);
  }

  #flush(subject: string, cause: FlushCause): void {
    const store = this.#stores.get(subject);
    if (!store) return;
    if (!this.#has(store)) {
      this.#drop(subject, store);
      return;
    }
    const items = this.#take(subject, store);
    this.stats.flushes[cause] += 1;
    this.#send(subject, items);
  }

  /** Empties a store into items (requests in arrival order, then one ack notification per epoch). */
  #take(subject: string, store: Store): Uint8Array[] {
    const items = [...store.requests.values()];
    for (const [key, serials] of store.acks) {
      const sep = key.indexOf(':');
      const params = {
        originator: key.slice(0, sep),
        epoch: key.slice(sep + 1),
        ranges: compressSerials(serials),
      };
      items.push(encode(request(ACK_METHOD, params)));
    }
    this.#drop(subject, store);
    return items;
  }

  #drop(subject: string, store: Store): void {
    store.timer?.cancel();
    store.timer = undefined;
    this.#stores.delete(subject);
  }

  #send(subject: string, items: Uint8Array[]): void {
    this.stats.messages += 1;
    this.stats.items += items.length;
    this.#publish(subject, items.length === 1 ? (items[0] as Uint8Array) : joinBatch(items));
  }
}

/** `[a,b,c]` from already-encoded JSON items, without decoding them (each keeps its exact bytes). */
function joinBatch(items: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [OPEN];
  items.forEach((item, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(item);
  });
  parts.push(CLOSE);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
