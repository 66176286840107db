import { afterEach, describe, expect, it } from 'vitest';
import type { BusMsg } from '../bus/bus.js';
import { MemoryBroker, type MemoryBus } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import { RpcErrorCode } from '../protocol/codes.js';
import type { Logger } from '../protocol/logger.js';
import { publishEvent, RpcServer } from './server.js';
import type { MethodHandler, RpcServerOptions } from './types.js';

const te = new TextEncoder();
const td = new TextDecoder();
const json = (m: BusMsg): Record<string, unknown> => JSON.parse(td.decode(m.data)) as Record<string, unknown>;
const raw = (v: unknown): Uint8Array =>
  v instanceof Uint8Array ? v : te.encode(typeof v === 'string' ? v : JSON.stringify(v));

interface Harness {
  clock: VirtualClock;
  broker: MemoryBroker;
  node: MemoryBus;
  ctrl: MemoryBus;
  server: RpcServer;
  logs: { level: string; obj: object; msg?: string }[];
  /** Everything published to cn.xswitch.ctrl.* */
  toCtrl: Record<string, unknown>[];
  release: () => void;
}

let h: Harness | undefined;

afterEach(async () => {
  if (!h) return;
  h.release();
  await h.server.stop();
  expect(h.server.inflight).toBe(0);
  await h.broker.close();
  expect(h.clock.pending).toBe(0);
  h = undefined;
});

function setup(extra: Partial<RpcServerOptions> = {}): Harness {
  const clock = new VirtualClock();
  // The bus carries up to 4 MiB so the server's own 1 MiB limit is what a 2 MB request meets.
  const broker = new MemoryBroker({ clock, maxPayload: 4 * 1024 * 1024 });
  const node = broker.connect('node');
  const ctrl = broker.connect('ctrl');
  const logs: Harness['logs'] = [];
  const log =
    (level: string) =>
    (obj: object, msg?: string): void => {
      logs.push({ level, obj, msg });
    };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const handlers: Record<string, MethodHandler> = {
    'XNode.Echo': async (params, ctx) => ({
      code: 200,
      message: 'OK',
      echo: params,
      ctrl: ctx.ctrlUuid ?? null,
    }),
    // Finishes when the test releases it, or 410 when the server stops.
    'XNode.Slow': (_params, ctx) =>
      new Promise((resolve) => {
        void gate.then(() => resolve({ code: 200, message: 'slow done' }));
        ctx.signal.addEventListener('abort', () => resolve({ code: 410, message: 'stopped' }));
      }),
    'XNode.Play': async (params) => {
      await clock.sleep(1000);
      return { code: 200, message: 'played', uuid: params.uuid };
    },
    'XNode.Boom': async () => {
      throw new Error('kaput');
    },
  };
  const server = new RpcServer(node, clock, {
    subjects: [{ subject: 'cn.xswitch.node', queue: 'xnode' }, { subject: 'cn.xswitch.node.n1' }],
    handlers,
    validate: (method, params) => {
      const p = params as Record<string, unknown>;
      if (method === 'XNode.Play' && p.uuid !== undefined && typeof p.uuid !== 'string') {
        return { ok: false, message: 'params.uuid: expected string' };
      }
      return { ok: true, params: p };
    },
    ctrlSubject: (c) => `cn.xswitch.ctrl.${c}`,
    trying: new Set(['XNode.Play']),
    nodeUuid: 'n1',
    logger,
    ...extra,
  });
  server.start();
  const toCtrl: Record<string, unknown>[] = [];
  ctrl.subscribe('cn.xswitch.ctrl.>', { callback: (m) => toCtrl.push(json(m)) });
  h = { clock, broker, node, ctrl, server, logs, toCtrl, release };
  return h;
}

async function ask(x: Harness, body: unknown, subject = 'cn.xswitch.node'): Promise<Record<string, unknown>> {
  return json(await x.ctrl.request(subject, raw(body), { timeoutMs: 1000 }));
}

describe('RpcServer answers', () => {
  it('answers a request with an inbox on the inbox', async () => {
    const x = setup();
    const res = await ask(x, {
      jsonrpc: '2.0',
      id: 'a1',
      method: 'XNode.Echo',
      params: { ctrl_uuid: 'c1', x: 1 },
    });
    expect(res).toEqual({
      jsonrpc: '2.0',
      id: 'a1',
      result: { code: 200, message: 'OK', echo: { ctrl_uuid: 'c1', x: 1 }, ctrl: 'c1' },
    });
    expect(x.toCtrl).toEqual([]);
  });

  it('sends the result of an async call (id, no inbox) to the ctrl subject', async () => {
    const x = setup();
    x.ctrl.publish(
      'cn.xswitch.node.n1',
      raw({ jsonrpc: '2.0', id: 'a2', method: 'XNode.Echo', params: { ctrl_uuid: 'c7' } }),
    );
    await x.clock.tick();
    expect(x.toCtrl).toEqual([
      {
        jsonrpc: '2.0',
        id: 'a2',
        result: { code: 200, message: 'OK', echo: { ctrl_uuid: 'c7' }, ctrl: 'c7' },
      },
    ]);
  });

  it('runs a notification and sends nothing back', async () => {
    const x = setup();
    let ran = 0;
    const s2 = new RpcServer(x.node, x.clock, {
      subjects: [{ subject: 'n2' }],
      handlers: {
        'XNode.Note': async () => {
          ran++;
          return { code: 200, message: 'OK' };
        },
      },
      ctrlSubject: (c) => `cn.xswitch.ctrl.${c}`,
    });
    s2.start();
    x.ctrl.publish('n2', raw({ jsonrpc: '2.0', method: 'XNode.Note', params: { ctrl_uuid: 'c1' } }));
    await x.clock.tick();
    expect(ran).toBe(1);
    expect(x.toCtrl).toEqual([]);
    await s2.stop();
  });

  it('drops (with a warning) the answer of an async call without ctrl_uuid', async () => {
    const x = setup();
    x.ctrl.publish('cn.xswitch.node', raw({ jsonrpc: '2.0', id: 'a3', method: 'XNode.Echo', params: {} }));
    await x.clock.tick();
    expect(x.toCtrl).toEqual([]);
    expect(x.logs.some((l) => l.level === 'warn' && /dropped/.test(l.msg ?? ''))).toBe(true);
  });

  it('answers 500 with the message when a handler throws, and logs it', async () => {
    const x = setup();
    const res = await ask(x, { jsonrpc: '2.0', id: 'b1', method: 'XNode.Boom', params: {} });
    expect(res.result).toEqual({ code: 500, message: 'kaput', node_uuid: 'n1' });
    expect(x.logs.some((l) => l.level === 'error')).toBe(true);
  });
});

describe('RpcServer expect_100_trying', () => {
  it('answers 100 Trying at once, then the final response on the ctrl subject', async () => {
    const x = setup();
    const res = await ask(x, {
      jsonrpc: '2.0',
      id: 't1',
      method: 'XNode.Play',
      params: { ctrl_uuid: 'c1', uuid: 'u1', expect_100_trying: true },
    });
    expect(res).toEqual({
      jsonrpc: '2.0',
      id: 't1',
      result: { code: 100, message: 'Trying', node_uuid: 'n1', uuid: 'u1' },
    });
    expect(x.server.inflight).toBe(1);
    expect(x.toCtrl).toEqual([]);
    await x.clock.advance(1000);
    expect(x.toCtrl).toEqual([
      { jsonrpc: '2.0', id: 't1', result: { code: 200, message: 'played', uuid: 'u1' } },
    ]);
    expect(x.server.inflight).toBe(0);
  });

  it('accepts the seed typo exepect_100_trying and sends 100 to the ctrl subject when there is no inbox', async () => {
    const x = setup();
    x.ctrl.publish(
      'cn.xswitch.node',
      raw({
        jsonrpc: '2.0',
        id: 't2',
        method: 'XNode.Play',
        params: { ctrl_uuid: 'c2', exepect_100_trying: true },
      }),
    );
    await x.clock.tick();
    expect(x.toCtrl).toEqual([
      { jsonrpc: '2.0', id: 't2', result: { code: 100, message: 'Trying', node_uuid: 'n1' } },
    ]);
    await x.clock.advance(1000);
    expect(x.toCtrl[1]).toMatchObject({ id: 't2', result: { code: 200 } });
  });

  it('answers 400 when expect_100_trying comes without ctrl_uuid', async () => {
    const x = setup();
    const res = await ask(x, {
      jsonrpc: '2.0',
      id: 't3',
      method: 'XNode.Play',
      params: { expect_100_trying: true },
    });
    expect(res.result).toMatchObject({ code: 400 });
    expect(x.clock.pending).toBe(0); // the handler never ran
  });

  it('ignores expect_100_trying on methods that do not support it', async () => {
    const x = setup();
    const res = await ask(x, {
      jsonrpc: '2.0',
      id: 't4',
      method: 'XNode.Echo',
      params: { ctrl_uuid: 'c1', expect_100_trying: true },
    });
    expect(res.result).toMatchObject({ code: 200, message: 'OK' });
  });
});

describe('RpcServer bad input', () => {
  const cases: [string, string | Uint8Array, number][] = [
    ['non-JSON', '{"jsonrpc":"2.0", nope', RpcErrorCode.ParseError],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), RpcErrorCode.ParseError],
    [
      'missing jsonrpc',
      JSON.stringify({ id: 'm1', method: 'XNode.Echo', params: {} }),
      RpcErrorCode.InvalidRequest,
    ],
    [
      'params not an object',
      JSON.stringify({ jsonrpc: '2.0', id: 'm2', method: 'XNode.Echo', params: [1] }),
      RpcErrorCode.InvalidParams,
    ],
    [
      'id a number',
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'XNode.Echo', params: {} }),
      RpcErrorCode.InvalidRequest,
    ],
    ['method missing', JSON.stringify({ jsonrpc: '2.0', id: 'm3', params: {} }), RpcErrorCode.InvalidRequest],
    ['a JSON string', '"hello"', RpcErrorCode.InvalidRequest],
    [
      'unknown method',
      JSON.stringify({ jsonrpc: '2.0', id: 'm4', method: 'XNode.Nope', params: {} }),
      RpcErrorCode.MethodNotFound,
    ],
    [
      'inherited property as method',
      JSON.stringify({ jsonrpc: '2.0', id: 'm5', method: 'toString' }),
      RpcErrorCode.MethodNotFound,
    ],
    [
      'invalid params',
      JSON.stringify({ jsonrpc: '2.0', id: 'm6', method: 'XNode.Play', params: { uuid: 5 } }),
      RpcErrorCode.InvalidParams,
    ],
    [
      '2 MB message',
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'm7',
        method: 'XNode.Echo',
        params: { pad: 'x'.repeat(2_000_000) },
      }),
      RpcErrorCode.InvalidRequest,
    ],
  ];

  it.each(cases)(
    '%s → JSON-RPC error %s while another request still completes',
    async (_name, body, code) => {
      const x = setup();
      const inflight = x.ctrl.request(
        'cn.xswitch.node',
        raw({ jsonrpc: '2.0', id: 'slow', method: 'XNode.Slow', params: {} }),
        {
          timeoutMs: 5000,
        },
      );
      await x.clock.tick();
      expect(x.server.inflight).toBe(1);
      const res = await ask(x, body);
      expect(res.jsonrpc).toBe('2.0');
      expect((res.error as { code: number }).code).toBe(code);
      expect(res.result).toBeUndefined();
      expect(x.logs.some((l) => l.level === 'warn')).toBe(true);
      x.release();
      expect(json(await inflight).result).toEqual({ code: 200, message: 'slow done' });
    },
  );

  it('names the bad field in the -32602 message', async () => {
    const x = setup();
    const res = await ask(x, { jsonrpc: '2.0', id: 'v1', method: 'XNode.Play', params: { uuid: 5 } });
    expect(res).toEqual({
      jsonrpc: '2.0',
      id: 'v1',
      error: { code: -32602, message: 'params.uuid: expected string' },
    });
  });

  it('sends an envelope error to the ctrl subject when there is no inbox but an id and ctrl_uuid', async () => {
    const x = setup();
    x.ctrl.publish(
      'cn.xswitch.node',
      raw({ jsonrpc: '1.0', id: 'e1', method: 'XNode.Echo', params: { ctrl_uuid: 'c9' } }),
    );
    x.ctrl.publish(
      'cn.xswitch.node',
      raw({ jsonrpc: '2.0', id: 'e2', method: 'XNode.Nope', params: { ctrl_uuid: 'c9' } }),
    );
    // No id: nothing can be correlated, so nothing is sent.
    x.ctrl.publish(
      'cn.xswitch.node',
      raw({ jsonrpc: '1.0', method: 'XNode.Echo', params: { ctrl_uuid: 'c9' } }),
    );
    await x.clock.tick();
    expect(x.toCtrl).toEqual([
      { jsonrpc: '2.0', id: 'e1', error: { code: -32600, message: '"jsonrpc" must be "2.0"' } },
      { jsonrpc: '2.0', id: 'e2', error: { code: -32601, message: 'unknown method XNode.Nope' } },
    ]);
    expect(x.logs.filter((l) => l.level === 'warn')).toHaveLength(3);
  });

  it('a throwing ctrlSubject or a bad ctrl_uuid does not crash the server', async () => {
    const x = setup({
      ctrlSubject: (c) => {
        if (c.includes(' ')) throw new Error('bad token');
        return `cn.xswitch.ctrl.${c}`;
      },
    });
    x.ctrl.publish(
      'cn.xswitch.node',
      raw({ jsonrpc: '2.0', id: 'z1', method: 'XNode.Echo', params: { ctrl_uuid: 'a b' } }),
    );
    await x.clock.tick();
    expect(x.toCtrl).toEqual([]);
    const res = await ask(x, { jsonrpc: '2.0', id: 'z2', method: 'XNode.Echo', params: {} });
    expect(res.result).toMatchObject({ code: 200 });
  });
});

describe('RpcServer batches', () => {
  it('handles each item and answers with an array of the responses (notifications give none)', async () => {
    const x = setup();
    const res = json(
      await x.ctrl.request(
        'cn.xswitch.node',
        raw([
          { jsonrpc: '2.0', id: 'b1', method: 'XNode.Echo', params: { n: 1 } },
          { jsonrpc: '2.0', method: 'XNode.Echo', params: { n: 2 } },
          { jsonrpc: '2.0', id: 'b3', method: 'XNode.Nope' },
          { jsonrpc: '2.0', id: 'b4', method: 'XNode.Boom' },
          42,
        ]),
        { timeoutMs: 1000 },
      ),
    ) as unknown as Record<string, unknown>[];
    expect(res).toEqual([
      { jsonrpc: '2.0', id: 'b1', result: { code: 200, message: 'OK', echo: { n: 1 }, ctrl: null } },
      { jsonrpc: '2.0', id: 'b3', error: { code: -32601, message: 'unknown method XNode.Nope' } },
      { jsonrpc: '2.0', id: 'b4', result: { code: 500, message: 'kaput', node_uuid: 'n1' } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'message must be a JSON object' } },
    ]);
  });

  it('sends batch answers without an inbox one by one to each ctrl subject', async () => {
    const x = setup();
    x.ctrl.publish(
      'cn.xswitch.node',
      raw([
        { jsonrpc: '2.0', id: 'b1', method: 'XNode.Echo', params: { ctrl_uuid: 'c1' } },
        { jsonrpc: '2.0', id: 'b2', method: 'XNode.Echo', params: { ctrl_uuid: 'c2' } },
      ]),
    );
    await x.clock.tick();
    expect(x.toCtrl.map((r) => r.id).sort()).toEqual(['b1', 'b2']);
  });

  it('answers an empty batch with -32600', async () => {
    const x = setup();
    const res = await ask(x, '[]');
    expect((res.error as { code: number }).code).toBe(-32600);
  });
});

describe('RpcServer stop', () => {
  it('unsubscribes, aborts in-flight handler signals and waits for them', async () => {
    const x = setup();
    const subsBefore = x.node.subscriptionCount;
    const p = x.ctrl.request(
      'cn.xswitch.node',
      raw({ jsonrpc: '2.0', id: 's1', method: 'XNode.Slow', params: {} }),
      {
        timeoutMs: 1000,
      },
    );
    await x.clock.tick();
    expect(x.server.inflight).toBe(1);
    await x.server.stop();
    expect(x.server.inflight).toBe(0);
    expect(x.node.subscriptionCount).toBe(subsBefore - 2);
    expect(json(await p).result).toEqual({ code: 410, message: 'stopped' });
    await expect(
      x.ctrl.request('cn.xswitch.node', raw({ jsonrpc: '2.0', id: 's2', method: 'XNode.Echo' }), {
        timeoutMs: 10,
      }),
    ).rejects.toThrow(/no responders/);
  });
});

describe('RpcServer handler signal', () => {
  it('twenty handlers listening on ctx.signal at once (a node with twenty Dials ringing) raise no leak warning, and all see stop', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    try {
      const x = setup();
      const answers = Array.from({ length: 20 }, (_, i) =>
        x.ctrl.request(
          'cn.xswitch.node',
          raw({ jsonrpc: '2.0', id: `d${i}`, method: 'XNode.Slow', params: {} }),
          { timeoutMs: 1000 },
        ),
      );
      await x.clock.tick();
      expect(x.server.inflight).toBe(20);
      await x.server.stop();
      for (const answer of answers)
        expect(json(await answer).result).toEqual({ code: 410, message: 'stopped' });
      // Node emits the warning on the next tick.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(warnings.filter((name) => name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('publishEvent', () => {
  it('publishes a JSON-RPC notification', async () => {
    const x = setup();
    publishEvent(x.node, 'cn.xswitch.ctrl.c1', 'Event.Channel', { uuid: 'u1', state: 'START' });
    await x.clock.tick();
    expect(x.toCtrl).toEqual([
      { jsonrpc: '2.0', method: 'Event.Channel', params: { uuid: 'u1', state: 'START' } },
    ]);
  });
});
