/**
 * The reorder buffer: holds events briefly and releases them in `(timestamp, sequence)` order.
 * An event is released when the newest timestamp seen is `windowUs` ahead of it (event time), or
 * when it has waited `windowMs` on the injected clock (so a quiet stream never stalls).
 */
import type { Clock, Timer } from '../../clock/index.js';
import type { SwitchEvent } from '../input/index.js';

/** An event with its ordering keys resolved. */
export interface Ordered {
  ev: SwitchEvent;
  /** Event time, µs (arrival-time estimate when the event had none). */
  ts: number;
  seq: number;
  /** Arrival number: the last tie-breaker, so equal keys keep arrival order. */
  arrival: number;
}

/** Total order of buffered events. */
export function compareOrdered(a: Ordered, b: Ordered): number {
  return a.ts - b.ts || a.seq - b.seq || a.arrival - b.arrival;
}

/** Options of {@link ReorderBuffer}. */
export interface ReorderBufferOptions {
  clock: Clock;
  /** Reorder window. Default 2 000 ms (event time and clock time). */
  windowMs?: number;
  /** Receives events in order. */
  release: (item: Ordered) => void;
}

export class ReorderBuffer {
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #release: (item: Ordered) => void;
  /** Sorted ascending by `compareOrdered` from index `#head` on (items before it were released). */
  #items: Ordered[] = [];
  #head = 0;
  #newestTs = Number.NEGATIVE_INFINITY;
  #timer: Timer | undefined;
  /** Clock time of the last push: the quiet-stream flush is due `windowMs` after it. */
  #lastPushAt = 0;

  constructor(options: ReorderBufferOptions) {
    this.#clock = options.clock;
    this.#windowMs = options.windowMs ?? 2_000;
    this.#release = options.release;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: Ordered): void {
    // Binary search for the insertion point (most events arrive in order: it lands at the end).
    const items = this.#items;
    let lo = this.#head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareOrdered(items[mid]!, item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === items.length) items.push(item);
    else items.splice(lo, 0, item);
    if (item.ts > this.#newestTs) this.#newestTs = item.ts;
    this.#lastPushAt = this.#clock.now();
    this.#drain(this.#newestTs - this.#windowMs * 1000);
    this.#arm();
  }

  /** Releases everything held, in order. */
  flush(): void {
    this.#drain(Number.POSITIVE_INFINITY);
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Releases events with `ts <= upTo`. */
  #drain(upTo: number): void {
    // Release one at a time from the head: a release may re-enter (a late push lands behind the
    // head and is released in turn), and no array is copied per event.
    while (this.#head < this.#items.length && this.#items[this.#head]!.ts <= upTo) {
      const item = this.#items[this.#head]!;
      this.#head++;
      this.#release(item);
    }
    // Compact now and then so released items are not kept alive.
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * One timer for the whole buffer: when the stream goes quiet for a window, everything goes out.
   * Armed once and pushed back lazily (when it fires early it re-arms for the remainder), so a busy
   * stream does not cancel and re-create a timer per event.
   */
  #arm(): void {
    if (this.size === 0) {
      this.#timer?.cancel();
      this.#timer = undefined;
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), this.#windowMs);
  }

  #fire(): void {
    this.#timer = undefined;
    const due = this.#lastPushAt + this.#windowMs;
    const now = this.#clock.now();
    if (now < due && this.size > 0) {
      this.#timer = this.#clock.setTimeout(() => this.#fire(), due - now);
      return;
    }
    this.flush();
  }
}
