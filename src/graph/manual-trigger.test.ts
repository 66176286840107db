import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import type { CmdResult } from './messages.js';
import { Graph } from './graph.js';
import { chain, MANUAL_START_STOP, probeRegistry } from './test-support.js';

const MANUAL_START = { manual_trigger_life_cycle: [{ stage: 'start' }] };
const MANUAL_STOP = { manual_trigger_life_cycle: [{ stage: 'stop' }] };

describe('manual lifecycle triggers', () => {
  it('a manual start extension waits for its trigger (start on demand), and is stopped on close all the same', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['translator']);
    const graph = new Graph(chain(['translator'], { translator: MANUAL_START }), { registry, clock });
    await graph.start();
    expect(graph.stateOf('translator')).toBe('on_init_done');
    await clock.advance(60_000);
    expect(log).not.toContain('translator:start');
    await expect(graph.triggerLifeCycle('translator', 'start')).resolves.toMatchObject({
      status: 'ok',
      final: true,
    });
    expect(graph.stateOf('translator')).toBe('on_start_done');
    await graph.close();
    expect(log).toContain('translator:stop_done');
  });

  it('case 36: a start trigger sent before init runs onStart exactly once, answered ok after onStart is done', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, { b: { hold: ['init', 'start'] } });
    const graph = new Graph(chain(['b'], { b: MANUAL_START }), { registry, clock });
    const started = graph.start();
    await clock.tick();
    expect(graph.stateOf('b')).toBe('on_init');
    let answer: CmdResult | undefined;
    const trigger = graph.triggerLifeCycle('b', 'start').then((r) => {
      answer = r;
    });
    probes.get('b')!.release('init');
    await started;
    await clock.tick();
    expect(graph.stateOf('b')).toBe('on_start');
    expect(answer).toBeUndefined(); // answered at on_start_done, not before
    probes.get('b')!.release('start');
    await trigger;
    expect(answer).toMatchObject({ status: 'ok', from: 'b' });
    expect(log.filter((l) => l === 'b:start')).toHaveLength(1);
    await graph.close();
    expect(log.filter((l) => l === 'b:start')).toHaveLength(1);
  });

  it('case 37: a trigger during onStart joins the stage; duplicates are answered once each; a new trigger after the stage is answered at once', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, { b: { hold: ['start'] } });
    const graph = new Graph(chain(['b'], { b: MANUAL_START }), { registry, clock });
    await graph.start();
    const answers: CmdResult[] = [];
    const first = graph.triggerLifeCycle('b', 'start').then((r) => answers.push(r));
    await clock.tick();
    expect(graph.stateOf('b')).toBe('on_start');
    const joined = graph.triggerLifeCycle('b', 'start').then((r) => answers.push(r));
    const joinedAgain = graph.triggerLifeCycle('b', 'start').then((r) => answers.push(r));
    await clock.tick();
    expect(answers).toEqual([]);
    expect(
      graph.events.filter((e) => e.type === 'trigger').map((e) => (e.type === 'trigger' ? e.outcome : '')),
    ).toEqual(['queued', 'joined', 'joined']);
    probes.get('b')!.release('start');
    await Promise.all([first, joined, joinedAgain]);
    expect(answers.map((a) => a.status)).toEqual(['ok', 'ok', 'ok']);
    expect(log.filter((l) => l === 'b:start')).toHaveLength(1);
    // After on_start_done (TEN left exactly this state hanging): an immediate, clear error.
    const late = await graph.triggerLifeCycle('b', 'start');
    expect(late).toMatchObject({
      status: 'error',
      code: 'STAGE_ALREADY_DONE',
      message: 'start of "b" is already done',
    });
    await graph.close();
    expect(await graph.triggerLifeCycle('b', 'start')).toMatchObject({ code: 'STAGE_ALREADY_DONE' });
  });

  it('case 38: a start trigger after close began gets STAGE_PASSED; the extension stops without ever starting', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, { b: { hold: ['init'] } });
    const graph = new Graph(chain(['b'], { b: MANUAL_START_STOP }), {
      registry,
      clock,
      gateTimeoutMs: 1_000,
    });
    const started = graph.start();
    // A trigger queued before close: answered STAGE_PASSED when close skips the start.
    const queued = graph.triggerLifeCycle('b', 'start');
    await clock.tick();
    const closed = graph.close();
    const afterClose = await graph.triggerLifeCycle('b', 'start');
    expect(afterClose).toMatchObject({ status: 'error', code: 'STAGE_PASSED' });
    probes.get('b')!.release('init');
    await started;
    await expect(queued).resolves.toMatchObject({ status: 'error', code: 'STAGE_PASSED' });
    // Manual stop still applies: it waits for the stop trigger.
    await clock.tick();
    expect(graph.stateOf('b')).toBe('prepare_to_stop');
    await expect(graph.triggerLifeCycle('b', 'stop')).resolves.toMatchObject({ status: 'ok' });
    await closed;
    expect(log).not.toContain('b:start');
    expect(log).toContain('b:stop_done');
    expect(clock.pending).toBe(0);
  });

  it('case 39: a manual stop with no trigger makes close wait until gateTimeout, then it stops anyway and records it', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['billing']);
    const graph = new Graph(chain(['billing'], { billing: MANUAL_STOP }), {
      registry,
      clock,
      gateTimeoutMs: 3_000,
    });
    await graph.start();
    let done = false;
    const closed = graph.close().then(() => {
      done = true;
    });
    await clock.advance(2_999);
    expect(done).toBe(false);
    expect(graph.stateOf('billing')).toBe('prepare_to_stop');
    await clock.advance(1);
    await closed;
    expect(log).toContain('billing:stop_done');
    expect(graph.events).toContainEqual(
      expect.objectContaining({ type: 'gate_wait', extension: 'billing', stage: 'stop' }),
    );
    expect(graph.events).toContainEqual(
      expect.objectContaining({
        type: 'gate_timeout',
        extension: 'billing',
        stage: 'stop',
        timeoutMs: 3_000,
      }),
    );
    expect(clock.pending).toBe(0);
  });

  it("case 39: with the stop trigger sent from a peer's onStop, the peer's stop is done only after the component's stop ok (business integration)", async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const trace = (line: string): void => {
      log.push(line);
    };
    const { registry } = probeRegistry(
      log,
      {
        main: {
          during: {
            // The seed's "main extension": billing and report first in, last out.
            start: async (env) => {
              for (const dest of ['billing', 'report']) {
                const r = await env.triggerLifeCycle(dest, 'start');
                trace(`main: ${dest} start ${r.status}`);
              }
            },
            stop: async (env) => {
              for (const dest of ['report', 'billing']) {
                const r = await env.triggerLifeCycle(dest, 'stop');
                trace(`main: ${dest} stop ${r.status}`);
              }
            },
          },
        },
        asr: {},
      },
      ['billing', 'report'],
    );
    // main is declared first: it starts first (and starts billing, report from its onStart) and, with
    // reverse-order stop, stops after asr (and stops report, billing from its onStop).
    const graph = new Graph(
      chain(['main', 'billing', 'report', 'asr'], { billing: MANUAL_START_STOP, report: MANUAL_START_STOP }),
      { registry, clock, order: 'declared' },
    );
    await graph.start();
    await graph.close();
    const at = (line: string): number => {
      const i = log.indexOf(line);
      expect(i, line).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(at('billing:start_done')).toBeLessThan(at('report:start'));
    expect(at('report:start_done')).toBeLessThan(at('asr:start')); // nothing unmetered
    expect(at('main: report start ok')).toBeLessThan(at('main:start_done'));
    expect(at('asr:stop_done')).toBeLessThan(at('billing:stop')); // media stopped before billing
    expect(at('report:stop_done')).toBeLessThan(at('main: report stop ok'));
    expect(at('billing:stop_done')).toBeLessThan(at('main: billing stop ok'));
    expect(at('main: billing stop ok')).toBeLessThan(at('main:stop_done'));
    expect(graph.events.some((e) => e.type === 'gate_timeout')).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('a stop trigger before close is latched: answered when close stops the extension', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['billing']);
    const graph = new Graph(chain(['billing'], { billing: MANUAL_STOP }), { registry, clock });
    await graph.start();
    let answer: CmdResult | undefined;
    const trigger = graph.triggerLifeCycle('billing', 'stop').then((r) => {
      answer = r;
    });
    await clock.advance(1_000);
    expect(answer).toBeUndefined();
    expect(graph.stateOf('billing')).toBe('on_start_done');
    await graph.close();
    await trigger;
    expect(answer).toMatchObject({ status: 'ok' });
    expect(graph.events.some((e) => e.type === 'gate_wait')).toBe(false);
  });

  it('case 40: triggers to a non-manual extension, with a missing or unknown stage, or an unsupported stage each fail at once with their own code', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['auto', 'm']);
    const graph = new Graph(chain(['auto', 'm'], { m: MANUAL_START_STOP }), { registry, clock });
    await graph.start();
    const results = await Promise.all([
      graph.triggerLifeCycle('auto', 'start'),
      graph.sendCmd('m', 'ten:trigger_life_cycle', {}),
      graph.triggerLifeCycle('m', 'restart'),
      graph.triggerLifeCycle('m', 'init'),
      graph.triggerLifeCycle('m', 'deinit'),
      graph.triggerLifeCycle('nobody', 'start'),
    ]);
    expect(results.map((r) => (r.status === 'error' ? r.code : 'ok'))).toEqual([
      'NOT_MANUAL',
      'MISSING_STAGE',
      'UNKNOWN_STAGE',
      'UNSUPPORTED_STAGE',
      'UNSUPPORTED_STAGE',
      'NO_ROUTE',
    ]);
    expect(results[0]).toMatchObject({
      message: 'extension "auto" is not configured for manual start control',
    });
    expect(results[2]).toMatchObject({ message: expect.stringContaining('unknown stage "restart"') });
    expect(results[3]).toMatchObject({
      message: 'manual trigger of stage "init" is not supported (only start and stop)',
    });
    expect(clock.pending).toBe(0); // nothing left waiting
    const closed = graph.close();
    await expect(graph.triggerLifeCycle('m', 'stop')).resolves.toMatchObject({ status: 'ok' });
    await closed;
  });

  it('ten:trigger_life_cycle cannot travel through connections: without a destination it is refused', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    let result: CmdResult | undefined;
    const { registry } = probeRegistry(
      log,
      {
        main: {
          during: {
            start: async (env) => {
              result = await env.sendCmd('ten:trigger_life_cycle', { stage: 'start' });
            },
          },
        },
      },
      ['m'],
    );
    const graph = new Graph(chain(['main', 'm'], { m: MANUAL_START }), { registry, clock });
    await graph.start();
    expect(result).toMatchObject({
      status: 'error',
      code: 'NO_ROUTE',
      message: 'ten:trigger_life_cycle can only be sent to an explicit destination',
    });
    await graph.close();
  });

  it('a subgraph forwards the trigger to the inner extension it exposes it to; without the exposure it is refused', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['main', 'biz', 'outer']);
    const subgraph = (expose: boolean): unknown => ({
      nodes: [
        { type: 'extension', name: 'main', addon: 'main', property: { ten: MANUAL_START_STOP } },
        { type: 'extension', name: 'biz', addon: 'biz', property: { ten: MANUAL_START_STOP } },
      ],
      exposed_messages: expose ? [{ type: 'cmd_in', name: 'ten:trigger_life_cycle', extension: 'main' }] : [],
      exposed_properties: [{ name: 'base', extension: 'main' }],
    });
    const graph = new Graph(
      {
        nodes: [
          { type: 'extension', name: 'outer', addon: 'outer' },
          { type: 'subgraph', name: 'sg', graph: subgraph(true), property: { base: 42 } },
          { type: 'subgraph', name: 'closed_sg', graph: subgraph(false) },
        ],
      },
      { registry, clock, gateTimeoutMs: 100 },
    );
    expect(graph.extensionNames).toEqual(['outer', 'sg/main', 'sg/biz', 'closed_sg/main', 'closed_sg/biz']);
    await graph.start();
    await expect(graph.triggerLifeCycle('sg', 'start')).resolves.toMatchObject({
      status: 'ok',
      from: 'sg/main',
    });
    expect(graph.stateOf('sg/main')).toBe('on_start_done');
    expect(graph.stateOf('sg/biz')).toBe('on_init_done');
    await expect(graph.triggerLifeCycle('closed_sg', 'start')).resolves.toMatchObject({
      status: 'error',
      code: 'NOT_EXPOSED',
      message: 'subgraph "closed_sg" does not expose cmd_in "ten:trigger_life_cycle"',
    });
    // A qualified name still reaches an inner extension explicitly.
    await expect(graph.triggerLifeCycle('sg/biz', 'start')).resolves.toMatchObject({
      status: 'ok',
      from: 'sg/biz',
    });
    await clock.advance(100); // manual-stop gates of the never-stopped inner extensions
    const closed = graph.close();
    await clock.advance(100);
    await closed;
    expect(graph.state).toBe('closed');
  });
});
