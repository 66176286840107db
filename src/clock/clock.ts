/**
 * The one way OpenXCC code waits. Everything with a timer (node takeover rule, ring timeouts, RPC
 * timers, reapers) takes a `Clock`, so tests run on `VirtualClock` and skip time instead of sleeping.
 */

/** A scheduled callback; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Runs `fn` every `ms` until cancelled. */
  setInterval(fn: () => void, ms: number): Timer;
  /**
   * Resolves after `ms`; rejects with the signal's reason if `signal` aborts first (the timer is
   * released either way).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Number of timers scheduled and not yet fired or cancelled (leak checks use it). */
  readonly pending: number;
}

/** Shared implementation of `sleep` on top of `setTimeout`. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
