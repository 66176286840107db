/**
 * The seed-004 transaction layer end to end on MemoryBroker + VirtualClock: tests named after the
 * fault cases of lifecycle-and-transactions.md §3.5.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker, type MemoryBus } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import { decode, encode, type RpcResponse, request } from '../protocol/envelope.js';
import { CancelledError, RpcTimeoutError } from '../protocol/errors.js';
import { RpcClient } from './client.js';
import { PENDING_LIMIT_CODE, PendingLimitError, RpcConfigError } from './errors.js';
import {
  newEpoch,
  type OriginatorReliability,
  parseTransactionId,
  type ResponderReliability,
  transactionIds,
  validateResponderReliability,
} from './reliability.js';
import { RpcServer } from './server.js';
import type { MethodHandler } from './types.js';
import { TapBus } from '../../test/support/tap-bus.js';
import { track } from '../../test/support/track.js';

const NODE = 'cn.xswitch.node';
const OWN = 'cn.xswitch.ctrl.c1';
const ctrlSubject = (c: string): string => `cn.xswitch.ctrl.${c}`;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Sent {
  at: number;
  bytes: Uint8Array;
}

interface Harness {
  clock: VirtualClock;
  t0: number;
  broker: MemoryBroker;
  nodeBus: TapBus;
  ctrlBus: TapBus;
  raw: MemoryBus;
  server: RpcServer | undefined;
  client: RpcClient;
  /** Every request that reached the node subject, with its time relative to t0. */
  requests: Sent[];
  /** Every message that reached the controller's own subject. */
  answers: Sent[];
  runs: Record<string, number>;
  unexpected: RpcResponse[];
  aborted: { id: string; method: string }[];
}

let h: Harness | undefined;

afterEach(async () => {
  if (!h) return;
  await h.client.close();
  await h.server?.stop();
  expect(h.client.pending).toBe(0);
  expect(h.server?.cachedReplies ?? 0).toBe(0);
  await h.broker.close();
  expect(h.clock.pending).toBe(0);
  h = undefined;
});

interface SetupOptions {
  client?: Partial<OriginatorReliability>;
  server?: ResponderReliability | false;
  /** Start no server (no responder on the node subject). */
  noServer?: boolean;
}

function setup(options: SetupOptions = {}): Harness {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const broker = new MemoryBroker({ clock });
  const nodeBus = new TapBus(broker.connect('node'));
  const ctrlBus = new TapBus(broker.connect('ctrl'));
  const raw = broker.connect('raw');
  const requests: Sent[] = [];
  const answers: Sent[] = [];
  raw.subscribe(NODE, { callback: (m) => requests.push({ at: clock.now() - t0, bytes: m.data }) });
  raw.subscribe(OWN, { callback: (m) => answers.push({ at: clock.now() - t0, bytes: m.data }) });
  const runs: Record<string, number> = {};
  const count = (method: string): void => {
    runs[method] = (runs[method] ?? 0) + 1;
  };
  const handlers: Record<string, MethodHandler> = {
    'XNode.Echo': async (params) => {
      count('XNode.Echo');
      return { code: 200, message: 'OK', uuid: params.uuid };
    },
    'XNode.Slow': async (params, ctx) => {
      count('XNode.Slow');
      const ms = typeof params.ms === 'number' ? params.ms : 1000;
      await clock.sleep(ms, ctx.signal).catch(() => {});
      return { code: 200, message: 'done', ms };
    },
    'XNode.Play': async (params, ctx) => {
      count('XNode.Play');
      const ms = typeof params.ms === 'number' ? params.ms : 3000;
      await clock.sleep(ms, ctx.signal).catch(() => {});
      return { code: 200, message: 'played' };
    },
    'XNode.Throw': async () => {
      count('XNode.Throw');
      throw new Error('boom');
    },
  };
  const aborted: Harness['aborted'] = [];
  let server: RpcServer | undefined;
  if (!options.noServer) {
    const reliability =
      options.server === false
        ? undefined
        : { onAbort: (i: { id: string; method: string }) => aborted.push(i), ...options.server };
    server = new RpcServer(nodeBus, clock, {
      subjects: [{ subject: NODE, queue: 'xnode' }],
      handlers,
      ctrlSubject,
      trying: new Set(['XNode.Play']),
      nodeUuid: 'n1',
      ...(reliability === undefined ? {} : { reliability }),
    });
    server.start();
  }
  const unexpected: RpcResponse[] = [];
  const client = new RpcClient(ctrlBus, clock, {
    ctrlUuid: 'c1',
    ownSubject: OWN,
    onUnexpected: (r) => unexpected.push(r),
    reliability: { originator: 'c1', epoch: 'e1', ...options.client },
  });
  client.start();
  h = {
    clock,
    t0,
    broker,
    nodeBus,
    ctrlBus,
    raw,
    server,
    client,
    requests,
    answers,
    runs,
    unexpected,
    aborted,
  };
  return h;
}

const codeOf = (bytes: Uint8Array): unknown => {
  const d = decode(bytes);
  if (d.kind !== 'response') return undefined;
  return 'result' in d.message ? d.message.result.code : d.message.error.code;
};

describe('transaction ids (§3.1)', () => {
  it('are <originator>:<epoch>:<serial> and the epoch changes per start', () => {
    const next = transactionIds('c1', 'e1');
    expect([next(), next()]).toEqual(['c1:e1:1', 'c1:e1:2']);
    expect(parseTransactionId('c1:e1:12')).toEqual({ originator: 'c1', epoch: 'e1', serial: 12 });
    for (const bad of ['c1:e1', 'c1:e1:0', 'c1:e1:x', ':e1:1', 'a:b:c:1'])
      expect(parseTransactionId(bad)).toBeUndefined();
    expect(newEpoch()).not.toBe(newEpoch());
  });

  it('a reliable client refuses an originator containing ":"', () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    expect(
      () =>
        new RpcClient(broker.connect(), clock, {
          ctrlUuid: 'c',
          ownSubject: OWN,
          reliability: { originator: 'a:b' },
        }),
    ).toThrow(RpcConfigError);
  });
});

describe('originator (§3.5 cases 1–3, 6)', () => {
  it('case 1: no responder — exactly N+1 sends of the same bytes at 0, 0.5, 1.5, 3.5 s, then TIMEOUT at 7.5 s', async () => {
    const x = setup({ noServer: true });
    const call = track(x.client.call(NODE, 'XNode.Echo', { uuid: 'u1' }));
    await x.clock.advance(7499);
    expect(call.settled).toBe(false);
    expect(x.requests.map((r) => r.at)).toEqual([0, 500, 1500, 3500]);
    const first = text(x.requests[0]!.bytes);
    for (const r of x.requests) expect(text(r.bytes)).toBe(first);
    expect(JSON.parse(first)).toMatchObject({
      id: 'c1:e1:1',
      method: 'XNode.Echo',
      params: { ctrl_uuid: 'c1' },
    });
    await x.clock.advance(1);
    expect(call.error).toBeInstanceOf(RpcTimeoutError);
    expect((call.error as Error).message).toMatch(/outcome on the node is unknown/);
    expect(x.requests).toHaveLength(4);
    expect(x.client.pending).toBe(0);
  });

  it('case 2: reply lost once — the same-id resend gets the cached reply and the handler ran once', async () => {
    const x = setup();
    let lost = 0;
    x.nodeBus.drop = (subject) => subject === OWN && lost++ === 0;
    const call = track(x.client.call(NODE, 'XNode.Echo', { uuid: 'u1' }));
    await x.clock.advance(499);
    expect(call.settled).toBe(false);
    await x.clock.advance(1);
    expect(call.value).toMatchObject({ code: 200, uuid: 'u1' });
    expect(x.runs['XNode.Echo']).toBe(1);
    expect(x.requests).toHaveLength(2);
    expect(x.nodeBus.dropped).toBe(1);
    // The answer of the resend is the cached one.
    expect(x.server?.replyEntry('c1:e1:1')?.state).toBe('done');
    await x.clock.advance(60_000); // TTL passes: the entry goes
  });

  it('case 3: reply after the final timeout goes to onUnexpected once; the caller saw TIMEOUT', async () => {
    const x = setup();
    // Provisional answers are lost, so the originator stays on the short timer and gives up at 7.5 s.
    x.nodeBus.drop = (_s, data) => codeOf(data) === 100;
    const call = track(x.client.call(NODE, 'XNode.Slow', { ms: 10_000 }));
    await x.clock.advance(7500);
    expect(call.error).toBeInstanceOf(RpcTimeoutError);
    expect(x.unexpected).toHaveLength(0);
    await x.clock.advance(2500);
    expect(x.unexpected).toHaveLength(1);
    expect(x.unexpected[0]).toMatchObject({ id: 'c1:e1:1', result: { code: 200, message: 'done' } });
    expect(x.runs['XNode.Slow']).toBe(1);
    await x.clock.advance(60_000);
  });

  it('case 6: maxRetries 0 — one send, then TIMEOUT after the first wait', async () => {
    const x = setup({ noServer: true, client: { requestTimer: { waitMs: 500, maxRetries: 0 } } });
    const call = track(x.client.call(NODE, 'XNode.Echo', {}));
    await x.clock.advance(500);
    expect(call.error).toBeInstanceOf(RpcTimeoutError);
    expect(x.requests.map((r) => r.at)).toEqual([0]);
  });

  it("case 6: maxRetries 'infinity' never fails by itself; cancel(id) ends it", async () => {
    const x = setup({
      noServer: true,
      client: { requestTimer: { waitMs: 1000, factor: 1, maxRetries: 'infinity' } },
    });
    const call = track(x.client.call(NODE, 'XNode.Echo', {}));
    await x.clock.advance(3_600_000);
    expect(call.settled).toBe(false);
    expect(x.requests).toHaveLength(3601);
    expect(x.client.pendingIds()).toEqual(['c1:e1:1']);
    expect(x.client.cancel('c1:e1:1')).toBe(true);
    await x.clock.advance(0);
    expect(call.error).toBeInstanceOf(CancelledError);
    expect(x.client.cancel('c1:e1:1')).toBe(false);
  });

  it('a sync-mode call is sent in async mode (a stable reply path), and a plain answer resolves it', async () => {
    const x = setup();
    const result = await x.client.call(NODE, 'XNode.Echo', { uuid: 'u9' }, { mode: 'sync' });
    expect(result).toMatchObject({ code: 200, uuid: 'u9' });
    expect(x.answers).toHaveLength(1);
    await x.clock.advance(60_000);
  });
});

describe('provisional answers (§3.5 cases 7–10)', () => {
  it('case 7: a 100 before the first resend — no short resends, a fresh long timer (resends every 5 s)', async () => {
    const x = setup();
    const call = track(x.client.call(NODE, 'XNode.Play', { uuid: 'u1', ms: 12_000 }, { expect100: true }));
    await x.clock.advance(4999);
    expect(x.requests.map((r) => r.at)).toEqual([0]);
    await x.clock.advance(12_000 - 4999);
    expect(x.requests.map((r) => r.at)).toEqual([0, 5000, 10_000]);
    expect(call.value).toMatchObject({ code: 200, message: 'played' });
    expect(x.runs['XNode.Play']).toBe(1);
    // The responder answered each resend with a counted 100.
    expect(x.answers.map((a) => codeOf(a.bytes))).toEqual([100, 100, 100, 200]);
    await x.clock.advance(60_000);
  });

  it('case 8: repeated progress restarts the long timer; one past recvPendingLimit fails with PENDING_LIMIT', async () => {
    const x = setup({
      client: { recvPendingLimit: 2, longRequestTimer: { waitMs: 1000, factor: 1, maxRetries: 10 } },
    });
    const call = track(x.client.call(NODE, 'XNode.Play', { ms: 60_000 }, { expect100: true }));
    await x.clock.advance(1999);
    expect(call.settled).toBe(false); // 100 at 0 and at 1000 (answer to the resend): 2 allowed
    await x.clock.advance(1);
    expect(call.error).toBeInstanceOf(PendingLimitError);
    expect((call.error as PendingLimitError).code).toBe(PENDING_LIMIT_CODE);
    expect(x.requests.map((r) => r.at)).toEqual([0, 1000, 2000]);
    await x.clock.advance(60_000);
    // The handler's late final answer has no call left to go to.
    expect(x.unexpected.map((r) => [r.id, 'result' in r ? r.result.code : undefined])).toEqual([
      ['c1:e1:1', 200],
    ]);
  });

  it('case 9: progress, then the final answer lost — longRequestResend brings the cached answer back', async () => {
    const x = setup();
    let lost = 0;
    x.nodeBus.drop = (_s, data) => codeOf(data) === 200 && lost++ === 0;
    const call = track(x.client.call(NODE, 'XNode.Play', { ms: 3000 }, { expect100: true }));
    await x.clock.advance(4999);
    expect(call.settled).toBe(false);
    await x.clock.advance(1);
    expect(call.value).toMatchObject({ code: 200, message: 'played' });
    expect(x.runs['XNode.Play']).toBe(1);
    await x.clock.advance(60_000);
  });

  it('case 9: progress, then the final answer lost — without longRequestResend it times out', async () => {
    const x = setup({ client: { longRequestResend: false } });
    x.nodeBus.drop = (_s, data) => codeOf(data) === 200;
    const call = track(x.client.call(NODE, 'XNode.Play', { ms: 3000 }, { expect100: true }));
    await x.clock.advance(34_999);
    expect(call.settled).toBe(false);
    expect(x.requests).toHaveLength(1);
    await x.clock.advance(1);
    expect(call.error).toBeInstanceOf(RpcTimeoutError);
    await x.clock.advance(60_000);
  });

  it('case 10: progress for an unknown id (100 response or rpc.progress) goes to onUnexpected', async () => {
    const x = setup({ noServer: true });
    x.raw.publish(OWN, encode({ jsonrpc: '2.0', id: 'c1:old:7', result: { code: 100, message: 'Trying' } }));
    x.raw.publish(OWN, encode(request('rpc.progress', { id: 'c1:old:8', status: 202 })));
    await x.clock.advance(0);
    expect(x.unexpected).toEqual([
      { jsonrpc: '2.0', id: 'c1:old:7', result: { code: 100, message: 'Trying' } },
      { jsonrpc: '2.0', id: 'c1:old:8', result: { code: 202, message: 'rpc.progress' } },
    ]);
  });

  it('an rpc.progress notification for a pending call switches it to the long timer', async () => {
    const x = setup({ noServer: true });
    const call = track(x.client.call(NODE, 'XNode.Echo', {}));
    await x.clock.advance(100);
    x.raw.publish(OWN, encode(request('rpc.progress', { id: 'c1:e1:1', status: 202 })));
    await x.clock.advance(5000);
    expect(x.requests.map((r) => r.at)).toEqual([0, 5100]);
    x.raw.publish(OWN, encode({ jsonrpc: '2.0', id: 'c1:e1:1', result: { code: 200, message: 'OK' } }));
    await x.clock.advance(0);
    expect(call.value).toEqual({ code: 200, message: 'OK' });
  });
});

describe('responder reply cache (§3.5 cases 11–14, 17)', () => {
  /** Publishes the exact same request bytes `n` times, as a resending originator would. */
  const resend = (x: Harness, bytes: Uint8Array): void => x.raw.publish(NODE, bytes);
  const slowRequest = (id: string, ms: number): Uint8Array =>
    encode(request('XNode.Slow', { ms, ctrl_uuid: 'c1', uuid: 'u1' }, id));

  it('case 11: a duplicate during eval gets a 100, is not executed again, and the counter goes up', async () => {
    const x = setup();
    const bytes = slowRequest('c9:e:1', 1000);
    resend(x, bytes);
    await x.clock.advance(500);
    resend(x, bytes);
    await x.clock.advance(0);
    expect(x.answers.map((a) => JSON.parse(text(a.bytes)))).toEqual([
      { jsonrpc: '2.0', id: 'c9:e:1', result: { code: 100, message: 'Trying', node_uuid: 'n1', uuid: 'u1' } },
    ]);
    expect(x.server?.replyEntry('c9:e:1')).toMatchObject({ state: 'eval', pendingSent: 1 });
    await x.clock.advance(500);
    expect(x.answers.map((a) => codeOf(a.bytes))).toEqual([100, 200]);
    expect(x.runs['XNode.Slow']).toBe(1);
    expect(x.unexpected).toHaveLength(2); // no call of this client waits for c9:…
    await x.clock.advance(60_000);
  });

  it('case 12: duplicates past the limit get PENDING_LIMIT, onAbort runs, the entry is aborted, later ones dropped', async () => {
    const x = setup({ server: { sentPendingLimit: 2 } });
    const bytes = slowRequest('c9:e:1', 5000);
    for (let i = 0; i < 5; i++) {
      resend(x, bytes);
      await x.clock.advance(100);
    }
    expect(x.answers.map((a) => codeOf(a.bytes))).toEqual([100, 100, PENDING_LIMIT_CODE]);
    expect(x.aborted).toEqual([{ id: 'c9:e:1', method: 'XNode.Slow' }]);
    expect(x.server?.replyEntry('c9:e:1')?.state).toBe('aborted');
    await x.clock.advance(5000); // the handler ends: its answer is not sent
    expect(x.answers).toHaveLength(3);
    expect(x.runs['XNode.Slow']).toBe(1);
    await x.clock.advance(60_000);
    expect(x.server?.replyEntry('c9:e:1')).toBeUndefined();
  });

  it('case 13: a duplicate after the reply gets it byte for byte; the TTL is not extended', async () => {
    const x = setup({ server: { replyCacheTtlMs: 50_000 } });
    const bytes = slowRequest('c9:e:1', 1000);
    resend(x, bytes);
    await x.clock.advance(1000);
    await x.clock.advance(30_000);
    resend(x, bytes);
    await x.clock.advance(0);
    expect(x.answers).toHaveLength(2);
    expect(text(x.answers[1]!.bytes)).toBe(text(x.answers[0]!.bytes));
    await x.clock.advance(50_000 - 30_000 - 1);
    expect(x.server?.replyEntry('c9:e:1')?.state).toBe('done');
    await x.clock.advance(1);
    expect(x.server?.replyEntry('c9:e:1')).toBeUndefined();
    expect(x.runs['XNode.Slow']).toBe(1);
  });

  it('case 13: a duplicate with a reply inbox gets the cached answer on that inbox', async () => {
    const x = setup();
    const bytes = slowRequest('c9:e:1', 10);
    resend(x, bytes);
    await x.clock.advance(10);
    const reply = await x.raw.request(NODE, bytes, { timeoutMs: 1000 });
    expect(text(reply.data)).toBe(text(x.answers[0]!.bytes));
    expect(x.runs['XNode.Slow']).toBe(1);
    await x.clock.advance(60_000);
  });

  it('case 14: a duplicate after the TTL runs the handler again', async () => {
    const x = setup({ server: { replyCacheTtlMs: 50_000 } });
    const bytes = slowRequest('c9:e:1', 10);
    resend(x, bytes);
    await x.clock.advance(50_010);
    resend(x, bytes);
    await x.clock.advance(10);
    expect(x.runs['XNode.Slow']).toBe(2);
    await x.clock.advance(50_000);
  });

  it('case 14: the config validator rejects a TTL shorter than the originator window plus transit', () => {
    // Defaults: 7.5 s + 35 s + 1 s transit = 43.5 s.
    expect(() => validateResponderReliability({ replyCacheTtlMs: 43_499 })).toThrow(RpcConfigError);
    expect(() => validateResponderReliability({ replyCacheTtlMs: 43_500 })).not.toThrow();
    expect(() =>
      validateResponderReliability({
        replyCacheTtlMs: 5000,
        transitMs: 0,
        originator: {
          requestTimer: { waitMs: 1000, maxRetries: 1 },
          longRequestTimer: { waitMs: 1000, maxRetries: 2 },
        },
      }),
    ).not.toThrow();
    expect(() =>
      validateResponderReliability({ originator: { requestTimer: { waitMs: 1, maxRetries: 'infinity' } } }),
    ).toThrow(/never end/);
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    expect(
      () =>
        new RpcServer(broker.connect(), clock, {
          subjects: [{ subject: NODE }],
          handlers: {},
          ctrlSubject,
          reliability: { replyCacheTtlMs: 1000 },
        }),
    ).toThrow(
      /replyCacheTtlMs: 1000 ms is shorter than the originator's resend window plus transit \(43500 ms\)/,
    );
  });

  it('case 17: a throwing handler — its error answer is cached and replayed byte for byte', async () => {
    const x = setup();
    const bytes = encode(request('XNode.Throw', { ctrl_uuid: 'c1' }, 'c9:e:1'));
    resend(x, bytes);
    await x.clock.advance(10);
    resend(x, bytes);
    await x.clock.advance(10);
    expect(x.answers.map((a) => codeOf(a.bytes))).toEqual([500, 500]);
    expect(text(x.answers[1]!.bytes)).toBe(text(x.answers[0]!.bytes));
    expect(x.runs['XNode.Throw']).toBe(1);
    await x.clock.advance(60_000);
  });

  it('without reliability a duplicate runs again (default behaviour unchanged)', async () => {
    const x = setup({ server: false });
    const bytes = slowRequest('c9:e:1', 10);
    resend(x, bytes);
    resend(x, bytes);
    await x.clock.advance(10);
    expect(x.runs['XNode.Slow']).toBe(2);
    expect(x.server?.cachedReplies).toBe(0);
  });
});

describe('disconnect, cancel and restart (§3.5 cases 26–29)', () => {
  it('case 26: the link drops during the retransmit window and recovers — completes, one execution', async () => {
    const x = setup();
    let linkUp = false;
    x.ctrlBus.drop = (subject) => subject === NODE && !linkUp;
    const call = track(x.client.call(NODE, 'XNode.Echo', { uuid: 'u1' }));
    await x.clock.advance(1000);
    expect(x.ctrlBus.dropped).toBe(2); // sends at 0 and 500 lost
    linkUp = true;
    await x.clock.advance(500);
    expect(call.value).toMatchObject({ code: 200 });
    expect(x.runs['XNode.Echo']).toBe(1);
    await x.clock.advance(60_000);
  });

  it('case 27: the link stays down past the final leg — TIMEOUT, not a hang', async () => {
    const x = setup();
    x.ctrlBus.drop = () => true;
    const call = track(x.client.call(NODE, 'XNode.Echo', {}));
    await x.clock.advance(7500);
    expect(call.error).toBeInstanceOf(RpcTimeoutError);
    expect(x.ctrlBus.dropped).toBe(4);
    expect(x.runs['XNode.Echo']).toBeUndefined();
  });

  it('case 28: cancelAll with 3 requests outstanding — 3× CANCELLED; a reply arriving after goes to onUnexpected', async () => {
    const x = setup();
    const calls = [1, 2, 3].map(() => track(x.client.call(NODE, 'XNode.Slow', { ms: 2000 })));
    await x.clock.advance(100);
    expect(x.client.cancelAll()).toBe(3);
    await x.clock.advance(0);
    for (const c of calls) expect(c.error).toBeInstanceOf(CancelledError);
    expect(x.client.pending).toBe(0);
    await x.clock.advance(2000);
    expect(x.unexpected.map((r) => r.id)).toEqual(['c1:e1:1', 'c1:e1:2', 'c1:e1:3']);
    await x.clock.advance(60_000);
  });

  it('case 29: an originator restart (new epoch) ignores old replies, and ids never collide', async () => {
    const x = setup({ client: { epoch: undefined } });
    const old = track(x.client.call(NODE, 'XNode.Slow', { ms: 5000 }));
    const oldId = x.client.pendingIds()[0];
    expect(parseTransactionId(oldId ?? '')?.epoch).toBe(x.client.epoch);
    await x.client.close(); // the controller "crashes"; its request is still running on the node
    await x.clock.advance(0);
    expect(old.error).toBeInstanceOf(CancelledError);
    const restarted = new RpcClient(x.ctrlBus, x.clock, {
      ctrlUuid: 'c1',
      ownSubject: OWN,
      onUnexpected: (r) => x.unexpected.push(r),
      reliability: { originator: 'c1' },
    });
    x.client = restarted;
    restarted.start();
    expect(restarted.epoch).not.toBe(parseTransactionId(oldId ?? '')?.epoch);
    const call = track(restarted.call(NODE, 'XNode.Slow', { ms: 1000 }));
    const newId = restarted.pendingIds()[0];
    expect(newId).not.toBe(oldId);
    expect(parseTransactionId(newId ?? '')).toMatchObject({ originator: 'c1', serial: 1 });
    await x.clock.advance(1000);
    expect(call.value).toMatchObject({ code: 200, message: 'done', ms: 1000 });
    // The old incarnation's request finishes: its answer reaches the new client, which ignores it.
    await x.clock.advance(4000);
    expect(x.unexpected.map((r) => r.id)).toEqual([oldId]);
    expect(call.value).toMatchObject({ code: 200, message: 'done' });
    await x.clock.advance(60_000);
  });
});
