/**
 * Baseline: raw NATS request/reply on loopback with the official client and nothing of ours. The
 * responder is a separate process (echo-proc), as the node is in the e2e run, so the ratio
 * e2e calls/s ÷ baseline requests/s compares like with like.
 */
import { connect } from '@nats-io/transport-node';
import { ECHO_SUBJECT } from './constants.js';
import { spawnBenchChild } from './proc.js';
import { round3, runBounded, summarize } from './stats.js';

export interface BaselineOptions {
  url: string;
  /** Number of timed requests (default 20 000). */
  requests?: number;
  /** Requests in flight at once (default 50). */
  concurrency?: number;
  /** Payload size in bytes (default 200: about one small JSON-RPC request). */
  payloadBytes?: number;
}

export interface BaselineResult {
  requests: number;
  concurrency: number;
  payloadBytes: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

export async function runBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const requests = options.requests ?? 20_000;
  const concurrency = options.concurrency ?? 50;
  const payloadBytes = options.payloadBytes ?? 200;
  const echo = await spawnBenchChild('echo-proc.js', [options.url]);
  const nc = await connect({ servers: options.url, name: 'bench-baseline' });
  try {
    const payload = new Uint8Array(payloadBytes).fill(0x61);
    // Warm-up: JIT and the client's muxed inbox subscription.
    await runBounded(Math.min(2000, requests), concurrency, async () => {
      await nc.request(ECHO_SUBJECT, payload, { timeout: 5000 });
    });
    const run = await runBounded(requests, concurrency, async () => {
      await nc.request(ECHO_SUBJECT, payload, { timeout: 5000 });
    });
    const s = summarize(run.latencies);
    return {
      requests,
      concurrency,
      payloadBytes,
      requestsPerSec: round3((run.latencies.length / run.elapsedMs) * 1000),
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      failures: run.failures,
    };
  } finally {
    await nc.close();
    await echo.stop();
  }
}
