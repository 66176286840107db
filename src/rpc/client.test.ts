import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker, type MemoryBus } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import type { RpcResponse } from '../protocol/envelope.js';
import { CancelledError, JsonRpcError, NoRespondersError, RpcTimeoutError } from '../protocol/errors.js';
import { RpcClient } from './client.js';
import { RpcServer } from './server.js';
import type { MethodHandler, RpcClientOptions } from './types.js';

const NODE = 'cn.xswitch.node';
const OWN = 'cn.xswitch.ctrl.c1';

interface Harness {
  clock: VirtualClock;
  broker: MemoryBroker;
  nodeBus: MemoryBus;
  ctrlBus: MemoryBus;
  server: RpcServer;
  client: RpcClient;
  seen: Record<string, unknown>[];
  unexpected: RpcResponse[];
  messages: { method: string; params: Record<string, unknown>; id?: string }[];
}

let h: Harness | undefined;

afterEach(async () => {
  if (!h) return;
  await h.client.close();
  await h.server.stop();
  expect(h.client.pending).toBe(0);
  expect(h.ctrlBus.subscriptionCount).toBe(0);
  await h.broker.close();
  expect(h.clock.pending).toBe(0);
  h = undefined;
});

function setup(extra: Partial<RpcClientOptions> = {}): Harness {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const nodeBus = broker.connect('node');
  const ctrlBus = broker.connect('ctrl');
  const seen: Record<string, unknown>[] = [];
  const handlers: Record<string, MethodHandler> = {
    'XNode.Echo': async (params) => {
      seen.push(params);
      return { code: 200, message: 'OK', uuid: params.uuid };
    },
    'XNode.Play': async (params, ctx) => {
      seen.push(params);
      await clock.sleep(2000, ctx.signal).catch(() => {});
      return { code: 200, message: 'played' };
    },
    'XNode.Hangup': async () => ({ code: 404, message: 'cannot locate session by uuid' }),
  };
  const server = new RpcServer(nodeBus, clock, {
    subjects: [{ subject: NODE, queue: 'xnode' }],
    handlers,
    ctrlSubject: (c) => `cn.xswitch.ctrl.${c}`,
    trying: new Set(['XNode.Play']),
  });
  server.start();
  const unexpected: RpcResponse[] = [];
  const messages: Harness['messages'] = [];
  const client = new RpcClient(ctrlBus, clock, {
    ctrlUuid: 'c1',
    ownSubject: OWN,
    onUnexpected: (r) => unexpected.push(r),
    onMessage: (m) => messages.push(m),
    ...extra,
  });
  client.start();
  h = { clock, broker, nodeBus, ctrlBus, server, client, seen, unexpected, messages };
  return h;
}

describe('RpcClient modes', () => {
  it('sync call returns the raw result and adds ctrl_uuid to params', async () => {
    const x = setup();
    const result = await x.client.call(NODE, 'XNode.Echo', { uuid: 'u1' });
    expect(result).toEqual({ code: 200, message: 'OK', uuid: 'u1' });
    expect(x.seen).toEqual([{ uuid: 'u1', ctrl_uuid: 'c1' }]);
    expect(x.client.pending).toBe(0);
    expect(x.clock.pending).toBe(0);
  });

  it('keeps a ctrl_uuid the caller set', async () => {
    const x = setup();
    await x.client.call(NODE, 'XNode.Echo', { ctrl_uuid: 'other' });
    expect(x.seen[0]).toEqual({ ctrl_uuid: 'other' });
  });

  it('returns non-2xx results as results, not errors', async () => {
    const x = setup();
    expect(await x.client.call(NODE, 'XNode.Hangup', { uuid: 'nope' })).toEqual({
      code: 404,
      message: 'cannot locate session by uuid',
    });
  });

  it('async call publishes with an id and gets the result on its own subject', async () => {
    const x = setup();
    const p = x.client.call(NODE, 'XNode.Echo', { uuid: 'u2' }, { mode: 'async' });
    expect(x.client.pending).toBe(1);
    expect(await p).toEqual({ code: 200, message: 'OK', uuid: 'u2' });
    expect(x.client.pending).toBe(0);
    expect(x.clock.pending).toBe(0);
  });

  it('notify publishes without id and resolves 202 at once', async () => {
    const x = setup();
    expect(await x.client.call(NODE, 'XNode.Echo', { uuid: 'u3' }, { mode: 'notify' })).toEqual({
      code: 202,
      message: 'sent',
    });
    expect(x.client.pending).toBe(0);
    await x.clock.tick();
    expect(x.seen).toEqual([{ uuid: 'u3', ctrl_uuid: 'c1' }]);
    expect(x.unexpected).toEqual([]);
  });

  it('expect100: a 100 Trying keeps the call waiting for the final result on the ctrl subject', async () => {
    const x = setup();
    let settled = false;
    const p = x.client.call(NODE, 'XNode.Play', { uuid: 'u4' }, { expect100: true }).finally(() => {
      settled = true;
    });
    await x.clock.tick();
    expect(x.seen).toEqual([{ uuid: 'u4', ctrl_uuid: 'c1', expect_100_trying: true }]);
    expect(settled).toBe(false);
    expect(x.client.pending).toBe(1);
    await x.clock.advance(2000);
    expect(await p).toEqual({ code: 200, message: 'played' });
    expect(x.unexpected).toEqual([]);
  });

  it('expect100 in async mode: the 100 on the ctrl subject is not mistaken for the result', async () => {
    const x = setup();
    const p = x.client.call(NODE, 'XNode.Play', {}, { expect100: true, mode: 'async' });
    await x.clock.tick();
    expect(x.client.pending).toBe(1);
    await x.clock.advance(2000);
    expect(await p).toMatchObject({ code: 200 });
  });

  it('expect100 without a ctrl_uuid on the node side gives the raw 400 result', async () => {
    const x = setup();
    // An empty ctrl_uuid is "no ctrl_uuid" for the node.
    expect(await x.client.call(NODE, 'XNode.Play', { ctrl_uuid: '' }, { expect100: true })).toMatchObject({
      code: 400,
    });
  });
});

describe('RpcClient failures', () => {
  it('times out on the clock with RpcTimeoutError and leaves no timer or entry behind', async () => {
    const x = setup();
    // A node that never answers.
    x.nodeBus.subscribe('cn.xswitch.node.silent', { callback: () => {} });
    const p = x.client.call('cn.xswitch.node.silent', 'XNode.Echo', { uuid: 'u5' }, { timeoutMs: 3000 });
    const check = expect(p).rejects.toSatisfy(
      (e: unknown) => e instanceof RpcTimeoutError && e.uuid === 'u5' && e.method === 'XNode.Echo',
    );
    await x.clock.advance(2999);
    expect(x.client.pending).toBe(1);
    await x.clock.advance(1);
    await check;
    expect(x.client.pending).toBe(0);
    expect(x.clock.pending).toBe(0);
  });

  it('uses defaultTimeoutMs (5000 unless configured)', async () => {
    const x = setup();
    x.nodeBus.subscribe('cn.xswitch.node.silent', { callback: () => {} });
    const p = x.client.call('cn.xswitch.node.silent', 'XNode.Echo', {});
    const check = expect(p).rejects.toBeInstanceOf(RpcTimeoutError);
    await x.clock.advance(4999);
    expect(x.client.pending).toBe(1);
    await x.clock.advance(1);
    await check;
  });

  it('a late response after a timeout goes to onUnexpected', async () => {
    const x = setup();
    const p = x.client.call(NODE, 'XNode.Play', { uuid: 'u6' }, { expect100: true, timeoutMs: 1000 });
    const check = expect(p).rejects.toBeInstanceOf(RpcTimeoutError);
    await x.clock.advance(1000);
    await check;
    await x.clock.advance(1000);
    expect(x.unexpected).toHaveLength(1);
    expect(x.unexpected[0]).toMatchObject({ result: { code: 200, message: 'played' } });
  });

  it('rejects with CancelledError when the signal aborts, releasing timer and entry', async () => {
    const x = setup();
    const ac = new AbortController();
    const p = x.client.call(NODE, 'XNode.Play', {}, { expect100: true, signal: ac.signal });
    await x.clock.tick();
    ac.abort(new Error('flow cancelled'));
    await expect(p).rejects.toSatisfy(
      (e: unknown) => e instanceof CancelledError && e.message === 'flow cancelled',
    );
    expect(x.client.pending).toBe(0);
    const pre = new AbortController();
    pre.abort();
    await expect(x.client.call(NODE, 'XNode.Echo', {}, { signal: pre.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
    await x.clock.advance(2000); // the node's late final goes to onUnexpected, not to anyone waiting
    expect(x.unexpected).toHaveLength(1);
  });

  it('rejects with NoRespondersError when no node listens', async () => {
    const x = setup();
    await expect(x.client.call('cn.xswitch.node.gone', 'XNode.Echo', {})).rejects.toBeInstanceOf(
      NoRespondersError,
    );
    expect(x.client.pending).toBe(0);
    expect(x.clock.pending).toBe(0);
  });

  it('rejects with JsonRpcError for an error envelope', async () => {
    const x = setup();
    await expect(x.client.call(NODE, 'XNode.Nope', {})).rejects.toSatisfy(
      (e: unknown) => e instanceof JsonRpcError && e.code === -32601 && e.method === 'XNode.Nope',
    );
  });

  it('rejects with JsonRpcError when the reply is not a response', async () => {
    const x = setup();
    x.nodeBus.subscribe('cn.xswitch.node.odd', {
      callback: (m) => m.respond(new TextEncoder().encode('not json')),
    });
    await expect(x.client.call('cn.xswitch.node.odd', 'XNode.Echo', {})).rejects.toBeInstanceOf(JsonRpcError);
  });

  it('close rejects every pending call with CancelledError and refuses new ones', async () => {
    const x = setup();
    const a = x.client.call(NODE, 'XNode.Play', {}, { expect100: true });
    const b = x.client.call(NODE, 'XNode.Play', {}, { expect100: true, mode: 'async' });
    await x.clock.tick();
    expect(x.client.pending).toBe(2);
    await x.client.close();
    await expect(a).rejects.toBeInstanceOf(CancelledError);
    await expect(b).rejects.toBeInstanceOf(CancelledError);
    expect(x.client.pending).toBe(0);
    expect(x.ctrlBus.subscriptionCount).toBe(0);
    await expect(x.client.call(NODE, 'XNode.Echo', {})).rejects.toBeInstanceOf(CancelledError);
  });

  it('maps a closed bus to CancelledError', async () => {
    const x = setup();
    await x.ctrlBus.close();
    await expect(x.client.call(NODE, 'XNode.Echo', {}, { mode: 'async' })).rejects.toBeInstanceOf(
      CancelledError,
    );
    await expect(x.client.call(NODE, 'XNode.Echo', {}, { mode: 'notify' })).rejects.toBeInstanceOf(
      CancelledError,
    );
    expect(x.client.pending).toBe(0);
  });
});

describe('RpcClient own subject', () => {
  it('hands events and node requests to onMessage and unknown responses to onUnexpected', async () => {
    const x = setup();
    const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    x.nodeBus.publish(
      OWN,
      enc({ jsonrpc: '2.0', method: 'Event.Channel', params: { uuid: 'u1', state: 'START' } }),
    );
    x.nodeBus.publish(OWN, enc({ jsonrpc: '2.0', id: 'zz', result: { code: 200, message: 'OK' } }));
    x.nodeBus.publish(OWN, enc([{ jsonrpc: '2.0', method: 'Event.CDR', params: { uuid: 'u1' } }]));
    x.nodeBus.publish(OWN, enc({ nonsense: true }));
    await x.clock.tick();
    expect(x.messages).toEqual([
      { method: 'Event.Channel', params: { uuid: 'u1', state: 'START' } },
      { method: 'Event.CDR', params: { uuid: 'u1' } },
    ]);
    expect(x.unexpected).toEqual([{ jsonrpc: '2.0', id: 'zz', result: { code: 200, message: 'OK' } }]);
  });

  it('a throwing onMessage does not stop later results', async () => {
    const x = setup({
      onMessage: () => {
        throw new Error('app bug');
      },
    });
    x.nodeBus.publish(
      OWN,
      new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', method: 'Event.X', params: {} })),
    );
    expect(await x.client.call(NODE, 'XNode.Echo', {}, { mode: 'async' })).toMatchObject({ code: 200 });
  });
});

describe('RpcClient scale', () => {
  it('1000 concurrent calls in all modes complete without leaking timers, entries or subscriptions', async () => {
    const x = setup();
    const modes = ['sync', 'async'] as const;
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        x.client.call(NODE, 'XNode.Echo', { uuid: `u${i}` }, { mode: modes[i % 2]! }),
      ),
    );
    expect(results.map((r) => r.uuid)).toEqual(Array.from({ length: 1000 }, (_, i) => `u${i}`));
    expect(x.client.pending).toBe(0);
    expect(x.server.inflight).toBe(0);
    expect(x.clock.pending).toBe(0);
    expect(x.broker.stats().subscriptions).toBe(2); // the node's queue subscription and our own subject
  });
});
