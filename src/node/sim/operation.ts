/**
 * The scope of one running media operation: its timers and listeners are released, newest first, the
 * moment the operation settles — resolved, rejected, aborted by its signal or cut by session close.
 */
import type { Clock, Timer } from '../../clock/index.js';
import type { Logger } from '../../protocol/index.js';
import { after, NEVER } from './wait.js';

/**
 * The abort reason of a settled operation's `scope.signal`. Built once: settling is the normal path
 * and sub-operations cut by it swallow the reason, so a fresh Error (and stack) per settle is waste.
 */
const OPERATION_SETTLED: Error = new Error('operation settled');

/** What an operation body can hold; everything is released when the operation settles. */
export interface OperationScope {
  /** Aborted when the operation settles (use it for sub-operations such as a prompt). */
  readonly signal: AbortSignal;
  /** True once the operation settled. */
  readonly settled: boolean;
  /** Runs `fn` when the operation settles (at once if it already has). */
  defer(fn: () => void): void;
  /** A clock timer released when the operation settles; none is scheduled after that. */
  after(ms: number, fn: () => void): Timer;
}

/** A running operation as its session sees it, so `close()` can cut it. */
export interface RunningOperation {
  cut(reason: unknown): void;
}

/**
 * Runs `body` as a cancellable operation: it settles once, through `resolve`/`reject`, when `signal`
 * aborts (rejecting with its reason) or when `cut` is called; cleanup runs newest first and a failing
 * cleanup does not stop the others.
 */
export function runOperation<T>(
  clock: Clock,
  logger: Logger,
  signal: AbortSignal,
  register: (op: RunningOperation) => () => void,
  body: (scope: OperationScope, resolve: (value: T) => void, reject: (err: unknown) => void) => void,
): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((res, rej) => {
    // Created only when the body asks for `scope.signal` (most operations never do).
    let done: AbortController | undefined;
    const cleanups: (() => void)[] = [];
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      unregister();
      for (const fn of cleanups.reverse()) {
        try {
          fn();
        } catch (err) {
          logger.error({ err }, 'sim media: cleanup failed');
        }
      }
      cleanups.length = 0;
      done?.abort(OPERATION_SETTLED);
      finish();
    };
    const onAbort = (): void => settle(() => rej(signal.reason));
    const unregister = register({ cut: (reason) => settle(() => rej(reason)) });
    signal.addEventListener('abort', onAbort, { once: true });
    const scope: OperationScope = {
      get signal() {
        if (done === undefined) {
          done = new AbortController();
          if (settled) done.abort(OPERATION_SETTLED);
        }
        return done.signal;
      },
      get settled() {
        return settled;
      },
      defer(fn) {
        if (settled) fn();
        else cleanups.push(fn);
      },
      after(ms, fn) {
        if (settled) return NEVER;
        const timer = after(clock, ms, fn);
        cleanups.push(() => timer.cancel());
        return timer;
      },
    };
    try {
      body(
        scope,
        (value) => settle(() => res(value)),
        (err) => settle(() => rej(err)),
      );
    } catch (err) {
      settle(() => rej(err));
    }
  });
}
