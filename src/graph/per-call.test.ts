import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { GraphStartError } from './errors.js';
import { runPerCallGraph } from './per-call.js';
import { chain, probeRegistry } from './test-support.js';

describe('per-call pipelines', () => {
  it('starts billing → recorder → asr when the call starts and stops them in reverse when it ends', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, {}, ['billing', 'recorder', 'asr']);
    const hangup = new AbortController();
    const done = runPerCallGraph({ signal: hangup.signal }, chain(['billing', 'recorder', 'asr']), {
      registry,
      clock,
    });
    await clock.tick();
    expect(log.filter((l) => l.endsWith(':start_done'))).toEqual([
      'billing:start_done',
      'recorder:start_done',
      'asr:start_done',
    ]);
    expect(log.some((l) => l.includes('stop'))).toBe(false);
    hangup.abort();
    const report = await done;
    expect(report.failures).toEqual([]);
    expect(log.filter((l) => l.endsWith(':stop_done'))).toEqual([
      'asr:stop_done',
      'recorder:stop_done',
      'billing:stop_done',
    ]);
  });

  it('a call that ends while the pipeline starts still stops and deinits everything', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry, probes } = probeRegistry(log, { recorder: { hold: ['init'] } }, ['billing']);
    const hangup = new AbortController();
    const done = runPerCallGraph({ signal: hangup.signal }, chain(['billing', 'recorder']), {
      registry,
      clock,
    });
    await clock.tick();
    hangup.abort();
    probes.get('recorder')!.release('init');
    await done;
    expect(log).not.toContain('recorder:start');
    expect(log).toContain('recorder:deinit_done');
    expect(log).toContain('billing:deinit_done');
  });

  it('a thousand calls leave no timers behind; a failing pipeline rejects with GraphStartError', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const { registry } = probeRegistry(log, { broken: { throwIn: ['init'] } }, ['billing', 'asr']);
    const calls = Array.from({ length: 1000 }, () => new AbortController());
    const runs = calls.map((c) =>
      runPerCallGraph({ signal: c.signal }, chain(['billing', 'asr']), {
        registry,
        clock,
        recordEvents: false,
      }),
    );
    await clock.tick();
    for (const c of calls) c.abort();
    await Promise.all(runs);
    expect(log.filter((l) => l === 'billing:deinit_done')).toHaveLength(1000);
    expect(clock.pending).toBe(0);

    const live = new AbortController();
    await expect(
      runPerCallGraph({ signal: live.signal }, chain(['billing', 'broken']), { registry, clock }),
    ).rejects.toBeInstanceOf(GraphStartError);
    expect(clock.pending).toBe(0);
  });
});
