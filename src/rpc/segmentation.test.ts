/**
 * Segmentation of large answers (seed 004 §2.5; cases 23–25 of lifecycle-and-transactions.md §3.5):
 * the pure splitter/reassembler, then RpcServer + RpcClient on MemoryBroker + VirtualClock with a bus
 * wrapper that drops, holds and replays chosen messages, then one run over a real nats-server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startNatsServer } from '../../test/support/nats-server.js';
import { MemoryBroker, type MemoryBus } from '../bus/memory-bus.js';
import { NatsBus } from '../bus/nats-bus.js';
import { RealClock, VirtualClock } from '../clock/index.js';
import { decode, encode, type RpcResponse, resultResponse } from '../protocol/envelope.js';
import { CancelledError, JsonRpcError } from '../protocol/errors.js';
import { RpcClient } from './client.js';
import { RpcConfigError, SEGMENTS_MISSING_CODE, SegmentsMissingError } from './errors.js';
import type { ResponderReliability } from './reliability.js';
import {
  isSegmentResult,
  parseSegment,
  Reassembly,
  SEGACK_METHOD,
  SEGERR_METHOD,
  type SegmentationOptions,
  splitResult,
} from './segment.js';
import { RpcServer } from './server.js';
import type { MethodHandler } from './types.js';
import { TapBus } from '../../test/support/tap-bus.js';
import { track } from '../../test/support/track.js';

const NODE = 'cn.xswitch.node';
const OWN = 'cn.xswitch.ctrl.c1';
const ctrlSubject = (c: string): string => `cn.xswitch.ctrl.${c}`;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The segment number of an encoded message, or undefined if it is no segment. */
function segN(data: Uint8Array): number | undefined {
  const d = decode(data, Number.POSITIVE_INFINITY);
  if (d.kind !== 'response' || !('result' in d.message) || !isSegmentResult(d.message.result))
    return undefined;
  return (d.message.result.segment as { n: number }).n;
}

/** The `result` of an encoded result Response. */
function resultOf(data: Uint8Array): Record<string, unknown> {
  const d = decode(data, Number.POSITIVE_INFINITY);
  if (d.kind !== 'response' || !('result' in d.message)) throw new Error(`not a result: ${text(data)}`);
  return d.message.result;
}

/** `{method, params}` of a notification. */
function note(data: Uint8Array): { method: string; params: Record<string, unknown> } {
  const d = decode(data);
  if (d.kind !== 'notification') throw new Error(`not a notification: ${text(data)}`);
  return { method: d.message.method, params: d.message.params ?? {} };
}

const bigResult = (count: number, size: number): Record<string, unknown> => ({
  code: 200,
  message: 'OK',
  uuid: 'u1',
  actions: Array.from({ length: count }, (_, i) => ({ i, data: `${i}:`.padEnd(size, 'x') })),
});

interface Harness {
  clock: VirtualClock;
  broker: MemoryBroker;
  nodeBus: TapBus;
  ctrlBus: TapBus;
  raw: MemoryBus;
  server: RpcServer;
  client: RpcClient;
  /** Requests on the node subject. */
  requests: Uint8Array[];
  /** Everything on the controller's own subject. */
  answers: Uint8Array[];
  /** Segment acks and errors (anything on an `_INBOX.` subject). */
  acks: { method: string; params: Record<string, unknown> }[];
  /** Segments and numbered segment acks in the order the broker carried them (for the window check). */
  order: ('segment' | 'ack')[];
  runs: number;
  unexpected: RpcResponse[];
  segErrors: { id: string; missing: number[] }[];
  result: Record<string, unknown>;
}

let h: Harness | undefined;

afterEach(async () => {
  if (!h) return;
  await h.client.close();
  await h.server.stop();
  expect(h.client.pending).toBe(0);
  expect(h.nodeBus.subscriptionCount).toBe(0);
  expect(h.ctrlBus.subscriptionCount).toBe(0);
  await h.broker.close();
  expect(h.clock.pending).toBe(0);
  h = undefined;
});

function setup(
  options: {
    segmentation?: SegmentationOptions;
    server?: ResponderReliability;
    result?: Record<string, unknown>;
  } = {},
): Harness {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const nodeBus = new TapBus(broker.connect('node'));
  const ctrlBus = new TapBus(broker.connect('ctrl'));
  const raw = broker.connect('raw');
  const requests: Uint8Array[] = [];
  const answers: Uint8Array[] = [];
  const acks: Harness['acks'] = [];
  raw.subscribe(NODE, { callback: (m) => requests.push(m.data) });
  const order: Harness['order'] = [];
  raw.subscribe(OWN, {
    callback: (m) => {
      answers.push(m.data);
      if (segN(m.data) !== undefined) order.push('segment');
    },
  });
  raw.subscribe('_INBOX.>', {
    callback: (m) => {
      const a = note(m.data);
      acks.push(a);
      if (a.method === SEGACK_METHOD && typeof a.params.n === 'number') order.push('ack');
    },
  });
  const segErrors: Harness['segErrors'] = [];
  const x = { runs: 0 } as Harness;
  x.result = options.result ?? bigResult(10, 300);
  const handlers: Record<string, MethodHandler> = {
    'XNode.Big': async () => {
      x.runs += 1;
      return structuredClone(x.result) as { code: number; message: string };
    },
  };
  const server = new RpcServer(nodeBus, clock, {
    subjects: [{ subject: NODE, queue: 'xnode' }],
    handlers,
    ctrlSubject,
    reliability: {
      segmentation: {
        maxPayloadBytes: 1024,
        onSegmentError: (e) => segErrors.push(e),
        ...options.segmentation,
      },
      ...options.server,
    },
  });
  server.start();
  const unexpected: RpcResponse[] = [];
  const client = new RpcClient(ctrlBus, clock, {
    ctrlUuid: 'c1',
    ownSubject: OWN,
    onUnexpected: (r) => unexpected.push(r),
    reliability: { originator: 'c1', epoch: 'e1' },
  });
  client.start();
  Object.assign(x, { clock, broker, nodeBus, ctrlBus, raw, server, client, requests, answers, acks, order });
  Object.assign(x, { unexpected, segErrors });
  h = x;
  return x;
}

const segacks = (x: Harness): unknown[] =>
  x.acks.filter((a) => a.method === SEGACK_METHOD).map((a) => a.params.n);
const isInbox = (subject: string): boolean => subject.startsWith('_INBOX.');

describe('splitResult / Reassembly (pure)', () => {
  const ackTo = '_INBOX.test.1';
  const reassemble = (segments: Uint8Array[], order: number[]): Record<string, unknown> => {
    const r = new Reassembly();
    for (const i of order) {
      const d = decode(segments[i] as Uint8Array, Number.POSITIVE_INFINITY);
      if (d.kind !== 'response' || !('result' in d.message)) throw new Error('not a result response');
      const parsed = parseSegment(d.message.result);
      if (typeof parsed === 'string') throw new Error(parsed);
      expect(r.add(parsed.info, parsed.part)).toBe('new');
    }
    expect(r.complete).toBe(true);
    return r.assemble();
  };

  it('every segment fits the limit, is a valid JSON-RPC Response, and reassembles to the same result in any order', () => {
    const tricky = 'quote" back\\slash \n tab\t ctl\u0001 é ü 中文 😀 \ud83d'.repeat(40);
    const cases: Record<string, unknown>[] = [
      bigResult(25, 300),
      { code: 200, message: 'OK', actions: Array.from({ length: 30 }, (_, i) => `${tricky}${i}`) },
      { code: 200, message: 'OK', blob: tricky.repeat(5) },
      // One item larger than a segment: no item split possible, so the JSON text is cut.
      { code: 200, message: 'OK', actions: ['a'.repeat(3000), 'b'] },
    ];
    const splits = new Set<string>();
    for (const maxBytes of [300, 512, 1024, 4096]) {
      for (const result of cases) {
        const segments = splitResult('c1:e1:42', result, { maxBytes, ackTo });
        expect(segments.length).toBeGreaterThanOrEqual(maxBytes < 1024 ? 2 : 1);
        for (const [i, s] of segments.entries()) {
          expect(s.byteLength).toBeLessThanOrEqual(maxBytes);
          const d = decode(s, Number.POSITIVE_INFINITY);
          expect(d.kind).toBe('response');
          const r = (d as { message: { id: string; result: Record<string, unknown> } }).message;
          expect(r.id).toBe('c1:e1:42');
          expect(r.result).toMatchObject({
            code: 100,
            message: 'Segment',
            segment: { n: i + 1, ack_to: ackTo },
          });
          splits.add((r.result.segment as { split: string }).split);
        }
        const n = segments.length;
        expect(resultOf(segments[n - 1] as Uint8Array).segment).toMatchObject({
          n,
          of: n,
          last: true,
        });
        const forward = [...segments.keys()];
        const shuffled = [...forward].reverse();
        shuffled.push(shuffled.shift() as number);
        const expected = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
        expect(reassemble(segments, forward)).toEqual(expected);
        expect(reassemble(segments, shuffled)).toEqual(expected);
      }
    }
    expect([...splits].sort()).toEqual(['items', 'text']);
  });

  it('items mode cuts only at item boundaries and packs whole items', () => {
    const result = bigResult(12, 300);
    const segments = splitResult('c1:e1:1', result, { maxBytes: 1024, ackTo });
    const parts = segments.map((s) => {
      const r = resultOf(s);
      expect(r.segment).toMatchObject({ split: 'items', field: 'actions' });
      return r.part;
    });
    const head = parts[0] as Record<string, unknown>;
    expect(head).toMatchObject({ code: 200, message: 'OK', uuid: 'u1' });
    const slices = [head.actions as unknown[], ...(parts.slice(1) as unknown[][])];
    expect(slices.flat()).toEqual(result.actions);
    // ~310 bytes per item, ~200 bytes of wrapper: two items per 1024-byte segment, never a split item.
    expect(slices.every((s) => s.length === 2)).toBe(true);
  });

  it('Reassembly: duplicates are recognised, gaps listed, contradictions refused', () => {
    const r = new Reassembly();
    const info = (n: number, last = false) => ({
      n,
      ack_to: ackTo,
      split: 'text' as const,
      ...(last ? { of: n, last: true as const } : {}),
    });
    expect(r.add(info(2), 'b')).toBe('new');
    expect(r.add(info(2), 'X')).toBe('duplicate');
    expect(r.missing()).toEqual([1]);
    expect(r.add(info(4, true), 'd')).toBe('new');
    expect(r.missing()).toEqual([1, 3]);
    expect(r.complete).toBe(false);
    expect(r.add(info(5), 'e')).toMatch(/past the last segment/);
    expect(r.add(info(6, true), 'f')).toMatch(/disagree on the number/);
    expect(r.add({ ...info(1), split: 'items', field: 'a' }, { a: [] })).toMatch(/disagree on how/);
  });

  it('parseSegment rejects malformed wrappers with a reason', () => {
    const base = { code: 100, message: 'Segment' };
    const bad: Record<string, unknown>[] = [
      { ...base, segment: { n: 0, ack_to: 'x', split: 'text' }, part: '' },
      { ...base, segment: { n: 1, split: 'text' }, part: '' },
      { ...base, segment: { n: 1, ack_to: 'x', split: 'zip' }, part: '' },
      { ...base, segment: { n: 1, ack_to: 'x', split: 'items' }, part: {} },
      { ...base, segment: { n: 2, ack_to: 'x', split: 'text', of: 3, last: true }, part: '' },
      { ...base, segment: { n: 2, ack_to: 'x', split: 'text', of: 2 }, part: '' },
      { ...base, segment: { n: 1, ack_to: 'x', split: 'text' }, part: 7 },
      { ...base, segment: { n: 2, ack_to: 'x', split: 'items', field: 'a' }, part: {} },
      { ...base, segment: 'nope', part: '' },
    ];
    for (const result of bad) expect(typeof parseSegment(result)).toBe('string');
  });

  it('config: segmentSend, maxPayloadBytes and segmentRecvTimerMs are checked', () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    const make = (segmentation: SegmentationOptions) => () =>
      new RpcServer(broker.connect(), clock, {
        subjects: [{ subject: NODE }],
        handlers: {},
        ctrlSubject,
        reliability: { segmentation },
      });
    expect(make({ segmentSend: 0 })).toThrow(RpcConfigError);
    expect(make({ segmentSend: 1.5 })).toThrow(/segmentSend/);
    expect(make({ maxPayloadBytes: 100 })).toThrow(/maxPayloadBytes/);
    expect(make({ segmentSend: 'all', maxPayloadBytes: 256 })).not.toThrow();
    expect(
      () =>
        new RpcClient(broker.connect(), clock, {
          ctrlUuid: 'c',
          ownSubject: OWN,
          reliability: { originator: 'c', segmentRecvTimerMs: 0 },
        }),
    ).toThrow(/segmentRecvTimerMs/);
  });
});

describe('segmentation over RpcServer/RpcClient (§3.5 cases 23–25)', () => {
  it('case 23: oversize result split; window K respected; segacks release the rest', async () => {
    const x = setup({ segmentation: { segmentSend: 2 } });
    // Hold the originator's acks so the window can be watched.
    x.ctrlBus.tap = (subject) => (isInbox(subject) ? 'hold' : 'pass');
    const call = track(x.client.call(NODE, 'XNode.Big', {}));
    await x.clock.tick();
    const n = () => x.answers.map(segN);
    expect(n()).toEqual([1, 2]);
    expect(x.ctrlBus.held.map((m) => note(m.data).params.n)).toEqual([1, 2]);
    // No resend although no final answer came: the first segment acted as a provisional answer.
    await x.clock.advance(600);
    expect(x.requests).toHaveLength(1);
    expect(n()).toEqual([1, 2]);
    x.ctrlBus.release(1); // ack of segment 2 releases exactly one more
    await x.clock.tick();
    expect(n()).toEqual([1, 2, 3]);
    x.ctrlBus.release(0);
    await x.clock.tick();
    expect(n()).toEqual([1, 2, 3, 4]);
    // Let acks flow: the rest goes, never more than 2 unacknowledged at once.
    x.ctrlBus.tap = () => 'pass';
    x.ctrlBus.release(2);
    x.ctrlBus.release(3);
    await x.clock.tick();
    const total = x.answers.length;
    expect(total).toBeGreaterThan(4);
    expect(n()).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(call.settled).toBe(true);
    expect(call.value).toEqual(x.result);
    expect(x.runs).toBe(1);
    for (const a of x.answers) expect(a.byteLength).toBeLessThanOrEqual(1024);
    // Window invariant over the whole run, as the broker delivered it.
    let out = 0;
    for (const e of x.order) {
      out += e === 'segment' ? 1 : -1;
      expect(out).toBeLessThanOrEqual(2);
    }
    expect(segacks(x).at(-1)).toBe('all');
    expect(x.unexpected).toEqual([]);
    // Nothing held but the reply cache entry's TTL.
    expect(x.clock.pending).toBe(1);
  });

  it('case 24: out-of-order and duplicate segments each acked, delivered once, final ack only when 1..N complete', async () => {
    const x = setup({ result: bigResult(8, 300) });
    x.nodeBus.tap = (subject) => (subject === OWN ? 'hold' : 'pass');
    const call = track(x.client.call(NODE, 'XNode.Big', {}));
    await x.clock.tick();
    const N = x.nodeBus.held.length;
    expect(N).toBe(4);
    const byN = (k: number) => x.nodeBus.held.findIndex((m) => segN(m.data) === k);
    x.nodeBus.release(byN(4)); // the last first: starts segmentRecvTimer
    await x.clock.tick();
    await x.clock.advance(1500);
    x.nodeBus.release(byN(2));
    x.nodeBus.release(byN(2)); // duplicate
    await x.clock.tick();
    await x.clock.advance(1500); // 3 s after the last segment, 1.5 s after a new one: timer was restarted
    x.nodeBus.release(byN(1));
    await x.clock.tick();
    expect(call.settled).toBe(false);
    expect(segacks(x)).toEqual([4, 2, 2, 1]);
    expect(x.requests).toHaveLength(1); // the first segment stopped the request timer
    x.nodeBus.release(byN(3));
    await x.clock.tick();
    expect(segacks(x)).toEqual([4, 2, 2, 1, 3, 'all']);
    expect(call.settled).toBe(true);
    expect(call.value).toEqual(x.result);
    // Late duplicates after delivery: told to stop, never delivered again nor reported.
    x.nodeBus.release(byN(1));
    x.nodeBus.release(byN(3));
    await x.clock.tick();
    expect(segacks(x).slice(6)).toEqual(['all', 'all']);
    expect(x.unexpected).toEqual([]);
    expect(x.runs).toBe(1);
  });

  it('case 25: gap after the last segment → SEGMENTS_MISSING to the peer and the missing list to the caller', async () => {
    const x = setup({ result: bigResult(10, 300) });
    x.nodeBus.tap = (subject, data) =>
      subject === OWN && [2, 3].includes(segN(data) ?? 0) ? 'drop' : 'pass';
    const call = track(x.client.call(NODE, 'XNode.Big', {}));
    await x.clock.tick();
    expect(x.answers.map(segN)).toEqual([1, 4, 5]);
    expect(segacks(x)).toEqual([1, 4, 5]);
    // A duplicate while the gap is open is acked but is no news: the timer is not restarted.
    await x.clock.advance(1500);
    x.raw.publish(OWN, x.answers[1] as Uint8Array);
    await x.clock.tick();
    expect(segacks(x)).toEqual([1, 4, 5, 4]);
    await x.clock.advance(499);
    expect(call.settled).toBe(false);
    await x.clock.advance(1);
    expect(call.settled).toBe(true);
    expect(call.error).toBeInstanceOf(SegmentsMissingError);
    const err = call.error as SegmentsMissingError;
    expect(err.missing).toEqual([2, 3]);
    expect(err.code).toBe(SEGMENTS_MISSING_CODE);
    expect(err.method).toBe('XNode.Big');
    expect(err.message).toMatch(/SEGMENTS_MISSING: segments 2, 3/);
    const segerr = x.acks.find((a) => a.method === SEGERR_METHOD);
    expect(segerr?.params).toMatchObject({ id: 'c1:e1:1', missing: [2, 3], code: SEGMENTS_MISSING_CODE });
    expect(x.segErrors).toEqual([{ id: 'c1:e1:1', missing: [2, 3] }]);
    expect(segacks(x)).not.toContain('all');
    expect(x.clock.pending).toBe(1); // the reply cache TTL only: the responder forgot the segments
  });

  it('a result under the limit is not segmented (exactly at the limit either)', async () => {
    const id = 'c1:e1:1';
    const blob = (len: number) => ({ code: 200, message: 'OK', blob: 'z'.repeat(len) });
    const size = (len: number) => encode(resultResponse(id, blob(len))).byteLength;
    const atLimit = 1024 - size(0);
    expect(size(atLimit)).toBe(1024);
    const x = setup({ result: blob(atLimit) });
    expect(await x.client.call(NODE, 'XNode.Big', {})).toEqual(x.result);
    expect(x.answers).toHaveLength(1);
    expect(text(x.answers[0] as Uint8Array)).toBe(text(encode(resultResponse(id, blob(atLimit)))));
    expect(x.acks).toEqual([]);
    // One byte more is segmented.
    x.result = blob(atLimit + 1);
    expect(await x.client.call(NODE, 'XNode.Big', {})).toEqual(x.result);
    expect(x.answers.slice(1).map(segN)).toEqual([1, 2]);
  });

  it('a duplicate request after a segmented reply gets all segments again from the cache', async () => {
    const x = setup({ result: bigResult(10, 300) });
    // The whole first sending is lost: the originator resends at 500 ms; the reply cache answers.
    let lose = true;
    const lost: Uint8Array[] = [];
    x.nodeBus.tap = (subject, data) => {
      if (subject !== OWN || !lose) return 'pass';
      lost.push(data);
      return 'drop';
    };
    const call = track(x.client.call(NODE, 'XNode.Big', {}));
    await x.clock.tick();
    const N = lost.length;
    expect(N).toBe(5);
    lose = false;
    await x.clock.advance(500);
    expect(x.requests).toHaveLength(2);
    expect(call.value).toEqual(x.result);
    expect(x.runs).toBe(1);
    expect(x.answers.map(text)).toEqual(lost.map(text)); // byte for byte the same segments
    // After the answer was acknowledged: a duplicate still gets every segment (re-cut from the cache).
    x.raw.publish(NODE, x.requests[0] as Uint8Array);
    await x.clock.tick();
    expect(x.runs).toBe(1);
    expect(x.answers.slice(N).map(text)).toEqual(lost.map(text));
    // The client waits for nothing any more: it tells the responder to stop, and reports nothing.
    expect(segacks(x).slice(N + 1)).toEqual(Array(N).fill('all'));
    expect(x.unexpected).toEqual([]);
  });

  it('no timers or subscriptions are left: cancel mid-reassembly, then stray segments are told to stop', async () => {
    const x = setup({ result: bigResult(10, 300) });
    const baseline = x.broker.stats().subscriptions;
    x.nodeBus.tap = (subject, data) => (subject === OWN && segN(data) !== 5 ? 'hold' : 'pass');
    const call = track(x.client.call(NODE, 'XNode.Big', {}));
    await x.clock.tick();
    // Segment 5 (the last) arrived: the recv timer runs; plus the reply-cache TTL and the long timer.
    expect(x.clock.pending).toBe(4);
    expect(x.client.cancelAll()).toBe(1);
    await x.clock.tick();
    expect(call.error).toBeInstanceOf(CancelledError);
    x.nodeBus.release(0);
    await x.clock.tick();
    expect(x.unexpected.map((r) => r.id)).toEqual(['c1:e1:1']); // segment 1 of an answer nobody took
    for (let i = 1; i < x.nodeBus.held.length; i++) x.nodeBus.release(i);
    await x.clock.tick();
    expect(x.unexpected).toHaveLength(1);
    expect(segacks(x)).toEqual([5, 'all', 'all', 'all', 'all']);
    // The responder forgot the answer at the first 'all'; only the reply cache TTL remains.
    expect(x.clock.pending).toBe(1);
    expect(x.broker.stats().subscriptions).toBe(baseline);
  });

  it('a malformed segment fails the call with a JsonRpcError and nothing else', async () => {
    const x = setup();
    x.nodeBus.tap = (subject) => (subject === OWN ? 'drop' : 'pass');
    const call = track(x.client.call(NODE, 'XNode.Big', {}));
    await x.clock.tick();
    const bad = resultResponse('c1:e1:1', {
      code: 100,
      message: 'Segment',
      segment: { n: 1, ack_to: '_INBOX.fake', split: 'items', field: 'actions' },
      part: { actions: 'not an array' },
    });
    x.raw.publish(OWN, encode(bad));
    await x.clock.tick();
    expect(call.error).toBeInstanceOf(JsonRpcError);
    expect((call.error as Error).message).toMatch(/invalid segment/);
    expect(x.client.pending).toBe(0);
  });
});

describe('segmentation over a real nats-server', () => {
  it('a 3 MB result (default 1 MiB max_payload) arrives whole: items and text', async () => {
    const server = await startNatsServer();
    const clock = new RealClock();
    const nodeBus = await NatsBus.connect({ servers: server.url, name: 'node' });
    const ctrlBus = await NatsBus.connect({ servers: server.url, name: 'ctrl' });
    const items = bigResult(3000, 1000);
    const blob = { code: 200, message: 'OK', blob: '中文 "q" 😀 '.repeat(200_000) };
    const rpc = new RpcServer(nodeBus, clock, {
      subjects: [{ subject: NODE }],
      handlers: {
        'XNode.Items': async () => items as { code: number; message: string },
        'XNode.Blob': async () => blob,
      },
      ctrlSubject,
      reliability: { segmentation: { segmentSend: 8 } },
    });
    const client = new RpcClient(ctrlBus, clock, {
      ctrlUuid: 'c1',
      ownSubject: OWN,
      reliability: { originator: 'c1', epoch: 'nats' },
    });
    try {
      rpc.start();
      client.start();
      await nodeBus.flush();
      await ctrlBus.flush();
      expect(nodeBus.maxPayload).toBe(1024 * 1024);
      expect(encode(resultResponse('x', items)).byteLength).toBeGreaterThan(3_000_000);
      expect(encode(resultResponse('x', blob)).byteLength).toBeGreaterThan(3_000_000);
      const [a, b] = await Promise.all([
        client.call(NODE, 'XNode.Items', {}),
        client.call(NODE, 'XNode.Blob', {}),
      ]);
      expect(a).toEqual(items);
      expect(b).toEqual(blob);
    } finally {
      await client.close();
      await rpc.stop();
      await nodeBus.close();
      await ctrlBus.close();
      await server.stop();
    }
  });
});
