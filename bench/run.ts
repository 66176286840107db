/**
 * The benchmark entry (`npm run bench` → `node dist/bench/run.js`): starts its own nats-server on
 * loopback, runs (1) the raw-NATS request/reply baseline, (2) the end-to-end IVR run with node and
 * controller in separate processes, (3) the heap-per-held-call measurement, (4) the CDR pipeline
 * (`cdr`: ESL parse, route, extract; see bench/cdr-parse.ts), and prints ONE JSON object
 * on stdout. Progress goes to stderr. Each part is bounded in count and time and stops by itself; a
 * failing part is reported as `{error}` in the JSON and does not hide the others. Figures are never
 * asserted anywhere (see docs/benchmarks.md for targets and how to read them).
 *
 * Environment knobs (optional): BENCH_BASELINE_REQUESTS, BENCH_CONCURRENCY, BENCH_CALLS,
 * BENCH_CALL_CONCURRENCY, BENCH_HELD_CALLS, BENCH_CDR_EVENTS, BENCH_CDR_ROUNDS, BENCH_SOAK_CALLS,
 * BENCH_SOAK_CONCURRENCY. The `chaos` part (bench/chaos-soak.ts) runs after e2e on the same nats-server.
 */
import { availableParallelism, cpus } from 'node:os';
import { runBaseline } from './baseline.js';
import { runCdrMemory } from './cdr-memory.js';
import { runCdrParseBench } from './cdr-parse.js';
import { runChaosSoak } from './chaos-soak.js';
import { runE2e } from './e2e.js';
import { runHeap } from './heap.js';
import { startBenchNats } from './nats.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

async function part<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  const t0 = performance.now();
  log(`${name}…`);
  try {
    const result = await fn();
    log(`${name} done in ${Math.round(performance.now() - t0)} ms`);
    return result;
  } catch (err) {
    log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model,
    startedAt: new Date().toISOString(),
  };
  // max_payload as the tests use it; irrelevant for these small messages.
  const nats = await startBenchNats();
  log(`nats-server on ${nats.url}`);
  try {
    const baseline = await part('baseline (raw NATS request/reply)', () =>
      runBaseline({
        url: nats.url,
        requests: envInt('BENCH_BASELINE_REQUESTS', 20_000),
        concurrency: envInt('BENCH_CONCURRENCY', 50),
      }),
    );
    report.baseline = baseline;
    const e2e = await part('e2e (IVR calls, node and ctrl in separate processes)', () =>
      runE2e({
        url: nats.url,
        calls: envInt('BENCH_CALLS', 5000),
        concurrency: envInt('BENCH_CALL_CONCURRENCY', 200),
      }),
    );
    report.e2e = e2e;
    if ('requestsPerSec' in baseline && 'callsPerSec' in e2e && baseline.requestsPerSec > 0) {
      report.ratioE2eCallsToBaselineRequests =
        Math.round((e2e.callsPerSec / baseline.requestsPerSec) * 10_000) / 10_000;
    }
    report.chaos = await part('chaos (soak: plain, layer, layer + 1 % loss/dup + 20 ms reorder)', () =>
      runChaosSoak({
        url: nats.url,
        calls: envInt('BENCH_SOAK_CALLS', 10_000),
        concurrency: envInt('BENCH_SOAK_CONCURRENCY', 1000),
        log,
      }),
    );
  } finally {
    await nats.stop();
  }
  report.heapPerHeldCall = await part('heap per held call (MemoryBus, one process)', () =>
    runHeap(envInt('BENCH_HELD_CALLS', 10_000)),
  );
  report.cdr = await part('cdr (ESL parse, route, extract on one core)', () =>
    Promise.resolve(
      runCdrParseBench({
        events: envInt('BENCH_CDR_EVENTS', 100_000),
        rounds: envInt('BENCH_CDR_ROUNDS', 5),
      }),
    ),
  );
  // BENCH_CDR_OPEN_CALLS (default 100 000): calls held open by the story engine (bench/cdr-memory.ts).
  report.cdrMemory = await part('cdr memory (open calls held by the story engine)', () =>
    runCdrMemory(envInt('BENCH_CDR_OPEN_CALLS', 100_000)),
  );
  report.finishedAt = new Date().toISOString();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
