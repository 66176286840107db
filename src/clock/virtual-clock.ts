import { type Clock, sleepOn, type Timer } from './clock.js';

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  every: number | undefined;
  live: boolean;
}

/** Lets every pending promise continuation run (microtasks and one macrotask turn). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Time that moves only when a test says so. `advance(ms)` fires due timers in time order (ties in
 * scheduling order) and lets the promise chains they start settle before firing the next one, so a
 * ten-second takeover rule or a four-hour reaper runs in microseconds.
 *
 * @example
 * const clock = new VirtualClock();
 * const slept = clock.sleep(10_000);
 * await clock.advance(10_000); // `slept` is now resolved
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #entries: Entry[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  get pending(): number {
    return this.#entries.length;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#schedule(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.#schedule(fn, ms, Math.max(1, ms));
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  /** Moves time to `targetMs` (never backwards). */
  async advanceTo(targetMs: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.#entries[0];
      if (!next || next.at > targetMs) break;
      this.#entries.shift();
      this.#now = Math.max(this.#now, next.at);
      if (next.every !== undefined) {
        next.at += next.every;
        next.seq = this.#seq++;
        this.#insert(next);
      } else {
        next.live = false;
      }
      next.fn();
      await settle();
    }
    this.#now = Math.max(this.#now, targetMs);
    await settle();
  }

  /** Lets pending promise chains settle without moving time. */
  async tick(): Promise<void> {
    await settle();
    await settle();
  }

  #schedule(fn: () => void, ms: number, every: number | undefined): Timer {
    const entry: Entry = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, every, live: true };
    this.#insert(entry);
    return {
      cancel: () => {
        if (!entry.live) return;
        entry.live = false;
        const i = this.#entries.indexOf(entry);
        if (i >= 0) this.#entries.splice(i, 1);
      },
    };
  }

  #insert(entry: Entry): void {
    // Sorted insert: timers in a test are few; a binary search keeps big leak tests fast.
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#entries[mid]!;
      if (e.at < entry.at || (e.at === entry.at && e.seq < entry.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#entries.splice(lo, 0, entry);
  }
}
