/** Latency statistics for the benchmark: percentiles over a sample of durations in ms. */

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Nearest-rank percentile of an ascending-sorted array (`p` in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Rounds to 3 decimals so the JSON stays readable. */
export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50Ms: round3(percentile(sorted, 50)),
    p99Ms: round3(percentile(sorted, 99)),
    maxMs: round3(sorted[sorted.length - 1] ?? Number.NaN),
    meanMs: round3(sorted.length === 0 ? Number.NaN : sum / sorted.length),
  };
}

/**
 * Runs `total` async jobs with at most `concurrency` in flight; returns each job's latency in ms and
 * the wall time of the whole run. A failing job counts in `failures` and is not timed.
 */
export async function runBounded(
  total: number,
  concurrency: number,
  job: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; elapsedMs: number; failures: number; firstError: string | undefined }> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      try {
        await job(i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        failures++;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { latencies, elapsedMs: performance.now() - started, failures, firstError };
}
