import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { AddonRegistry } from './addon-registry.js';
import { GraphStartError } from './errors.js';
import { Graph } from './graph.js';
import { StageMachine } from './stages.js';
import { chain, probeRegistry, stageLog } from './test-support.js';

describe('lifecycle', () => {
  it('runs configure, init, start for every extension, then stop and deinit on close', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['a', 'b']);
    const graph = new Graph(chain(['a', 'b']), { registry, clock });
    await graph.start();
    expect(graph.stateOf('a')).toBe('on_start_done');
    expect(graph.stateOf('b')).toBe('on_start_done');
    const report = await graph.close();
    expect(report.failures).toEqual([]);
    expect(graph.state).toBe('closed');
    for (const name of ['a', 'b']) {
      expect(log.filter((l) => l.startsWith(`${name}:`) && l.endsWith('_done'))).toEqual(
        ['configure', 'init', 'start', 'stop', 'deinit'].map((s) => `${name}:${s}_done`),
      );
      expect(graph.stateOf(name)).toBe('on_deinit_done');
    }
    expect(clock.pending).toBe(0);
  });

  it('order "declared" starts in declared order and stops in reverse (billing first in, last out)', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['billing', 'report', 'rtc', 'asr']);
    const graph = new Graph(chain(['billing', 'report', 'rtc', 'asr']), {
      registry,
      clock,
      order: 'declared',
    });
    await graph.start();
    await graph.close();
    const events = stageLog(graph.events).filter((e) => /(start|stop)$/.test(e));
    expect(events).toEqual([
      'stage_begin billing start',
      'stage_done billing start',
      'stage_begin report start',
      'stage_done report start',
      'stage_begin rtc start',
      'stage_done rtc start',
      'stage_begin asr start',
      'stage_done asr start',
      'stage_begin asr stop',
      'stage_done asr stop',
      'stage_begin rtc stop',
      'stage_done rtc stop',
      'stage_begin report stop',
      'stage_done report stop',
      'stage_begin billing stop',
      'stage_done billing stop',
    ]);
  });

  it('declared order can come from the graph file (lifecycle.order)', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, { billing: { hold: ['start'] } }, ['asr']);
    const graph = new Graph(
      { ...(chain(['billing', 'asr']) as object), lifecycle: { order: 'declared' } },
      { registry, clock },
    );
    const started = graph.start();
    await clock.tick();
    expect(graph.stateOf('billing')).toBe('on_start');
    expect(graph.stateOf('asr')).toBe('on_init_done'); // waits for billing's start
    probes.get('billing')!.release('start');
    await started;
    expect(log.indexOf('asr:start')).toBeGreaterThan(log.indexOf('billing:start_done'));
    await graph.close();
    expect(log.indexOf('billing:stop')).toBeGreaterThan(log.indexOf('asr:stop_done'));
  });

  it('case 30: a *_done called twice or out of order returns false and leaves the state unchanged', () => {
    const sm = new StageMachine();
    expect(sm.done('configure')).toBe(false);
    expect(sm.state).toBe('init');
    expect(sm.begin('init')).toBe(false);
    expect(sm.begin('configure')).toBe(true);
    expect(sm.done('init')).toBe(false);
    expect(sm.state).toBe('on_configure');
    expect(sm.done('configure')).toBe(true);
    expect(sm.done('configure')).toBe(false);
    expect(sm.state).toBe('on_configure_done');
    expect(sm.begin('start')).toBe(false);
    expect(sm.begin('init')).toBe(true);
    expect(sm.prepareToStop()).toBe(false); // a stage is running
    expect(sm.done('init')).toBe(true);
    expect(sm.begin('stop')).toBe(false); // not closing yet
    expect(sm.prepareToStop()).toBe(true);
    expect(sm.begin('start')).toBe(false);
    expect(sm.begin('stop')).toBe(true);
    expect(sm.done('stop')).toBe(true);
    expect(sm.done('stop')).toBe(false);
    expect(sm.begin('deinit')).toBe(true);
    expect(sm.done('deinit')).toBe(true);
    expect(sm.state).toBe('on_deinit_done');
    expect(sm.begin('configure')).toBe(false);
  });

  it('case 31: close during a slow onInit lets init complete, skips start, runs stop and deinit', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, { slow: { hold: ['init'] } });
    const graph = new Graph(chain(['slow']), { registry, clock });
    const started = graph.start();
    await clock.tick();
    expect(graph.stateOf('slow')).toBe('on_init');
    const closed = graph.close();
    await clock.tick();
    expect(graph.stateOf('slow')).toBe('on_init'); // close waits for the running stage
    probes.get('slow')!.release('init');
    await closed;
    await started;
    expect(log).toEqual([
      'slow:configure',
      'slow:configure_done',
      'slow:init',
      'slow:init_done',
      'slow:stop',
      'slow:stop_done',
      'slow:deinit',
      'slow:deinit_done',
    ]);
    expect(stageLog(graph.events)).toContain('stage_skipped slow start');
    expect(clock.pending).toBe(0);
  });

  it('case 32: messages sent before init are delivered after init; closed before init, commands get ERROR and data is dropped', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const seen: string[] = [];
    const behaviour = {
      hold: ['init' as const],
      onCmd: (cmd: { name: string }) => {
        seen.push(`cmd ${cmd.name} in ${graphRef.stateOf('rx')}`);
        return { detail: 'pong' };
      },
      onData: (msg: { name: string }) => {
        seen.push(`data ${msg.name}`);
      },
    };
    const { registry, probes } = probeRegistry(log, { rx: behaviour });
    const graphRef = new Graph(chain(['rx']), { registry, clock });
    const started = graphRef.start();
    await clock.tick();
    const answer = graphRef.sendCmd('rx', 'ping');
    expect(graphRef.sendData('rx', 'data', 'frame')).toBe(1);
    await clock.tick();
    expect(seen).toEqual([]); // buffered while init runs
    probes.get('rx')!.release('init');
    await started;
    await expect(answer).resolves.toMatchObject({ status: 'ok', detail: 'pong', from: 'rx' });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^cmd ping in on_(init_done|start|start_done)$/); // only once init was done
    expect(seen[1]).toBe('data frame');
    await graphRef.close();

    // Second graph: closed while init runs; buffered messages are refused.
    const log2: string[] = [];
    const second = probeRegistry(log2, { rx: behaviour });
    const closedEarly = new Graph(chain(['rx']), { registry: second.registry, clock });
    const started2 = closedEarly.start();
    await clock.tick();
    const refused = closedEarly.sendCmd('rx', 'ping');
    closedEarly.sendData('rx', 'data', 'lost');
    const closing = closedEarly.close();
    second.probes.get('rx')!.release('init');
    await closing;
    await started2;
    await expect(refused).resolves.toMatchObject({ status: 'error', code: 'CLOSED' });
    expect(closedEarly.events).toContainEqual(
      expect.objectContaining({ type: 'message_dropped', extension: 'rx', name: 'lost' }),
    );
    // After close, commands fail at once.
    await expect(closedEarly.sendCmd('rx', 'ping')).resolves.toMatchObject({
      status: 'error',
      code: 'CLOSED',
    });
    expect(clock.pending).toBe(0);
  });

  it('case 33: a stage that never finishes hits its stageTimeout, the extension is failed and the graph still closes', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, { stuck: { hold: ['stop'] } }, ['ok']);
    const graph = new Graph(chain(['stuck', 'ok']), { registry, clock, stageTimeoutMs: { stop: 2_000 } });
    await graph.start();
    let report: Awaited<ReturnType<Graph['close']>> | undefined;
    const closed = graph.close().then((r) => {
      report = r;
    });
    await clock.advance(1_999);
    expect(report).toBeUndefined();
    expect(graph.stateOf('ok')).toBe('on_deinit_done');
    await clock.advance(1);
    await closed;
    expect(report!.failures).toEqual([
      { extension: 'stuck', stage: 'stop', reason: 'timeout', message: 'did not finish stop within 2000 ms' },
    ]);
    expect(graph.failureOf('stuck')?.stage).toBe('stop');
    expect(graph.stateOf('stuck')).toBe('on_deinit_done'); // deinit still ran
    expect(log).toContain('stuck:deinit_done');
    expect(graph.events).toContainEqual(
      expect.objectContaining({ type: 'stage_timeout', extension: 'stuck', stage: 'stop', timeoutMs: 2_000 }),
    );
    expect(clock.pending).toBe(0);
  });

  it('a stuck onStop with stage timeout does not hold up extensions stopped after it in declared order', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, { asr: { hold: ['stop'] } }, ['billing']);
    const graph = new Graph(chain(['billing', 'asr']), {
      registry,
      clock,
      order: 'declared',
      stageTimeoutMs: { stop: 5_000 },
    });
    await graph.start();
    const closed = graph.close();
    await clock.advance(4_999);
    expect(log).not.toContain('billing:stop');
    await clock.advance(1);
    const report = await closed;
    expect(report.failures.map((f) => `${f.extension} ${f.stage} ${f.reason}`)).toEqual(['asr stop timeout']);
    expect(log.indexOf('billing:stop')).toBeGreaterThan(log.indexOf('asr:stop'));
    expect(clock.now() - Date.UTC(2026, 0, 1)).toBe(5_000);
  });

  it('a stuck onInit fails the startup: start() rejects after the graph closed', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, { stuck: { hold: ['init'] } }, ['ok']);
    const graph = new Graph(chain(['ok', 'stuck']), { registry, clock, stageTimeoutMs: { init: 1_000 } });
    const started = graph.start();
    const outcome = started.catch((e: unknown) => e);
    await clock.advance(1_000);
    const err = await outcome;
    expect(err).toBeInstanceOf(GraphStartError);
    expect((err as GraphStartError).failures[0]).toMatchObject({
      extension: 'stuck',
      stage: 'init',
      reason: 'timeout',
    });
    expect(graph.state).toBe('closed');
    expect(log).toContain('ok:stop_done');
    expect(log).toContain('stuck:deinit_done');
    expect(clock.pending).toBe(0);
  });

  it('an onStart that throws closes the graph; a late settle after a timeout is recorded and ignored', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, {
      bad: { throwIn: ['start'] },
      slow: { hold: ['deinit'] },
    });
    const graph = new Graph(chain(['bad', 'slow']), { registry, clock, stageTimeoutMs: { deinit: 100 } });
    const outcome = graph.start().catch((e: unknown) => e);
    await clock.advance(100);
    expect(await outcome).toBeInstanceOf(GraphStartError);
    expect(graph.events).toContainEqual(
      expect.objectContaining({
        type: 'stage_failed',
        extension: 'bad',
        stage: 'start',
        message: 'bad start exploded',
      }),
    );
    probes.get('slow')!.release('deinit');
    await clock.tick();
    expect(graph.events).toContainEqual(
      expect.objectContaining({ type: 'late_settle', extension: 'slow', stage: 'deinit' }),
    );
    expect(graph.stateOf('slow')).toBe('on_deinit_done');
  });

  it('onStop runs even when onStart never ran (closed before start)', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, { x: { hold: ['configure'] } });
    const graph = new Graph(chain(['x']), { registry, clock });
    const started = graph.start();
    await clock.tick();
    const closed = graph.close();
    probes.get('x')!.release('configure');
    await closed;
    await started;
    expect(log).toEqual([
      'x:configure',
      'x:configure_done',
      'x:stop',
      'x:stop_done',
      'x:deinit',
      'x:deinit_done',
    ]);
  });

  it('case 34: a command in flight when its sender deinits gets an ERROR result, never silence', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    let pending: Promise<unknown> | undefined;
    const { registry } = probeRegistry(log, {
      // `sender` stops last (declared order) so its open request outlives the receiver's answer window.
      sender: {
        during: {
          start: (env) => {
            pending = env.sendCmd('slow_query', {}, { dest: 'sink' });
          },
        },
      },
      sink: { onCmd: () => new Promise(() => {}) },
    });
    const graph = new Graph(chain(['sender', 'sink']), { registry, clock, order: 'declared' });
    await graph.start();
    expect(graph.openCommands).toBe(1);
    await graph.close();
    await expect(pending).resolves.toMatchObject({ status: 'error', code: 'CLOSED' });
    expect(graph.openCommands).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('case 34: a receiver that deinits without answering gives the sender an ERROR', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    let pending: Promise<unknown> | undefined;
    const { registry } = probeRegistry(log, {
      sender: {
        during: {
          start: (env) => {
            pending = env.sendCmd('q', {}, { dest: 'sink' });
          },
          // Keeps the sender alive until the receiver has closed.
          stop: async () => {
            await pending;
          },
        },
      },
      sink: { onCmd: () => new Promise(() => {}) },
    });
    const graph = new Graph(chain(['sender', 'sink']), { registry, clock, order: 'declared' });
    await graph.start();
    await graph.close();
    await expect(pending).resolves.toMatchObject({ status: 'error', code: 'CLOSED', from: 'sink' });
  });

  it('case 35: syncStopBeforeDeinit runs no onDeinit before every onStop is done', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, { slow: { hold: ['stop'] } }, ['fast']);
    const run = async (sync: boolean): Promise<string[]> => {
      log.length = 0;
      const graph = new Graph(chain(['fast', 'slow']), { registry, clock, syncStopBeforeDeinit: sync });
      await graph.start();
      const closed = graph.close();
      await clock.advance(10);
      probes.get('slow')!.release('stop');
      await closed;
      return [...log];
    };
    const unsynced = await run(false);
    expect(unsynced.indexOf('fast:deinit')).toBeLessThan(unsynced.indexOf('slow:stop_done'));
    const synced = await run(true);
    expect(synced.indexOf('fast:deinit')).toBeGreaterThan(synced.indexOf('slow:stop_done'));
    expect(synced.indexOf('slow:deinit')).toBeGreaterThan(synced.indexOf('slow:stop_done'));
  });

  it('case 35: a graph spanning several apps is refused', () => {
    const registry = new AddonRegistry().register('x', { create: () => ({}) });
    expect(
      () =>
        new Graph(
          {
            nodes: [
              { type: 'extension', name: 'a', addon: 'x', app: 'msgpack://127.0.0.1:8001/' },
              { type: 'extension', name: 'b', addon: 'x', app: 'msgpack://127.0.0.1:8002/' },
            ],
          },
          { registry, clock: new VirtualClock() },
        ),
    ).toThrow(/graph spans several apps \(msgpack:\/\/127.0.0.1:8001\/, msgpack:\/\/127.0.0.1:8002\/\)/);
  });

  it('close before start runs nothing and answers queued triggers', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['m']);
    const graph = new Graph(chain(['m'], { m: { manual_trigger_life_cycle: [{ stage: 'start' }] } }), {
      registry,
      clock,
    });
    const trigger = graph.triggerLifeCycle('m', 'start');
    await graph.close();
    await expect(trigger).resolves.toMatchObject({ status: 'error', code: 'STAGE_PASSED' });
    expect(log).toEqual([]);
    await expect(graph.start()).rejects.toThrow(/cannot start a graph that is closed/);
  });

  it('1000 graphs started and closed leave no timers, commands or listeners behind', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {
      billing: { onCmd: (cmd) => ({ detail: cmd.name }) },
      recorder: {
        during: {
          start: async (env) => {
            await env.sendCmd('meter', {}, { dest: 'billing' });
          },
        },
      },
      asr: {},
    });
    const spec = chain(['billing', 'recorder', 'asr']);
    const graphs: Graph[] = [];
    for (let i = 0; i < 1000; i++)
      graphs.push(new Graph(spec, { registry, clock, order: 'declared', recordEvents: false }));
    await Promise.all(graphs.map((g) => g.start()));
    expect(graphs.every((g) => g.stateOf('asr') === 'on_start_done')).toBe(true);
    const reports = await Promise.all(graphs.map((g) => g.close()));
    expect(reports.every((r) => r.failures.length === 0)).toBe(true);
    expect(graphs.every((g) => g.state === 'closed' && g.openCommands === 0)).toBe(true);
    expect(log.filter((l) => l === 'billing:deinit_done')).toHaveLength(1000);
    expect(clock.pending).toBe(0);
  });
});
