/** Runs one lifecycle callback under a deadline on the injected clock. */
import type { Clock } from '../clock/index.js';

export type SettleOutcome = { kind: 'ok' } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/**
 * Calls `run` (sync throws count as errors) and resolves with how it settled, or with `timeout` after
 * `timeoutMs` (`Infinity` = no deadline). The timer is released on either path. A callback that settles
 * after its deadline is reported to `onLate` — the engine records it and otherwise ignores it.
 */
export function settleWithin(
  clock: Clock,
  run: () => unknown,
  timeoutMs: number,
  onLate: (outcome: Exclude<SettleOutcome, { kind: 'timeout' }>) => void,
): Promise<SettleOutcome> {
  return new Promise<SettleOutcome>((resolve) => {
    let settled = false;
    const timer = Number.isFinite(timeoutMs)
      ? clock.setTimeout(() => {
          settled = true;
          resolve({ kind: 'timeout' });
        }, timeoutMs)
      : undefined;
    const finish = (outcome: Exclude<SettleOutcome, { kind: 'timeout' }>): void => {
      if (settled) {
        onLate(outcome);
        return;
      }
      settled = true;
      timer?.cancel();
      resolve(outcome);
    };
    // Handled on both branches: the chain never rejects.
    void Promise.resolve()
      .then(run)
      .then(
        () => finish({ kind: 'ok' }),
        (error: unknown) => finish({ kind: 'error', error }),
      );
  });
}

/** Resolves `true` when `gate` settles first, `false` after `timeoutMs`; the timer is released either way. */
export function waitAtMost(clock: Clock, gate: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  if (!Number.isFinite(timeoutMs)) return gate.then(() => true);
  return new Promise<boolean>((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), timeoutMs);
    // Gates never reject.
    void gate.then(() => {
      timer.cancel();
      resolve(true);
    });
  });
}

/** Text of an unknown thrown value. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
