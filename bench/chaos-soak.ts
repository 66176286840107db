/**
 * Chaos soak (issue 6): simulated inbound IVR calls through the whole spine — XNode + SimMedia and a
 * Controller, each on its own NatsBus connection to a real nats-server, in ONE process on the real
 * clock — in four runs of the same size:
 *
 * 1. `plain`  — no faults, no transaction layer: the baseline calls/s;
 * 2. `layer`  — no faults, the seed-004 layer on at both ends: the cost of the layer;
 * 2b. `batched` — as `layer`, plus the transaction sender (`reliability.batching`) at both ends: small
 *    messages to one destination packed into JSON-RPC batches (messages per call vs calls/s);
 * 3. `chaos`  — the layer on, and both connections wrapped in a `FaultBus` with one rule on every
 *    subject (`>`) for every kind of traffic each side sends (publish, request, reply): 1 % loss,
 *    1 % duplication, 20 ms reorder window.
 *
 * Each call: the driver `inject`s an inbound caller who pressed `1`; the controller's flow Answers,
 * Plays `silence_stream://200`, ReadDTMFs the digit, Hangs up. Per run: calls injected, completed
 * (flow ok), failed (by error class), not offered (START lost: the node's 10 s takeover rule ends
 * them), stuck (calls still up on either side after a drain period, target 0), transactions executed
 * twice on the node (`onExecute` count > 1, target 0), calls/s, p50/p99 call time, FaultBus counters.
 * Prints one JSON object on stdout (progress on stderr). Standalone:
 *
 *   npx tsx bench/chaos-soak.ts          (or, after a build: node dist/bench/chaos-soak.js)
 *
 * Knobs: BENCH_SOAK_CALLS (calls per run, default 10 000), BENCH_SOAK_CONCURRENCY (in flight, default
 * 1000), BENCH_SOAK_SEED (FaultBus seed, default 2026). `runChaosSoak` is exported for bench/run.ts.
 */
import { fileURLToPath } from 'node:url';
import { FaultBus, type FaultRule, type FaultStats, NatsBus } from '../src/bus/index.js';
import { RealClock } from '../src/clock/index.js';
import { type Call, Controller, type ControllerLeaks, type ControllerStats } from '../src/ctrl/index.js';
import {
  type FarEndEvent,
  type MediaBackend,
  type MediaSession,
  type MediaSink,
  type NodeLeaks,
  XNode,
} from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';
import { CountingBus } from './counting-bus.js';
import { startBenchNats } from './nats.js';
import { round3, summarize } from './stats.js';

export interface ChaosSoakOptions {
  /** nats-server to use; default: start one on a free loopback port for the soak. */
  url?: string;
  /** Calls per run (default 10 000). */
  calls?: number;
  /**
   * Calls in flight (default 1000). With 200 the run is latency-bound (a call lasts ~250 ms, mostly the
   * 200 ms prompt: 200 ÷ 0.25 s = 800 calls/s whatever the code costs); 1000 keeps the CPU busy, so the
   * plain/layer ratio shows what the layer costs.
   */
  concurrency?: number;
  /** Loss probability per message in the chaos run (default 0.01). */
  loss?: number;
  /** Duplication probability per message in the chaos run (default 0.01). */
  duplicate?: number;
  /** FaultBus reorder window in ms in the chaos run (default 20). */
  reorderWindowMs?: number;
  /** Seed of the node's FaultBus; the controller's is seed + 1 (default 2026). */
  seed?: number;
  /** Prompt length in ms (`silence_stream://N`, default 200). */
  promptMs?: number;
  /** Un-reported warm-up calls before the first run, once plain and once with the layer, no faults (default min(500, calls / 10)). */
  warmupCalls?: number;
  /** After the last call, wait at most this long for both sides to let go of everything (default 60 000). */
  drainMs?: number;
  /** A driver slot gives up on one call after this long (the call then shows as stuck; default 120 000). */
  callCapMs?: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export type SoakRunName = 'plain' | 'layer' | 'batched' | 'chaos';

/** Calls left on either side after the drain period (target: all 0). */
export interface SoakStuck {
  /** Calls (by channel uuid) not finished: node channel still up, or a flow the controller started still running. */
  calls: number;
  /** Node channels still up. */
  nodeChannels: number;
  /** Controller flows still running. */
  ctrlFlows: number;
  /** Controller call records still held (flow over, record not released). */
  ctrlCalls: number;
  /** Controller RPCs still pending. */
  ctrlRpcPending: number;
  /** Requests the node is still handling. */
  nodeRpcInflight: number;
  /** Driver slots that gave up on a call after `callCapMs`. */
  slotsCapped: number;
}

export interface SoakRunResult {
  run: SoakRunName;
  reliability: boolean;
  /** The transaction sender on at both ends (`reliability.batching`). */
  batching: boolean;
  /** Bus messages the controller sent to node subjects, per injected call (batches count once). */
  ctrlMessagesPerCall: number;
  /**
   * Bus publishes the node made to ctrl subjects, per injected call: events, and the answers of the
   * reliable runs (plain runs answer on reply inboxes, which this does not count).
   */
  nodeMessagesPerCall: number;
  /** The FaultBus rule on both connections (null: no FaultBus). */
  faults: FaultRule | null;
  concurrency: number;
  /** Calls the driver created on the node (`XNode.inject`). */
  injected: number;
  /** `inject` threw (node refused the call). */
  injectErrors: number;
  /** Calls the controller received (its flow started). */
  offered: number;
  /** START lost on the way: the controller never heard of the call; the node hung it up (10 s rule). */
  notOffered: number;
  /** Flows that ran to the end (answer, play, digit `1`, hangup). */
  completed: number;
  /** Flows that ended with an error, by error class name (`err.name`). */
  failed: Record<string, number>;
  failedTotal: number;
  /** First message seen per failure class. */
  failedExamples: Record<string, string>;
  stuck: SoakStuck;
  /** Transactions the node executed (ids seen by `onExecute`); null without the layer. */
  transactions: number | null;
  /** Transaction ids executed more than once on the node (target 0); null without the layer. */
  executedTwice: number | null;
  /**
   * Side effects seen by the media backend itself, independent of the layer's bookkeeping: channels on
   * which the prompt was played, or digits collected, more than once (target 0; the flow does each once).
   */
  mediaRepeated: { plays: number; collects: number };
  /** Plays and digit collections started on the node, in total. */
  mediaOps: { plays: number; collects: number };
  /** Completed calls ÷ load phase (first inject → last call gone), in calls/s. */
  callsPerSec: number;
  /**
   * Completed calls/s between the 10th and the 90th percentile of their end times: the rate while the
   * pipe is full, without the start-up ramp and the tail (a lost START holds its slot for 10 s).
   */
  steadyCallsPerSec: number;
  /** Call time of completed calls: inject → node channel gone (DESTROY), ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  loadMs: number;
  /** How long the drain took (stops early once both sides hold nothing). */
  drainMs: number;
  /** Offered + not offered + stuck-before-offer reconcile with injected (sanity). */
  accounted: boolean;
  ctrl: ControllerStats;
  ctrlLeaks: ControllerLeaks;
  nodeLeaks: NodeLeaks;
  /** FaultBus counters of the node's and the controller's connection (null: no FaultBus). */
  faultStats: { node: FaultStats; ctrl: FaultStats } | null;
}

export interface ChaosSoakResult {
  calls: number;
  concurrency: number;
  promptMs: number;
  seed: number;
  warmupCalls: number;
  setup: string;
  runs: Record<SoakRunName, SoakRunResult>;
  /** calls/s of `layer` ÷ `plain` (1 = the layer costs nothing). */
  ratioLayerToPlain: number;
  /** calls/s of `chaos` ÷ `plain`. */
  ratioChaosToPlain: number;
  /** calls/s with the transaction sender on (layer + batching, no faults) ÷ plain. */
  ratioBatchedToPlain: number;
  steadyRatioBatchedToPlain: number;
  /** The same two ratios on `steadyCallsPerSec`. */
  steadyRatioLayerToPlain: number;
  steadyRatioChaosToPlain: number;
}

/** The flow's own failure: the digit read back was not the one the caller pressed. */
export class SoakDigitMismatchError extends Error {
  override readonly name = 'SoakDigitMismatchError';
  constructor(readonly digits: string) {
    super(`expected digit 1, got ${JSON.stringify(digits)}`);
  }
}

/**
 * The node's media backend with a hook on `close()`: the node closes a channel's media exactly when the
 * channel ends (hangup, takeover timeout), so the driver learns "this call is gone" without polling.
 */
class TrackingMedia implements MediaBackend {
  readonly name: string;
  /** Plays and digit collections started, per channel uuid: the side effects a resend must not repeat. */
  readonly ops = new Map<string, { play: number; collect: number }>();
  readonly #inner: MediaBackend;
  readonly #onClose: (uuid: string) => void;

  constructor(inner: MediaBackend, onClose: (uuid: string) => void) {
    this.name = inner.name;
    this.#inner = inner;
    this.#onClose = onClose;
  }

  start(sink: MediaSink): void {
    this.#inner.start(sink);
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }

  open(channel: Parameters<MediaBackend['open']>[0], events: (ev: FarEndEvent) => void): MediaSession {
    const s = this.#inner.open(channel, events);
    const onClose = this.#onClose;
    const ops = { play: 0, collect: 0 };
    this.ops.set(channel.uuid, ops);
    let closed = false;
    return {
      play: (media, signal) => {
        ops.play++;
        return s.play(media, signal);
      },
      durationOf: (media) => s.durationOf(media),
      record: (options, signal) => s.record(options, signal),
      collectDigits: (options, signal) => {
        ops.collect++;
        return s.collectDigits(options, signal);
      },
      detectSpeech: (options, signal) => s.detectSpeech(options, signal),
      sendDtmf: (digits) => s.sendDtmf(digits),
      startScript: (script) => s.startScript(script),
      close: () => {
        s.close();
        if (closed) return;
        closed = true;
        onClose(channel.uuid);
      },
    };
  }

  originate(...args: Parameters<MediaBackend['originate']>): ReturnType<MediaBackend['originate']> {
    return this.#inner.originate(...args);
  }
}

const noopLog = (): void => {};

function envInt(name: string, fallback: number): number {
  const n = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

interface RunSpec {
  name: SoakRunName | 'warmup';
  reliable: boolean;
  batching?: boolean;
  rule: FaultRule | null;
}

interface Tracked {
  t0: number;
  goneAt?: number;
  offered: boolean;
  /** 'ok' or the error class name; undefined while the flow runs. */
  outcome?: string;
  gone?: () => void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One run: fresh node, controller and connections on the shared nats-server; everything closed at the end. */
async function soakRun(
  url: string,
  spec: RunSpec,
  o: Required<Omit<ChaosSoakOptions, 'url' | 'log' | 'warmupCalls'>> & { calls: number },
  log: (line: string) => void,
): Promise<SoakRunResult> {
  const calls = new Map<string, Tracked>();
  const executions = new Map<string, number>();
  const nodeClock = new RealClock();
  const ctrlClock = new RealClock();
  const nodeNats = await NatsBus.connect({ servers: url, name: `soak-${spec.name}-node` });
  const ctrlNats = await NatsBus.connect({ servers: url, name: `soak-${spec.name}-ctrl` });
  const nodeFault = spec.rule ? new FaultBus(nodeNats, { seed: o.seed, rules: [spec.rule] }) : undefined;
  const ctrlFault = spec.rule ? new FaultBus(ctrlNats, { seed: o.seed + 1, rules: [spec.rule] }) : undefined;
  const nodeBus = new CountingBus(nodeFault ?? nodeNats, 'cn.xswitch.ctrl');
  const ctrlBus = new CountingBus(ctrlFault ?? ctrlNats, 'cn.xswitch.node');
  const batching = spec.batching === true ? { batching: {} } : {};

  const sim = new SimMedia({ clock: nodeClock });
  const media = new TrackingMedia(sim, (uuid) => {
    const c = calls.get(uuid);
    if (!c || c.goneAt !== undefined) return;
    c.goneAt = performance.now();
    c.gone?.();
  });
  const node = new XNode({
    bus: nodeBus,
    clock: nodeClock,
    media,
    name: `soak-${spec.name}`,
    reliability: spec.reliable
      ? { onExecute: ({ id }) => executions.set(id, (executions.get(id) ?? 0) + 1), ...batching }
      : false,
  });
  const ctrl = new Controller({
    bus: ctrlBus,
    clock: ctrlClock,
    reliability: spec.reliable ? batching : false,
  });
  const failedExamples: Record<string, string> = {};
  ctrl.onCall(async (call: Call) => {
    const c = calls.get(call.uuid);
    if (c) c.offered = true;
    let outcome = 'ok';
    try {
      await call.answer();
      await call.play(`silence_stream://${o.promptMs}`);
      const input = await call.readDtmf({ min: 1, max: 1, timeoutMs: 5000 });
      if (input.digits !== '1') throw new SoakDigitMismatchError(input.digits);
      await call.hangup();
    } catch (err) {
      outcome = err instanceof Error ? err.name : typeof err;
      failedExamples[outcome] ??= err instanceof Error ? err.message : String(err);
      // why: rethrown so the controller counts it (flowsFailed) and hangs the call up, as for any app.
      throw err;
    } finally {
      if (c) c.outcome = outcome;
    }
  });
  await node.start();
  await ctrl.start();
  await nodeNats.flush();
  await ctrlNats.flush();

  // ---- load: keep `concurrency` calls in flight ----------------------------------------------------
  let next = 0;
  let injectErrors = 0;
  let slotsCapped = 0;
  const t0 = performance.now();
  let lastGone = t0;
  const worker = async (): Promise<void> => {
    while (next < o.calls) {
      const n = next++;
      let uuid: string;
      const tracked: Tracked = { t0: performance.now(), offered: false };
      try {
        uuid = node.inject({
          cid_name: 'Soak',
          cid_number: `3${String(n).padStart(9, '0')}`,
          dest_number: '8000',
          script: [{ dtmf: '1' }],
        });
      } catch {
        injectErrors++;
        continue;
      }
      calls.set(uuid, tracked);
      await new Promise<void>((resolve) => {
        const cap = setTimeout(() => {
          slotsCapped++;
          resolve();
        }, o.callCapMs);
        tracked.gone = () => {
          clearTimeout(cap);
          resolve();
        };
      });
      lastGone = Math.max(lastGone, tracked.goneAt ?? performance.now());
      if (n > 0 && n % 2000 === 0) log(`${spec.name}: ${n} calls`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.calls) }, worker));
  const loadMs = lastGone - t0;

  // ---- drain: give lost DESTROYs (5 s check), resends (7.5 s) and takeover (10 s) time to settle ----
  const drainStart = performance.now();
  const busy = (): boolean => {
    const l = ctrl.leaks();
    return node.channelCount > 0 || l.flows > 0 || l.calls > 0 || l.rpcPending > 0;
  };
  while (busy() && performance.now() - drainStart < o.drainMs) await sleep(100);
  const drainMs = performance.now() - drainStart;
  const ctrlLeaks = ctrl.leaks();
  const nodeLeaks = node.leaks();
  const ctrlStats = ctrl.stats();
  const faultStats = nodeFault && ctrlFault ? { node: nodeFault.stats, ctrl: ctrlFault.stats } : null;

  // ---- tally -----------------------------------------------------------------------------------------
  let offered = 0;
  let notOffered = 0;
  let completed = 0;
  let stuckCalls = 0;
  let notOfferedStuck = 0;
  const failed: Record<string, number> = {};
  const times: number[] = [];
  const ends: number[] = [];
  for (const c of calls.values()) {
    const up = c.goneAt === undefined;
    if (c.offered) {
      offered++;
      if (c.outcome === undefined || up) stuckCalls++;
      if (c.outcome === 'ok') {
        completed++;
        if (c.goneAt !== undefined) {
          times.push(c.goneAt - c.t0);
          ends.push(c.goneAt);
        }
      } else if (c.outcome !== undefined) failed[c.outcome] = (failed[c.outcome] ?? 0) + 1;
    } else if (up) {
      stuckCalls++;
      notOfferedStuck++;
    } else notOffered++;
  }
  const failedTotal = Object.values(failed).reduce((a, b) => a + b, 0);
  const twice = [...executions.values()].filter((n) => n > 1).length;
  const mediaRepeated = { plays: 0, collects: 0 };
  const mediaOps = { plays: 0, collects: 0 };
  for (const op of media.ops.values()) {
    mediaOps.plays += op.play;
    mediaOps.collects += op.collect;
    if (op.play > 1) mediaRepeated.plays++;
    if (op.collect > 1) mediaRepeated.collects++;
  }
  const s = summarize(times);
  ends.sort((a, b) => a - b);
  const i10 = Math.floor(ends.length * 0.1);
  const i90 = Math.floor(ends.length * 0.9);
  const steadySpan = (ends[i90] ?? 0) - (ends[i10] ?? 0);

  await ctrl.close();
  await node.stop();
  await media.stop();
  await ctrlBus.close();
  await nodeBus.close();

  return {
    run: spec.name === 'warmup' ? 'layer' : spec.name,
    reliability: spec.reliable,
    batching: spec.batching === true,
    ctrlMessagesPerCall: round3(ctrlBus.sentToPrefix / Math.max(1, calls.size)),
    nodeMessagesPerCall: round3(nodeBus.sentToPrefix / Math.max(1, calls.size)),
    faults: spec.rule,
    concurrency: o.concurrency,
    injected: calls.size,
    injectErrors,
    offered,
    notOffered,
    completed,
    failed,
    failedTotal,
    failedExamples,
    stuck: {
      calls: stuckCalls,
      nodeChannels: nodeLeaks.channels,
      ctrlFlows: ctrlLeaks.flows,
      ctrlCalls: ctrlLeaks.calls,
      ctrlRpcPending: ctrlLeaks.rpcPending,
      nodeRpcInflight: nodeLeaks.rpcInflight,
      slotsCapped,
    },
    transactions: spec.reliable ? executions.size : null,
    executedTwice: spec.reliable ? twice : null,
    mediaRepeated,
    mediaOps,
    callsPerSec: loadMs > 0 ? round3((completed / loadMs) * 1000) : 0,
    steadyCallsPerSec: steadySpan > 0 ? round3(((i90 - i10) / steadySpan) * 1000) : 0,
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    maxMs: s.maxMs,
    loadMs: Math.round(loadMs),
    drainMs: Math.round(drainMs),
    accounted: offered + notOffered + notOfferedStuck === calls.size,
    ctrl: ctrlStats,
    ctrlLeaks,
    nodeLeaks,
    faultStats,
  };
}

/**
 * Runs the warm-up and the three runs (plain, layer, chaos) against one nats-server and returns the
 * figures. Bounded: every call slot gives up after `callCapMs`, every drain after `drainMs`.
 */
export async function runChaosSoak(options: ChaosSoakOptions = {}): Promise<ChaosSoakResult> {
  const calls = options.calls ?? 10_000;
  const o = {
    calls,
    concurrency: options.concurrency ?? 1000,
    loss: options.loss ?? 0.01,
    duplicate: options.duplicate ?? 0.01,
    reorderWindowMs: options.reorderWindowMs ?? 20,
    seed: options.seed ?? 2026,
    promptMs: options.promptMs ?? 200,
    drainMs: options.drainMs ?? 60_000,
    callCapMs: options.callCapMs ?? 120_000,
  };
  const warmupCalls = options.warmupCalls ?? Math.min(500, Math.ceil(calls / 10));
  const log = options.log ?? noopLog;
  // Every message each side sends — events, reliable requests and answers (publishes), and plain
  // request/reply — passes this rule once; `deliver` is left alone so no message is faulted twice.
  const chaosRule: FaultRule = {
    subject: '>',
    traffic: ['publish', 'request', 'reply'],
    drop: o.loss,
    duplicate: o.duplicate,
    reorderWindowMs: o.reorderWindowMs,
  };
  const own = options.url === undefined ? await startBenchNats() : undefined;
  const url = options.url ?? own?.url ?? '';
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    if (warmupCalls > 0) {
      // why: the JIT and the connections warm up on both code paths, so run order does not favour one.
      log(`warm-up: ${warmupCalls} calls plain, ${warmupCalls} with the layer (no faults, not reported)`);
      for (const reliable of [false, true])
        await soakRun(url, { name: 'warmup', reliable, rule: null }, { ...o, calls: warmupCalls }, log);
    }
    const specs: RunSpec[] = [
      { name: 'plain', reliable: false, rule: null },
      { name: 'layer', reliable: true, rule: null },
      { name: 'batched', reliable: true, batching: true, rule: null },
      { name: 'chaos', reliable: true, rule: chaosRule },
    ];
    const runs = {} as Record<SoakRunName, SoakRunResult>;
    for (const spec of specs) {
      gc?.();
      log(`${spec.name}: ${calls} calls, ${o.concurrency} in flight`);
      const r = await soakRun(url, spec, o, log);
      runs[r.run] = r;
      log(
        `${spec.name}: ${r.completed} completed, ${r.failedTotal} failed, ${r.notOffered} not offered, ` +
          `${r.stuck.calls} stuck, ${r.executedTwice ?? '-'} executed twice, ` +
          `${r.mediaRepeated.plays + r.mediaRepeated.collects} media repeated, ${r.callsPerSec} calls/s ` +
          `(steady ${r.steadyCallsPerSec}), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`,
      );
    }
    const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);
    return {
      calls,
      concurrency: o.concurrency,
      promptMs: o.promptMs,
      seed: o.seed,
      warmupCalls,
      setup:
        'one process: XNode + SimMedia and Controller, each on its own NatsBus connection to a real ' +
        'nats-server (loopback), RealClock; chaos = FaultBus on both connections, one rule on ">" for ' +
        'publish, request and reply traffic',
      runs,
      ratioLayerToPlain: ratio(runs.layer.callsPerSec, runs.plain.callsPerSec),
      ratioChaosToPlain: ratio(runs.chaos.callsPerSec, runs.plain.callsPerSec),
      ratioBatchedToPlain: ratio(runs.batched.callsPerSec, runs.plain.callsPerSec),
      steadyRatioBatchedToPlain: ratio(runs.batched.steadyCallsPerSec, runs.plain.steadyCallsPerSec),
      steadyRatioLayerToPlain: ratio(runs.layer.steadyCallsPerSec, runs.plain.steadyCallsPerSec),
      steadyRatioChaosToPlain: ratio(runs.chaos.steadyCallsPerSec, runs.plain.steadyCallsPerSec),
    };
  } finally {
    await own?.stop();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  runChaosSoak({
    calls: envInt('BENCH_SOAK_CALLS', 10_000),
    concurrency: envInt('BENCH_SOAK_CONCURRENCY', 1000),
    seed: envInt('BENCH_SOAK_SEED', 2026),
    log: (line) => process.stderr.write(`[soak] ${line}\n`),
  }).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(
        `soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
