/**
 * The graph example app (app.json + per-call.json) on a simulated node, in virtual time: the order in
 * which billing/report/router start and stop (from the app graph's event log), metering and reporting
 * of calls, the per-call pipeline's order, and no leftovers after many calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock/index.js';
import type { BillingReport, CallEnd, MetricsCounters, RouterStatus } from '../../src/cli/app/index.js';
import type { CmdResult, Graph, GraphEvent } from '../../src/graph/index.js';
import type { CallerStep } from '../../src/node/media.js';
import { type Example, startExample } from './harness.js';

const decoder = new TextDecoder();

function detail<T>(result: CmdResult): T {
  if (result.status !== 'ok') throw new Error(`command failed: ${result.code} ${result.message}`);
  return result.detail as T;
}

/** `extension:stage_kind` for every stage event, in log order. */
function stages(events: readonly GraphEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === 'stage_begin' || e.type === 'stage_done'
      ? [`${e.extension}:${e.stage}_${e.type.slice(6)}`]
      : [],
  );
}

describe('examples/graph: the controller app', () => {
  let clock: VirtualClock;
  let ex: Example | undefined;
  let out: string[];
  let pipelines: Map<string, Graph>;

  async function start(withPipelines = true): Promise<Example> {
    clock = new VirtualClock();
    out = [];
    pipelines = new Map();
    ex = await startExample({
      clock,
      out: (line) => out.push(line),
      ...(withPipelines ? { onPipeline: (uuid: string, g: Graph) => pipelines.set(uuid, g) } : {}),
    });
    return ex;
  }

  afterEach(async () => {
    await ex?.stop();
    ex = undefined;
  });

  const reports = (): CallEnd[] => out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as CallEnd);

  async function runUntil(done: () => boolean, limitMs = 120_000): Promise<void> {
    for (let t = 0; t < limitMs; t += 500) {
      await clock.advance(500);
      if (done()) return;
    }
    throw new Error('condition not reached in virtual time');
  }

  it('starts billing and report before the router takes a call, and stops them last', async () => {
    const { graph, node } = await start();
    const log = stages(graph.events);
    const at = (s: string): number => log.indexOf(s);
    expect(at('billing:start_done')).toBeGreaterThanOrEqual(0);
    expect(at('billing:start_done')).toBeLessThan(at('report:start_begin'));
    expect(at('report:start_done')).toBeLessThan(at('observability/metrics:start_begin'));
    expect(at('observability/metrics:start_done')).toBeLessThan(at('router:start_begin'));
    // A call in progress when the app closes is still metered and reported: the router lets go of it
    // (flow cancelled, call hung up, call_end sent) before report and billing stop.
    const uuid = node.inject({
      cid_name: 'Caller',
      cid_number: '1001',
      dest_number: '800',
      script: [{ wait: 60_000 }],
    });
    await clock.advance(3000);
    const closing = graph.close('test');
    await runUntil(() => graph.state === 'closed');
    const report = await closing;
    expect(report.failures).toEqual([]);
    const stops = stages(graph.events).filter((s) => s.endsWith(':stop_done'));
    expect(stops).toEqual([
      'router:stop_done',
      'observability/metrics:stop_done',
      'report:stop_done',
      'billing:stop_done',
      'main:stop_done',
    ]);
    expect(reports().map((r) => r.uuid)).toEqual([uuid]);
    expect(reports()[0]?.outcome).toBe('cancelled');
  });

  it('meters and reports a call through the app (billing, report line, metrics)', async () => {
    const { graph } = await start();
    // Press 2: voicemail, recorded for ~3 s, then # ends it; the IVR thanks and hangs up.
    const uuid = ex!.node.inject({
      cid_name: 'Caller',
      cid_number: '1002',
      dest_number: '800',
      script: [{ wait: 2500 }, { dtmf: '2' }, { wait: 12_000 }, { dtmf: '#' }],
    });
    await runUntil(() => reports().length === 1);
    const [line] = reports();
    expect(line).toMatchObject({ uuid, cid_number: '1002', dest_number: '800', outcome: 'completed' });
    expect(line!.answered_at).toBeGreaterThanOrEqual(line!.started_at);
    expect(line!.ended_at).toBeGreaterThan(line!.answered_at!);
    expect(line!.billable_ms).toBeGreaterThan(10_000);
    expect(line!.billable_seconds).toBe(Math.ceil(line!.billable_ms / 1000));
    const billing = detail<BillingReport>(await graph.sendCmd('billing', 'billing', { uuid }));
    expect(billing.records).toHaveLength(1);
    expect(billing.records[0]).toMatchObject({
      uuid,
      state: 'ended',
      billable_ms: line!.billable_ms,
      billable_seconds: line!.billable_seconds,
      answered_at: line!.answered_at,
    });
    const metrics = detail<MetricsCounters>(await graph.sendCmd('observability', 'metrics'));
    expect(metrics).toEqual({ calls: 1, answered: 1, failed: 0, active: 0 });
  });

  it('starts each per-call pipeline in order and stops it in reverse, billing last, at hang-up', async () => {
    const wire: { method: string; action?: unknown }[] = [];
    await start();
    const tap = ex!.broker.connect('tap');
    tap.subscribe('cn.xswitch.>', {
      callback: (msg) => {
        const v = JSON.parse(decoder.decode(msg.data)) as { method?: string; params?: { action?: unknown } };
        if (v.method === 'XNode.Record') wire.push({ method: v.method, action: v.params?.action });
      },
    });
    const script: CallerStep[] = [{ wait: 2500 }, { dtmf: '7' }, { wait: 3000 }, { hangup: {} }];
    const uuid = ex!.node.inject({ cid_name: 'Caller', cid_number: '1004', dest_number: '800', script });
    await runUntil(() => reports().length === 1);
    const pipeline = pipelines.get(uuid);
    expect(pipeline?.state).toBe('closed');
    const log = stages(pipeline!.events);
    expect(log.filter((s) => s.endsWith(':start_done'))).toEqual([
      'billing:start_done',
      'recorder:start_done',
      'asr:start_done',
    ]);
    expect(log.filter((s) => s.endsWith(':stop_done'))).toEqual([
      'asr:stop_done',
      'recorder:stop_done',
      'billing:stop_done',
    ]);
    // The recorder really started a recording on the node; the summary travels with call_end.
    expect(wire.some((m) => m.action === 'START')).toBe(true);
    const [line] = reports();
    expect(line!.pipeline).toMatchObject({ recording: `pipeline/${uuid}.wav`, failures: [] });
    expect(line!.pipeline!.metered_ms).toBeGreaterThan(5000);
    expect(line!.pipeline!.transcript).toBe('[en-US] 7');
    const status = detail<RouterStatus>(await ex!.graph.sendCmd('router', 'status'));
    expect(status.active_pipelines).toBe(0);
    await tap.close();
  });

  it('a thousand calls leave no per-call graphs, timers or subscriptions behind', async () => {
    const { graph, appBus, node } = await start(false);
    await clock.advance(0);
    const baseTimers = clock.pending;
    const baseSubs = appBus.subscriptionCount;
    const callers = 1000;
    for (let i = 0; i < callers; i++) {
      node.inject({
        cid_name: 'Caller',
        cid_number: String(2000 + i),
        dest_number: '800',
        script: [{ wait: 1500 }, { hangup: {} }],
      });
    }
    await runUntil(() => reports().length === callers, 60_000);
    await clock.advance(2000);
    const status = detail<RouterStatus>(await graph.sendCmd('router', 'status'));
    expect(status).toMatchObject({
      active_calls: 0,
      active_pipelines: 0,
      pipeline_failures: 0,
      calls_taken: callers,
    });
    expect(status.leaks).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });
    expect(node.channelCount).toBe(0);
    expect(clock.pending).toBe(baseTimers);
    expect(appBus.subscriptionCount).toBe(baseSubs);
    const billing = detail<BillingReport>(await graph.sendCmd('billing', 'billing'));
    expect(billing).toMatchObject({ calls: callers, active: 0, ended: callers });
    expect(new Set(reports().map((r) => r.uuid)).size).toBe(callers);
  });
});
