/**
 * A wall clock that runs `speed` times faster than real time, for `xcc demo --speed X`. It is a plain
 * `Clock`: every timer is real, only its delay is divided, and `now()` advances `speed` ms per real ms,
 * so epochs, durations and timeouts stay consistent with each other.
 */
import { type Clock, RealClock, sleepOn, type Timer } from '../clock/index.js';

export class ScaledClock implements Clock {
  readonly #real: Clock;
  readonly #speed: number;
  readonly #origin: number;
  readonly #realOrigin: number;

  /**
   * @param speed how many clock ms pass per real ms (> 0; 1 = real time).
   * @param real the underlying clock (default `RealClock`, whose timers never keep the process alive).
   */
  constructor(speed: number, real: Clock = new RealClock()) {
    if (!Number.isFinite(speed) || speed <= 0)
      throw new RangeError(`speed must be a positive number, got ${speed}`);
    this.#real = real;
    this.#speed = speed;
    this.#origin = real.now();
    this.#realOrigin = this.#origin;
  }

  get speed(): number {
    return this.#speed;
  }

  get pending(): number {
    return this.#real.pending;
  }

  now(): number {
    return Math.round(this.#origin + (this.#real.now() - this.#realOrigin) * this.#speed);
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#real.setTimeout(fn, ms / this.#speed);
  }

  setInterval(fn: () => void, ms: number): Timer {
    // Never below 1 real ms: a sped-up 1 ms interval must not become a busy loop.
    return this.#real.setInterval(fn, Math.max(1, ms / this.#speed));
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}
