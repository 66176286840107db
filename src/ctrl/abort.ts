/**
 * Signal plumbing for the SDK: linking several AbortSignals into one child signal that is released
 * explicitly (no listener outlives the operation that needed it), and turning an abort into the one
 * recognisable cancellation error.
 */
import { CancelledError } from '../protocol/errors.js';

/** A signal that aborts when any of its parents aborts; `dispose()` detaches it from the parents. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Links parent signals into one. Unlike `AbortSignal.any`, the listeners are removed by `dispose()`,
 * so a long-lived parent (the call's signal) does not accumulate listeners from finished primitives.
 */
export function linkSignals(...parents: (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const live = parents.filter((s): s is AbortSignal => s !== undefined);
  const already = live.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const listeners: [AbortSignal, () => void][] = [];
  const dispose = (): void => {
    for (const [s, fn] of listeners) s.removeEventListener('abort', fn);
    listeners.length = 0;
  };
  for (const s of live) {
    const fn = (): void => {
      dispose();
      controller.abort(s.reason);
    };
    s.addEventListener('abort', fn, { once: true });
    listeners.push([s, fn]);
  }
  return { signal: controller.signal, dispose };
}

/**
 * The error an aborted operation rejects with: the signal's reason when it already is a cancellation
 * (`CancelledError`, e.g. a `FlowCancelledError`), otherwise a `CancelledError` wrapping it.
 */
export function cancellationOf(signal: AbortSignal, method?: string): CancelledError {
  const reason: unknown = signal.reason;
  if (reason instanceof CancelledError) return reason;
  const options = method === undefined ? { cause: reason } : { cause: reason, method };
  return new CancelledError(method === undefined ? 'cancelled' : `${method}: cancelled`, options);
}

/** Resolves when `signal` aborts (never rejects). `dispose` releases the listener early. */
export function whenAborted(signal: AbortSignal): { promise: Promise<void>; dispose(): void } {
  if (signal.aborted) return { promise: Promise.resolve(), dispose: () => {} };
  let fn: (() => void) | undefined;
  const promise = new Promise<void>((resolve) => {
    fn = () => resolve();
    signal.addEventListener('abort', fn, { once: true });
  });
  return {
    promise,
    dispose: () => {
      if (fn) signal.removeEventListener('abort', fn);
    },
  };
}
