/**
 * Simulated outbound attempts: a destination behaviour becomes a timed plan of progress items
 * (`planOriginate`, pure), which `runOriginate` plays out on the Clock as an async iterable.
 */
import type { Clock } from '../../clock/index.js';
import type { CallerStep, DestinationBehaviour, OriginateProgress } from '../media.js';
import { waitMs } from './wait.js';

/** Ring time before answering when a behaviour does not say. */
export const DEFAULT_ANSWER_AFTER_MS = 1000;

/** One progress item and when it happens, in ms after the attempt starts. */
export interface PlannedProgress {
  atMs: number;
  progress: OriginateProgress;
}

/**
 * The progress an attempt makes, in order, ending with exactly one terminal item (`answered` or
 * `failed`). `timeoutMs` <= 0 (or not finite) means no ring timeout. A terminal item at `Infinity`
 * (never answering, no timeout) waits for an abort.
 *
 * - no behaviour → failed NO_ROUTE_DESTINATION at once, no ringing;
 * - `busy` → USER_BUSY, `reject` → that cause, after `ring_ms` (default 0; ringing first unless 0);
 * - `no_answer` → ringing, then NO_ANSWER at the ring timeout;
 * - otherwise ringing, then answered after `answer_after_ms` (default 1000) — or NO_ANSWER at the
 *   ring timeout when that comes first;
 * - `early_media` (true = at once, or after N ms) adds early media before the terminal item.
 */
export function planOriginate(
  behaviour: DestinationBehaviour | undefined,
  timeoutMs: number,
): PlannedProgress[] {
  if (!behaviour) return [{ atMs: 0, progress: { kind: 'failed', cause: 'NO_ROUTE_DESTINATION' } }];
  const limit = Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : Number.POSITIVE_INFINITY;
  const noAnswer: PlannedProgress = { atMs: limit, progress: { kind: 'failed', cause: 'NO_ANSWER' } };
  let terminal: PlannedProgress;
  let rings = true;
  const refusal = behaviour.busy ? 'USER_BUSY' : behaviour.reject;
  if (refusal !== undefined) {
    const ring = behaviour.ring_ms ?? 0;
    rings = ring > 0;
    terminal = ring > limit ? noAnswer : { atMs: ring, progress: { kind: 'failed', cause: refusal } };
  } else if (behaviour.no_answer) {
    terminal = noAnswer;
  } else {
    const answerAfter = behaviour.answer_after_ms ?? DEFAULT_ANSWER_AFTER_MS;
    terminal = answerAfter > limit ? noAnswer : { atMs: answerAfter, progress: { kind: 'answered' } };
  }
  const plan: PlannedProgress[] = [];
  if (rings) plan.push({ atMs: 0, progress: { kind: 'ringing' } });
  const early = behaviour.early_media;
  if (early !== undefined && early !== false) {
    const at = early === true ? 0 : early;
    if (at < terminal.atMs) plan.push({ atMs: at, progress: { kind: 'early_media' } });
  }
  plan.push(terminal);
  return plan;
}

/** The iterable `MediaBackend.originate` returns. */
export type OriginateAttempt = AsyncIterable<OriginateProgress> & { readonly script?: CallerStep[] };

/** Hooks around one iteration of an attempt. */
export interface OriginateHooks {
  /** Runs when iteration starts (nothing is scheduled before that). */
  onStart?: () => void;
  /** Runs once when the iteration is over: terminal item reached, aborted, or the consumer stopped. */
  onSettled?: () => void;
}

/**
 * Plays `plan` out on `clock` when iterated. Aborting `signal` releases the pending timer and ends the
 * iteration without a terminal item.
 */
export function runOriginate(
  clock: Clock,
  plan: readonly PlannedProgress[],
  signal: AbortSignal,
  script: CallerStep[] | undefined,
  hooks: OriginateHooks = {},
): OriginateAttempt {
  async function* progress(): AsyncGenerator<OriginateProgress, void, undefined> {
    hooks.onStart?.();
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      hooks.onSettled?.();
    };
    try {
      let now = 0;
      for (const [i, item] of plan.entries()) {
        if (signal.aborted) return;
        if (item.atMs > now) {
          try {
            await waitMs(clock, item.atMs - now, signal);
          } catch {
            return; // aborted: the attempt just stops
          }
          now = item.atMs;
        }
        // Settle before the terminal item: a consumer may stop calling next() once it has it.
        if (i === plan.length - 1) settle();
        yield item.progress;
      }
    } finally {
      settle();
    }
  }
  const iterable = { [Symbol.asyncIterator]: () => progress() };
  return script ? Object.assign(iterable, { script }) : iterable;
}
