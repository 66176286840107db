/**
 * The transaction sender (§2.4; §3.5 cases 21, 22): unit tests on a recording publish + VirtualClock,
 * then end to end with RpcClient/RpcServer batching on MemoryBroker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import { decode, encode, request } from '../protocol/envelope.js';
import { ACK_METHOD } from './acks.js';
import { RpcClient } from './client.js';
import { RpcConfigError } from './errors.js';
import { RpcServer } from './server.js';
import { TransSender, type TransSenderOptions } from './trans-sender.js';
import type { MethodHandler } from './types.js';

const NODE = 'cn.xswitch.node';
const OWN = 'cn.xswitch.ctrl.c1';
const ctrlSubject = (c: string): string => `cn.xswitch.ctrl.${c}`;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const req = (id: string, pad = 0): Uint8Array =>
  encode(request('XNode.Echo', { ctrl_uuid: 'c1', pad: 'x'.repeat(pad) }, id));

/** What a publish carried: the subject, the time, and the items (one for a plain message). */
interface Out {
  subject: string;
  at: number;
  items: unknown[];
  batch: boolean;
}

function unit(options: TransSenderOptions = {}): { clock: VirtualClock; sender: TransSender; out: Out[] } {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const out: Out[] = [];
  const sender = new TransSender(
    (subject, bytes) => {
      const value: unknown = JSON.parse(text(bytes));
      out.push({
        subject,
        at: clock.now() - t0,
        items: Array.isArray(value) ? value : [value],
        batch: Array.isArray(value),
      });
    },
    clock,
    options,
  );
  return { clock, sender, out };
}

const ids = (o: Out): unknown[] =>
  o.items.map((i) => (i as { id?: string; method?: string }).id ?? (i as { method: string }).method);

describe('TransSender (§2.4)', () => {
  it('case 21: flushes on the timer (50 ms default): requests to one subject go as one batch array', async () => {
    const { clock, sender, out } = unit();
    sender.request(NODE, 'c1:e1:1', req('c1:e1:1'));
    await clock.advance(20);
    sender.request(NODE, 'c1:e1:2', req('c1:e1:2'));
    sender.request('cn.xswitch.node.n2', 'c1:e1:3', req('c1:e1:3'));
    await clock.advance(29);
    expect(out).toEqual([]);
    expect(sender.stored).toBe(3);
    await clock.advance(1);
    expect(out.map((o) => [o.subject, o.at, o.batch, ids(o)])).toEqual([
      [NODE, 50, true, ['c1:e1:1', 'c1:e1:2']],
    ]);
    // Each destination has its own timer, armed by its first stored item (at 20 ms here).
    await clock.advance(20);
    expect(out.map((o) => [o.subject, o.at, o.batch, ids(o)]).at(-1)).toEqual([
      'cn.xswitch.node.n2',
      70,
      false,
      ['c1:e1:3'],
    ]);
    expect(sender.stats.flushes.timer).toBe(2);
    expect(clock.pending).toBe(0);
    // Items keep their exact bytes inside the array.
    expect(text(req('c1:e1:1'))).toBe(JSON.stringify(out[0]?.items[0]));
  });

  it('case 21: flushes on count (requests >= maxRequests, acks >= maxAcks) without waiting', () => {
    const { clock, sender, out } = unit({ maxRequests: 3, maxAcks: 4 });
    for (const n of [1, 2, 3]) sender.request(NODE, `c1:e1:${n}`, req(`c1:e1:${n}`));
    expect(out.map(ids)).toEqual([['c1:e1:1', 'c1:e1:2', 'c1:e1:3']]);
    for (const s of [4, 2, 3]) sender.ack(NODE, 'c1', 'e1', s);
    expect(out).toHaveLength(1);
    sender.ack(NODE, 'c1', 'e1', 1);
    expect(out[1]?.items).toEqual([
      { jsonrpc: '2.0', method: ACK_METHOD, params: { originator: 'c1', epoch: 'e1', ranges: [[1, 4]] } },
    ]);
    expect(sender.stats.flushes.count).toBe(2);
    expect(clock.pending).toBe(0);
  });

  it('case 21: acks are sorted and compressed into ranges, one rpc.ack per epoch', async () => {
    const { clock, sender, out } = unit();
    for (const s of [9, 1, 3, 2, 4, 4]) sender.ack(NODE, 'c1', 'e1', s);
    sender.ack(NODE, 'c1', 'e0', 7);
    await clock.advance(50);
    expect(out).toHaveLength(1);
    expect(out[0]?.items).toEqual([
      {
        jsonrpc: '2.0',
        method: ACK_METHOD,
        params: {
          originator: 'c1',
          epoch: 'e1',
          ranges: [
            [1, 4],
            [9, 9],
          ],
        },
      },
      { jsonrpc: '2.0', method: ACK_METHOD, params: { originator: 'c1', epoch: 'e0', ranges: [[7, 7]] } },
    ]);
  });

  it('case 21: a reply or progress to that subject takes what is stored with it, at once', () => {
    const { clock, sender, out } = unit();
    sender.request(NODE, 'c1:e1:1', req('c1:e1:1'));
    sender.ack(NODE, 'c1', 'e1', 5);
    sender.ack(NODE, 'c1', 'e1', 6);
    const progress = encode(request('rpc.progress', { id: 'x:y:1', status: 100 }));
    sender.reply(NODE, progress);
    expect(out.map(ids)).toEqual([['c1:e1:1', ACK_METHOD, 'rpc.progress']]);
    expect((out[0]!.items[1] as { params: unknown }).params).toEqual({
      originator: 'c1',
      epoch: 'e1',
      ranges: [[5, 6]],
    });
    // Nothing stored for another subject: a reply goes alone.
    sender.reply(OWN, progress);
    expect(out[1]).toMatchObject({ subject: OWN, batch: false });
    expect(sender.stats.flushes.reply).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('flushes on size; an item too big on its own goes alone after a flush', () => {
    const small = req('c1:e1:1').byteLength;
    const { clock, sender, out } = unit({ maxBytes: small * 3 });
    sender.request(NODE, 'c1:e1:1', req('c1:e1:1'));
    sender.request(NODE, 'c1:e1:2', req('c1:e1:2', small * 4));
    expect(out.map((o) => [o.batch, ids(o)])).toEqual([
      [false, ['c1:e1:1']],
      [false, ['c1:e1:2']],
    ]);
    expect(sender.stats.flushes.oversize).toBe(1);
    sender.request(NODE, 'c1:e1:3', req('c1:e1:3'));
    sender.request(NODE, 'c1:e1:4', req('c1:e1:4', Math.floor(small * 1.5)));
    expect(out.map(ids).at(-1)).toEqual(['c1:e1:3', 'c1:e1:4']);
    expect(sender.stats.flushes.size).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('case 22: a request already in the store is a resend — everything stored goes at once, the request once', () => {
    const { clock, sender, out } = unit();
    sender.request(NODE, 'c1:e1:1', req('c1:e1:1'));
    sender.request(NODE, 'c1:e1:2', req('c1:e1:2'));
    expect(out).toEqual([]);
    sender.request(NODE, 'c1:e1:1', req('c1:e1:1'));
    expect(out.map(ids)).toEqual([['c1:e1:1', 'c1:e1:2']]);
    expect(sender.stats.flushes.resend).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('close() flushes what is stored and releases the timers', () => {
    const { clock, sender, out } = unit();
    sender.ack(NODE, 'c1', 'e1', 1);
    expect(clock.pending).toBe(1);
    sender.close();
    expect(out).toHaveLength(1);
    expect(clock.pending).toBe(0);
    expect(sender.stored).toBe(0);
  });

  it('a publish failure on the timer flush is logged, not thrown, and the store is emptied', async () => {
    const clock = new VirtualClock();
    const warnings: string[] = [];
    const sender = new TransSender(
      () => {
        throw new Error('link down');
      },
      clock,
      {},
      { debug: () => {}, info: () => {}, warn: (_o, m) => warnings.push(m ?? ''), error: () => {} },
    );
    sender.request(NODE, 'c1:e1:1', req('c1:e1:1'));
    await clock.advance(50);
    expect(warnings).toEqual(['rpc: transaction sender flush failed']);
    expect(sender.stored).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

describe('batching end to end (RpcClient + RpcServer)', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  function e2e(options: { clientBatching?: TransSenderOptions; ackMode?: 'require' } = {}) {
    const clock = new VirtualClock();
    const t0 = clock.now();
    const broker = new MemoryBroker({ clock });
    const raw = broker.connect('raw');
    const toNode: { at: number; items: unknown[] }[] = [];
    raw.subscribe(NODE, {
      callback: (m) => {
        const d = decode(m.data);
        toNode.push({ at: clock.now() - t0, items: d.kind === 'batch' ? d.items : [d] });
      },
    });
    let runs = 0;
    const acked: string[] = [];
    const handlers: Record<string, MethodHandler> = {
      'XNode.Echo': async (params) => {
        runs += 1;
        return { code: 200, message: 'OK', n: params.n };
      },
    };
    const server = new RpcServer(broker.connect('node'), clock, {
      subjects: [{ subject: NODE, queue: 'xnode' }],
      handlers,
      ctrlSubject,
      reliability: {
        ...(options.ackMode ? { ackMode: options.ackMode } : {}),
        onAck: (i) => acked.push(i.id),
        batching: {},
      },
    });
    server.start();
    const client = new RpcClient(broker.connect('ctrl'), clock, {
      ctrlUuid: 'c1',
      ownSubject: OWN,
      reliability: { originator: 'c1', epoch: 'e1', batching: options.clientBatching ?? {} },
    });
    client.start();
    cleanup = async () => {
      await client.close();
      await server.stop();
      expect(server.cachedReplies).toBe(0);
      await broker.close();
      expect(clock.pending).toBe(0);
    };
    return { clock, raw, server, client, toNode, runs: () => runs, acked };
  }

  it('5 concurrent calls go as one batch; in require mode the 5 acks go back as one rpc.ack [1,5]', async () => {
    const x = e2e({ ackMode: 'require' });
    const calls = [1, 2, 3, 4, 5].map((n) => x.client.call(NODE, 'XNode.Echo', { n }));
    await x.clock.advance(50);
    const results = await Promise.all(calls);
    expect(results.map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
    expect(x.toNode).toHaveLength(1);
    expect(x.toNode[0]?.items).toHaveLength(5);
    expect(x.runs()).toBe(5);
    await x.clock.advance(50);
    expect(x.toNode).toHaveLength(2);
    expect(x.toNode[1]?.items).toEqual([
      {
        kind: 'notification',
        message: {
          jsonrpc: '2.0',
          method: ACK_METHOD,
          params: { originator: 'c1', epoch: 'e1', ranges: [[1, 5]] },
        },
      },
    ]);
    expect(x.acked).toEqual(['c1:e1:1', 'c1:e1:2', 'c1:e1:3', 'c1:e1:4', 'c1:e1:5']);
    expect(x.server.cachedReplies).toBe(0);
    expect(x.client.sender?.stats).toMatchObject({ messages: 2, items: 6 });
  });

  it('batched requests go through the reply cache: a duplicate inside a batch gets the cached answer, one execution', async () => {
    const x = e2e();
    const answers: string[] = [];
    x.raw.subscribe(OWN, { callback: (m) => answers.push(text(m.data)) });
    const one = req('c9:e:1');
    x.raw.publish(NODE, one);
    await x.clock.advance(0);
    const batch = new TextEncoder().encode(`[${text(one)},${text(req('c9:e:2'))}]`);
    x.raw.publish(NODE, batch);
    await x.clock.advance(0);
    expect(x.runs()).toBe(2);
    expect(answers).toHaveLength(3);
    expect(answers[1]).toBe(answers[0]); // byte for byte from the cache
    expect(x.server.replyEntry('c9:e:2')?.state).toBe('done');
    await x.clock.advance(60_000);
  });

  it('the originator validator refuses bad batching options', () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    expect(
      () =>
        new RpcClient(broker.connect(), clock, {
          ctrlUuid: 'c1',
          ownSubject: OWN,
          reliability: { originator: 'c1', batching: { timerMs: 0, maxAcks: 1.5 } },
        }),
    ).toThrow(RpcConfigError);
  });
});
