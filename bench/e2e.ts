/**
 * End-to-end IVR benchmark: the node (XNode + SimMedia) and the controller run in SEPARATE processes
 * over NATS; this load driver injects inbound calls with `XNode.SimCall` (bounded concurrency) and
 * counts completions by `Event.CDR`. Each call: inbound with a pre-pressed digit → Answer → Play
 * `silence_stream://0` → ReadDTMF → Hangup → CDR. Latency = SimCall sent → CDR received.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CTRL_STATS_SUBJECT } from './constants.js';
import { spawnBenchChild } from './proc.js';
import { round3, runBounded, summarize } from './stats.js';

export interface E2eOptions {
  url: string;
  /** Timed calls (default 5000). */
  calls?: number;
  /** Calls in flight at once (default 200). */
  concurrency?: number;
  /** Warm-up calls before timing (default 500). */
  warmup?: number;
  /** Give up on one call after this many ms (default 15 000). */
  callTimeoutMs?: number;
}

export interface E2eResult {
  calls: number;
  concurrency: number;
  completed: number;
  failures: number;
  firstError: string | undefined;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Messages the controller sent to node subjects per completed call (requests + publishes). */
  rpcsPerCall: number | undefined;
  ctrlFlowFailures: number | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Tracks CDRs by channel uuid; a CDR may overtake the SimCall reply, so early ones are remembered. */
class CdrWaiter {
  readonly #early = new Set<string>();
  readonly #waiting = new Map<string, () => void>();

  seen(uuid: string): void {
    const w = this.#waiting.get(uuid);
    if (w) {
      this.#waiting.delete(uuid);
      w();
    } else this.#early.add(uuid);
  }

  wait(uuid: string, timeoutMs: number): Promise<void> {
    if (this.#early.delete(uuid)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(uuid);
        reject(new Error(`no CDR for ${uuid} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(uuid, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

let seq = 0;

async function oneCall(nc: NatsConnection, cdrs: CdrWaiter, timeoutMs: number): Promise<void> {
  const n = ++seq;
  const request = {
    jsonrpc: '2.0',
    id: `bench-${n}`,
    method: 'XNode.SimCall',
    params: {
      ctrl_uuid: 'bench-driver',
      cid_number: `2${String(n).padStart(9, '0')}`,
      dest_number: '8000',
      script: [{ dtmf: '1' }],
    },
  };
  const reply = await nc.request('cn.xswitch.node', encoder.encode(JSON.stringify(request)), {
    timeout: timeoutMs,
  });
  const json = JSON.parse(decoder.decode(reply.data)) as {
    result?: { code?: number; uuid?: string; message?: string };
  };
  const uuid = json.result?.uuid;
  if (json.result?.code !== 200 || typeof uuid !== 'string') {
    throw new Error(`SimCall failed: ${decoder.decode(reply.data)}`);
  }
  await cdrs.wait(uuid, timeoutMs);
}

export async function runE2e(options: E2eOptions): Promise<E2eResult> {
  const calls = options.calls ?? 5000;
  const concurrency = options.concurrency ?? 200;
  const warmup = options.warmup ?? 500;
  const callTimeoutMs = options.callTimeoutMs ?? 15_000;
  // BENCH_CPU_PROF=<dir>: write V8 CPU profiles of the node and controller processes there.
  const profDir = process.env.BENCH_CPU_PROF;
  const nodeArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const node = await spawnBenchChild('node-proc.js', [options.url], { nodeArgs });
  const ctrl = await spawnBenchChild('ctrl-proc.js', [options.url], { nodeArgs });
  const nc = await connect({ servers: options.url, name: 'bench-driver' });
  try {
    const cdrs = new CdrWaiter();
    nc.subscribe('cn.xswitch.cdr', {
      callback: (err, msg) => {
        if (err) return;
        const json = JSON.parse(decoder.decode(msg.data)) as { params?: { uuid?: string } };
        const uuid = json.params?.uuid;
        if (typeof uuid === 'string') cdrs.seen(uuid);
      },
    });
    await nc.flush();
    await runBounded(warmup, concurrency, () => oneCall(nc, cdrs, callTimeoutMs));
    const before = await ctrlStats(nc);
    const run = await runBounded(calls, concurrency, () => oneCall(nc, cdrs, callTimeoutMs));
    const after = await ctrlStats(nc);
    const s = summarize(run.latencies);
    const completed = run.latencies.length;
    return {
      calls,
      concurrency,
      completed,
      failures: run.failures,
      firstError: run.firstError ?? after.firstError,
      callsPerSec: round3((completed / run.elapsedMs) * 1000),
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      rpcsPerCall: completed > 0 ? round3((after.sentToNode - before.sentToNode) / completed) : undefined,
      ctrlFlowFailures: after.failures,
    };
  } finally {
    await nc.close();
    await ctrl.stop();
    await node.stop();
  }
}

interface CtrlStats {
  calls: number;
  failures: number;
  firstError?: string;
  sentToNode: number;
}

async function ctrlStats(nc: NatsConnection): Promise<CtrlStats> {
  const msg = await nc.request(CTRL_STATS_SUBJECT, new Uint8Array(0), { timeout: 5000 });
  return JSON.parse(decoder.decode(msg.data)) as CtrlStats;
}
