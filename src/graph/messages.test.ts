import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { Graph } from './graph.js';
import type { CmdResult, IncomingData } from './messages.js';
import { probeRegistry } from './test-support.js';

const node = (name: string): Record<string, unknown> => ({ type: 'extension', name, addon: name });

describe('messages', () => {
  it('routes commands through connections, fans out, and resolves with the first error or the last ok', async () => {
    const clock = new VirtualClock();
    const results: CmdResult[] = [];
    const { registry } = probeRegistry([], {
      main: {
        during: {
          start: async (env) => {
            results.push(await env.sendCmd('flush'));
            results.push(await env.sendCmd('check'));
            results.push(await env.sendCmd('unrouted'));
          },
        },
      },
      billing: { onCmd: (cmd) => ({ detail: `billing ${cmd.name}` }) },
      report: {
        onCmd: (cmd) => {
          if (cmd.name === 'check') throw new Error('report is behind');
          return { detail: `report ${cmd.name}` };
        },
      },
    });
    const graph = new Graph(
      {
        nodes: [node('main'), node('billing'), node('report')],
        connections: [
          {
            extension: 'main',
            cmd: [{ names: ['flush', 'check'], dest: [{ extension: 'billing' }, { extension: 'report' }] }],
          },
        ],
      },
      { registry, clock },
    );
    await graph.start();
    expect(results[0]).toMatchObject({ status: 'ok', final: true });
    expect(['billing flush', 'report flush']).toContain((results[0] as { detail: string }).detail);
    expect(results[1]).toMatchObject({
      status: 'error',
      code: 'HANDLER_ERROR',
      from: 'report',
      message: 'report is behind',
    });
    expect(results[2]).toMatchObject({
      status: 'error',
      code: 'NO_ROUTE',
      message: 'no connection routes cmd "unrouted" from "main"',
    });
    await graph.close();
  });

  it('streams results: progress results then the final one; leaving the loop early releases the path', async () => {
    const clock = new VirtualClock();
    const { registry } = probeRegistry([], {
      asr: {
        onCmd: async (cmd, env) => {
          cmd.progress('hel');
          await env.clock.sleep(100);
          cmd.progress('hello');
          await env.clock.sleep(100);
          return { detail: 'hello world' };
        },
      },
    });
    const graph = new Graph({ nodes: [node('asr')] }, { registry, clock });
    await graph.start();
    const seen: unknown[] = [];
    const consume = (async () => {
      for await (const r of graph.streamCmd('asr', 'recognize'))
        seen.push(r.status === 'ok' ? [r.detail, r.final] : r.code);
    })();
    await clock.advance(200);
    await consume;
    expect(seen).toEqual([
      ['hel', false],
      ['hello', false],
      ['hello world', true],
    ]);
    const early = (async () => {
      for await (const r of graph.streamCmd('asr', 'recognize')) {
        expect(r.final).toBe(false);
        break;
      }
    })();
    await early;
    expect(graph.openCommands).toBe(0);
    await clock.advance(200);
    await graph.close();
    expect(clock.pending).toBe(0);
  });

  it('a command with no final result times out with PATH_TIMEOUT on the clock', async () => {
    const clock = new VirtualClock();
    const { registry } = probeRegistry([], { mute: { onCmd: () => new Promise(() => {}) } });
    const graph = new Graph({ nodes: [node('mute')] }, { registry, clock, cmdTimeoutMs: 5_000 });
    await graph.start();
    let result: CmdResult | undefined;
    const sent = graph.sendCmd('mute', 'hello').then((r) => {
      result = r;
    });
    await clock.advance(4_999);
    expect(result).toBeUndefined();
    await clock.advance(1);
    await sent;
    expect(result).toMatchObject({ status: 'error', code: 'PATH_TIMEOUT', from: 'mute' });
    await graph.close();
    expect(clock.pending).toBe(0);
  });

  it('data and events go to every destination once; explicit destinations skip the connections; no handler means NO_HANDLER', async () => {
    const clock = new VirtualClock();
    const got: string[] = [];
    const onData = (who: string) => (msg: IncomingData) => {
      got.push(`${who} ${msg.kind} ${msg.name} ${String(msg.payload)} from ${msg.source}`);
    };
    const { registry } = probeRegistry([], {
      mic: {
        during: {
          start: (env) => {
            expect(env.sendData('audio_frame', 'pcm', 1)).toBe(2);
            expect(env.sendData('event', 'vad', 'on', { dest: 'rec' })).toBe(1);
          },
        },
      },
      asr: { onData: onData('asr') },
      rec: { onData: onData('rec') },
    });
    const graph = new Graph(
      {
        nodes: [node('mic'), node('asr'), node('rec')],
        connections: [
          {
            extension: 'mic',
            audio_frame: [{ name: 'pcm', dest: [{ extension: 'asr' }, { extension: 'rec' }] }],
          },
        ],
      },
      { registry, clock, order: 'declared' },
    );
    // mic is declared first: with declared order its onStart runs before asr/rec have started,
    // but after their init (messages are deliverable from init done).
    await graph.start();
    await clock.tick();
    expect(got.sort()).toEqual([
      'asr audio_frame pcm 1 from mic',
      'rec audio_frame pcm 1 from mic',
      'rec event vad on from mic',
    ]);
    await expect(graph.sendCmd('asr', 'anything')).resolves.toMatchObject({ code: 'NO_HANDLER' });
    await graph.close();
  });
});
