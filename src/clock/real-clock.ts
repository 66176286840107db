import { type Clock, sleepOn, type Timer } from './clock.js';

/** Wall-clock time on Node's timers. Timers are `unref`'d so a pending one never keeps a process alive. */
export class RealClock implements Clock {
  #pending = 0;

  get pending(): number {
    return this.#pending;
  }

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): Timer {
    this.#pending++;
    let live = true;
    const handle = setTimeout(() => {
      live = false;
      this.#pending--;
      fn();
    }, ms);
    handle.unref();
    return {
      cancel: () => {
        if (!live) return;
        live = false;
        this.#pending--;
        clearTimeout(handle);
      },
    };
  }

  setInterval(fn: () => void, ms: number): Timer {
    this.#pending++;
    let live = true;
    const handle = setInterval(fn, ms);
    handle.unref();
    return {
      cancel: () => {
        if (!live) return;
        live = false;
        this.#pending--;
        clearInterval(handle);
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}
