/**
 * The responder's pending timer (seed 004, Megaco `pending_timer`, §2.3, §3.3): while a handler works
 * longer than `pendingTimer`, a provisional `rpc.progress {id, status: 100}` goes out on its own at
 * incremental intervals (each one counted against `sentPendingLimit` by the server). `ProgressTimers`
 * owns one Clock timer per request being worked on.
 */
import type { Clock } from '../clock/index.js';
import { type IncrementalTimer, LegTimer } from './timers.js';

/** Default `pendingTimer` (§3.2): 200 ms, ×2 (progress at 0.2, 0.6, 1.4, 3 s, …), bounded by the pending limit. */
export const DEFAULT_PENDING_TIMER: IncrementalTimer = { waitMs: 200, factor: 2, maxRetries: 'infinity' };

/**
 * @example
 * const timers = new ProgressTimers(clock, DEFAULT_PENDING_TIMER);
 * timers.start(id, () => sendProgress(id));
 * // … handler done:
 * timers.stop(id);
 */
export class ProgressTimers {
  readonly #clock: Clock;
  readonly #timer: IncrementalTimer;
  readonly #running = new Map<string, LegTimer>();

  constructor(clock: Clock, timer: IncrementalTimer) {
    this.#clock = clock;
    this.#timer = timer;
  }

  /** Requests with a running pending timer. */
  get size(): number {
    return this.#running.size;
  }

  /** Calls `onExpiry` at every leg (the final leg too) until `stop(id)`. */
  start(id: string, onExpiry: () => void): void {
    this.stop(id);
    const timer = new LegTimer(this.#clock, this.#timer, (final) => {
      if (this.#running.get(id) !== timer) return;
      if (final) this.#running.delete(id);
      onExpiry();
    });
    this.#running.set(id, timer);
    timer.start();
  }

  stop(id: string): void {
    this.#running.get(id)?.cancel();
    this.#running.delete(id);
  }

  clear(): void {
    for (const timer of this.#running.values()) timer.cancel();
    this.#running.clear();
  }
}
