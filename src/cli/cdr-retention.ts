/**
 * Story retention for `xcc cdr prune --older-than SPAN` and `xcc cdr listen --retention SPAN`: parses
 * the span and deletes the stories that started longer ago than that (`Store.deleteBefore`). The
 * listener prunes once at start and then once an hour on its clock; prunes never overlap, and a failing
 * prune costs one line on stderr, never the listener.
 */
import { InvalidArgumentError } from 'commander';
import type { Clock, Timer } from '../clock/index.js';
import type { Store } from '../cdr/store/index.js';

const SPAN_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** How often the listener prunes. */
export const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * `--older-than` / `--retention`: a positive span `<n>m|h|d|w` (minutes, hours, days, weeks), in ms.
 *
 * @throws InvalidArgumentError
 * @example retentionSpan('90d') // 7_776_000_000
 */
export function retentionSpan(value: string): number {
  const m = /^(\d{1,6})([mhdw])$/.exec(value.trim());
  const ms = m === null ? Number.NaN : Number(m[1]) * SPAN_UNITS[m[2]!]!;
  if (!(ms > 0)) throw new InvalidArgumentError('expected a span such as 90d, 12w, 36h or 30m (more than 0)');
  return ms;
}

/** Deletes the stories that started before `nowMs - olderThanMs`; returns how many. */
export async function pruneStories(store: Store, olderThanMs: number, nowMs: number): Promise<number> {
  return store.deleteBefore((nowMs - olderThanMs) * 1000);
}

/** Options of {@link RetentionPruner}. */
export interface RetentionPrunerOptions {
  store: Store;
  clock: Clock;
  /** Stories that started longer ago than this are deleted. */
  olderThanMs: number;
  /** Between prunes (default {@link PRUNE_INTERVAL_MS}). */
  intervalMs?: number;
  /** After each prune that deleted something. */
  onPruned?: (deleted: number) => void;
  /** A prune that failed (the next one is still scheduled). */
  onError?: (error: unknown) => void;
}

/** Prunes now and then every `intervalMs` until `stop()`. */
export class RetentionPruner {
  readonly #options: RetentionPrunerOptions;
  readonly #timer: Timer;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Prunes run so far and stories they deleted. */
  readonly stats = { runs: 0, deleted: 0, failures: 0 };

  constructor(options: RetentionPrunerOptions) {
    this.#options = options;
    this.#timer = options.clock.setInterval(() => this.#start(), options.intervalMs ?? PRUNE_INTERVAL_MS);
    this.#start();
  }

  /** Resolves when the prune in progress (if any) is done. */
  async idle(): Promise<void> {
    await this.#running;
  }

  /** Cancels the schedule and waits for a prune in progress. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer.cancel();
    await this.#running;
  }

  #start(): void {
    // One prune at a time: a slow database skips a round instead of stacking deletes.
    if (this.#stopped || this.#running !== undefined) return;
    const { store, clock, olderThanMs, onPruned, onError } = this.#options;
    this.#running = pruneStories(store, olderThanMs, clock.now())
      .then(
        (deleted) => {
          this.stats.runs++;
          this.stats.deleted += deleted;
          if (deleted > 0) onPruned?.(deleted);
        },
        (err: unknown) => {
          this.stats.failures++;
          onError?.(err);
        },
      )
      .finally(() => {
        this.#running = undefined;
      });
  }
}
