/** Clock waits that also accept endless durations (an endless media stream plays until aborted). */
import type { Clock, Timer } from '../../clock/index.js';

/** Longest single timer: Node's timers overflow above 2^31-1 ms (~24.8 days) and would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A timer that never fires (for `Infinity`). */
export const NEVER: Timer = { cancel: () => {} };

/** Schedules `fn` after `ms` on `clock`; `Infinity` schedules nothing; huge values are clamped. */
export function after(clock: Clock, ms: number, fn: () => void): Timer {
  if (!Number.isFinite(ms)) return NEVER;
  return clock.setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
}

/** Resolves after `ms` (never for `Infinity`); rejects with the signal's reason when it aborts. */
export function waitMs(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (Number.isFinite(ms)) return clock.sleep(Math.min(Math.max(0, ms), MAX_TIMER_MS), signal);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
