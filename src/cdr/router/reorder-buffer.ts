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
  /** Sorted ascending by `compareOrdered`. */
  #items: Ordered[] = [];
  #newestTs = Number.NEGATIVE_INFINITY;
  #timer: Timer | undefined;

  constructor(options: ReorderBufferOptions) {
    this.#clock = options.clock;
    this.#windowMs = options.windowMs ?? 2_000;
    this.#release = options.release;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: Ordered): void {
    // Binary search for the insertion point (most events arrive in order: it lands at the end).
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareOrdered(this.#items[mid]!, item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.#items.splice(lo, 0, item);
    if (item.ts > this.#newestTs) this.#newestTs = item.ts;
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
    let n = 0;
    while (n < this.#items.length && this.#items[n]!.ts <= upTo) n++;
    if (n === 0) return;
    const out = this.#items.splice(0, n);
    for (const item of out) this.#release(item);
  }

  /** One timer for the whole buffer: when the stream goes quiet for a window, everything goes out. */
  #arm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#items.length === 0) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#windowMs);
  }
}
