/**
 * Responder progress on its own (`pendingTimer`, §3.5 case 16) and `ctx.accepted()` (202), on
 * MemoryBroker + VirtualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import { decode } from '../protocol/envelope.js';
import { RpcClient } from './client.js';
import { PendingLimitError, RpcConfigError } from './errors.js';
import type { IncrementalTimer } from './timers.js';
import type { ResponderReliability } from './reliability.js';
import { RpcServer } from './server.js';
import type { MethodHandler } from './types.js';
import { track } from '../../test/support/track.js';

const NODE = 'cn.xswitch.node';
const OWN = 'cn.xswitch.ctrl.c1';
const ctrlSubject = (c: string): string => `cn.xswitch.ctrl.${c}`;

interface Harness {
  clock: VirtualClock;
  broker: MemoryBroker;
  server: RpcServer;
  client: RpcClient;
  /** What reached the controller subject: [time, 'progress:<status>' | 'final:<code>'] */
  seen: [number, string][];
  requests: number[];
  runs: number;
  acceptedReturned: boolean[];
  aborted: string[];
}

let h: Harness | undefined;

afterEach(async () => {
  if (!h) return;
  await h.client.close();
  await h.server.stop();
  await h.broker.close();
  expect(h.clock.pending).toBe(0);
  h = undefined;
});

function setup(server: ResponderReliability, reliable = true): Harness {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const broker = new MemoryBroker({ clock });
  const raw = broker.connect('raw');
  const seen: [number, string][] = [];
  const requests: number[] = [];
  raw.subscribe(NODE, { callback: () => requests.push(clock.now() - t0) });
  raw.subscribe(OWN, {
    callback: (m) => {
      const d = decode(m.data);
      const at = clock.now() - t0;
      if (d.kind === 'notification') seen.push([at, `progress:${String(d.message.params?.status)}`]);
      else if (d.kind === 'response')
        seen.push([
          at,
          'result' in d.message ? `final:${String(d.message.result.code)}` : `error:${d.message.error.code}`,
        ]);
    },
  });
  const x: Harness = {
    clock,
    broker,
    seen,
    requests,
    runs: 0,
    acceptedReturned: [],
    aborted: [],
    server: undefined as unknown as RpcServer,
    client: undefined as unknown as RpcClient,
  };
  const handlers: Record<string, MethodHandler> = {
    'XNode.Slow': async (params, ctx) => {
      x.runs += 1;
      await clock.sleep(typeof params.ms === 'number' ? params.ms : 2000, ctx.signal).catch(() => {});
      return { code: 200, message: 'done' };
    },
    'XNode.Dial': async (_params, ctx) => {
      x.runs += 1;
      x.acceptedReturned.push(ctx.accepted?.() ?? false);
      await clock.sleep(8000, ctx.signal).catch(() => {});
      return { code: 200, message: 'dialled' };
    },
  };
  x.server = new RpcServer(broker.connect('node'), clock, {
    subjects: [{ subject: NODE, queue: 'xnode' }],
    handlers,
    ctrlSubject,
    ...(reliable ? { reliability: { onAbort: (i) => x.aborted.push(i.id), ...server } } : {}),
  });
  x.server.start();
  x.client = new RpcClient(broker.connect('ctrl'), clock, {
    ctrlUuid: 'c1',
    ownSubject: OWN,
    ...(reliable ? { reliability: { originator: 'c1', epoch: 'e1' } } : {}),
  });
  x.client.start();
  h = x;
  return x;
}

describe('responder progress on its own (§3.5 case 16)', () => {
  it('case 16: a slow handler gets rpc.progress 100 on its own at 0.2, 0.6, 1.4 s; the originator never resends', async () => {
    const x = setup({ pendingTimer: true });
    const call = track(x.client.call(NODE, 'XNode.Slow', { ms: 2000 }));
    await x.clock.advance(1999);
    expect(x.seen).toEqual([
      [200, 'progress:100'],
      [600, 'progress:100'],
      [1400, 'progress:100'],
    ]);
    expect(x.server.replyEntry('c1:e1:1')).toMatchObject({ state: 'eval', pendingSent: 3 });
    // Progress at 200 ms came before the first resend (500 ms): the originator moved to its long timer.
    expect(x.requests).toEqual([0]);
    await x.clock.advance(1);
    expect(call.value).toMatchObject({ code: 200, message: 'done' });
    expect(x.seen.at(-1)).toEqual([2000, 'final:200']);
    await x.clock.advance(10_000);
    expect(x.seen).toHaveLength(4); // the pending timer stopped with the answer
    expect(x.runs).toBe(1);
    await x.clock.advance(60_000);
  });

  it('case 16: progress counts against sentPendingLimit — past it PENDING_LIMIT, onAbort, and the caller gets PendingLimitError', async () => {
    const x = setup({
      pendingTimer: { waitMs: 100, factor: 1, maxRetries: 'infinity' },
      sentPendingLimit: 3,
    });
    const call = track(x.client.call(NODE, 'XNode.Slow', { ms: 5000 }));
    await x.clock.advance(400);
    expect(x.seen).toEqual([
      [100, 'progress:100'],
      [200, 'progress:100'],
      [300, 'progress:100'],
      [400, 'error:-32050'],
    ]);
    expect(call.error).toBeInstanceOf(PendingLimitError);
    expect(x.aborted).toEqual(['c1:e1:1']);
    await x.clock.advance(5000);
    expect(x.seen).toHaveLength(4); // no more progress, and the aborted answer is dropped
    await x.clock.advance(60_000);
  });

  it('the validator refuses a pendingTimer not shorter than the originator requestTimer.waitMs', () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    const make = (pendingTimer: IncrementalTimer | boolean, requestWait = 500): RpcServer =>
      new RpcServer(broker.connect(), clock, {
        subjects: [],
        handlers: {},
        ctrlSubject,
        reliability: { pendingTimer, originator: { requestTimer: { waitMs: requestWait, maxRetries: 3 } } },
      });
    expect(() => make({ waitMs: 500, maxRetries: 'infinity' })).toThrow(RpcConfigError);
    expect(() => make({ waitMs: 500, maxRetries: 'infinity' })).toThrow(/pendingTimer\.waitMs: 500 ms/);
    expect(() => make(true, 200)).toThrow(/pendingTimer/);
    expect(() => make({ waitMs: 499, maxRetries: 'infinity' })).not.toThrow();
    expect(() => make(false, 100)).not.toThrow();
  });
});

describe('ctx.accepted() (§3.3)', () => {
  it('sends rpc.progress 202 at once: the originator switches to its long timer (no resend at 0.5 s)', async () => {
    const x = setup({});
    const call = track(x.client.call(NODE, 'XNode.Dial', {}));
    await x.clock.advance(0);
    expect(x.seen).toEqual([[0, 'progress:202']]);
    expect(x.acceptedReturned).toEqual([true]);
    await x.clock.advance(4999);
    expect(x.requests).toEqual([0]);
    await x.clock.advance(1); // first long leg (5 s): a resend, answered with a counted 100
    expect(x.requests).toEqual([0, 5000]);
    await x.clock.advance(3000);
    expect(call.value).toMatchObject({ code: 200, message: 'dialled' });
    expect(x.runs).toBe(1);
    await x.clock.advance(60_000);
  });

  it('without reliability accepted() sends nothing and returns false', async () => {
    const x = setup({}, false);
    const call = track(x.client.call(NODE, 'XNode.Dial', {}, { mode: 'async', timeoutMs: 10_000 }));
    await x.clock.advance(8000);
    expect(x.acceptedReturned).toEqual([false]);
    expect(x.seen).toEqual([[8000, 'final:200']]);
    expect(call.value).toMatchObject({ code: 200 });
  });
});
