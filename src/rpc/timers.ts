/**
 * Incremental timers of the seed-004 transaction layer (Megaco `#megaco_incr_timer{}`): a first wait,
 * a growth factor and increment, and a number of restarts. `LegTimer` runs one on a `Clock`, leg by leg.
 */
import type { Clock, Timer } from '../clock/index.js';

/**
 * An incremental timer. Each restart sets `waitMs = max(0, waitMs * factor + incrMs)` and uses one retry;
 * with no retries left the next leg is the final one. So `maxRetries: N` gives N intermediate expiries
 * (N resends) and one final expiry.
 */
export interface IncrementalTimer {
  /** First wait in ms. */
  readonly waitMs: number;
  /** Multiplier applied at each restart (default 1). */
  readonly factor?: number;
  /** Added at each restart (default 0). */
  readonly incrMs?: number;
  /** Restarts before the final leg; `'infinity'` never reaches a final leg. */
  readonly maxRetries: number | 'infinity';
}

/** `requestTimer` default (§3.2): sends at 0, 0.5, 1.5, 3.5 s; fails at 7.5 s. */
export const DEFAULT_REQUEST_TIMER: IncrementalTimer = { waitMs: 500, factor: 2, maxRetries: 3 };
/** `longRequestTimer` default (§3.2): 5 s legs, 6 restarts. */
export const DEFAULT_LONG_REQUEST_TIMER: IncrementalTimer = { waitMs: 5000, factor: 1, maxRetries: 6 };

/** The wait of every leg of a finite timer, in order (the last one is the final leg). */
export function timerLegs(timer: IncrementalTimer): number[] {
  if (timer.maxRetries === 'infinity') throw new RangeError('an infinite timer has no last leg');
  const legs: number[] = [];
  let wait = timer.waitMs;
  for (let i = 0; i <= timer.maxRetries; i++) {
    legs.push(wait);
    wait = nextWait(timer, wait);
  }
  return legs;
}

/** Total time from start to the final expiry; `Infinity` for an infinite timer. */
export function timerWindowMs(timer: IncrementalTimer): number {
  if (timer.maxRetries === 'infinity') return Number.POSITIVE_INFINITY;
  return timerLegs(timer).reduce((a, b) => a + b, 0);
}

/** Problems with a timer's fields, empty when it is valid. `name` prefixes each message. */
export function timerProblems(name: string, timer: IncrementalTimer): string[] {
  const problems: string[] = [];
  const finite = (v: number): boolean => Number.isFinite(v) && v >= 0;
  if (!finite(timer.waitMs)) problems.push(`${name}.waitMs: expected a finite number >= 0`);
  if (timer.factor !== undefined && !finite(timer.factor))
    problems.push(`${name}.factor: expected a finite number >= 0`);
  if (timer.incrMs !== undefined && !Number.isFinite(timer.incrMs))
    problems.push(`${name}.incrMs: expected a finite number`);
  if (timer.maxRetries !== 'infinity' && !(Number.isInteger(timer.maxRetries) && timer.maxRetries >= 0))
    problems.push(`${name}.maxRetries: expected an integer >= 0 or 'infinity'`);
  return problems;
}

function nextWait(timer: IncrementalTimer, wait: number): number {
  return Math.max(0, wait * (timer.factor ?? 1) + (timer.incrMs ?? 0));
}

/**
 * Runs an `IncrementalTimer` on a Clock. `onLeg(final)` is called at every expiry: `final: false` for
 * an intermediate one (the timer has already re-armed itself for the next leg), `true` for the last.
 *
 * @example
 * const t = new LegTimer(clock, DEFAULT_REQUEST_TIMER, (final) => (final ? fail() : resend()));
 * t.start();
 * // … on answer:
 * t.cancel();
 */
export class LegTimer {
  readonly #clock: Clock;
  readonly #timer: IncrementalTimer;
  readonly #onLeg: (final: boolean) => void;
  #wait: number;
  #retriesLeft: number;
  #handle: Timer | undefined;

  constructor(clock: Clock, timer: IncrementalTimer, onLeg: (final: boolean) => void) {
    this.#clock = clock;
    this.#timer = timer;
    this.#onLeg = onLeg;
    this.#wait = timer.waitMs;
    this.#retriesLeft = timer.maxRetries === 'infinity' ? Number.POSITIVE_INFINITY : timer.maxRetries;
  }

  /** True while on the final leg (no restart left). */
  get onFinalLeg(): boolean {
    return this.#retriesLeft <= 0;
  }

  /** Arms the current leg. */
  start(): void {
    this.#arm();
  }

  /**
   * Restarts from outside (a provisional answer arrived): uses one retry and arms the next leg without
   * an expiry. Returns false (and changes nothing) on the final leg, where outside restarts are ignored.
   */
  restart(): boolean {
    if (this.onFinalLeg) return false;
    this.#advance();
    this.#arm();
    return true;
  }

  cancel(): void {
    this.#handle?.cancel();
    this.#handle = undefined;
  }

  #advance(): void {
    this.#retriesLeft -= 1;
    this.#wait = nextWait(this.#timer, this.#wait);
  }

  #arm(): void {
    this.#handle?.cancel();
    this.#handle = this.#clock.setTimeout(() => this.#expire(), this.#wait);
  }

  #expire(): void {
    this.#handle = undefined;
    if (this.onFinalLeg) {
      this.#onLeg(true);
      return;
    }
    // Re-arm before the callback so a resend that throws cannot leave the timer dead.
    this.#advance();
    this.#arm();
    this.#onLeg(false);
  }
}
