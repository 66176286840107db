/**
 * Acks, ack modes, duplicate and wrong-peer finals, `IGNORE`, and cancel on both sides (§3.5 cases 4,
 * 5, 18, 19, 20, 28) on MemoryBroker + VirtualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../bus/index.js';
import { MemoryBroker, type MemoryBus } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import { decode, encode, type RpcResponse, request, resultResponse } from '../protocol/envelope.js';
import { CancelledError } from '../protocol/errors.js';
import type { Logger } from '../protocol/logger.js';
import { ACK_METHOD, type AckInfo, compressSerials, parseAck } from './acks.js';
import { RpcClient } from './client.js';
import { RpcConfigError } from './errors.js';
import { IGNORE } from './ignore.js';
import type { OriginatorReliability, ResponderReliability } from './reliability.js';
import { RpcServer } from './server.js';
import type { MethodHandler, UnexpectedReason } from './types.js';
import { TapBus } from '../../test/support/tap-bus.js';
import { track } from '../../test/support/track.js';

const NODE = 'cn.xswitch.node';
const NODE_N1 = 'cn.xswitch.node.n1';
const OWN = 'cn.xswitch.ctrl.c1';
const ctrlSubject = (c: string): string => `cn.xswitch.ctrl.${c}`;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A bus that loses the publishes `drop` picks. */
function lossy(inner: Bus, drop: (subject: string, data: Uint8Array) => boolean): Bus {
  const bus = new TapBus(inner);
  bus.drop = drop;
  return bus;
}

interface Seen {
  at: number;
  bytes: Uint8Array;
}

interface Harness {
  clock: VirtualClock;
  broker: MemoryBroker;
  raw: MemoryBus;
  server: RpcServer;
  client: RpcClient | undefined;
  answers: Seen[];
  toNode: Seen[];
  runs: Record<string, number>;
  acks: AckInfo[];
  unexpected: { response: RpcResponse; reason: UnexpectedReason | undefined }[];
  warnings: string[];
}

let h: Harness | undefined;

afterEach(async () => {
  if (!h) return;
  await h.client?.close();
  await h.server.stop();
  expect(h.server.cachedReplies).toBe(0);
  expect(h.server.awaitingAck).toBe(0);
  expect(h.client?.pending ?? 0).toBe(0);
  await h.broker.close();
  expect(h.clock.pending).toBe(0);
  h = undefined;
});

interface Setup {
  server?: ResponderReliability;
  client?: Partial<OriginatorReliability> | false;
  /** Lose the client's publishes this picks. */
  dropFromClient?: (subject: string, data: Uint8Array) => boolean;
  nodeUuid?: string;
  subjects?: { subject: string; queue?: string }[];
}

function setup(options: Setup = {}): Harness {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const broker = new MemoryBroker({ clock });
  const raw = broker.connect('raw');
  const answers: Seen[] = [];
  const toNode: Seen[] = [];
  raw.subscribe(OWN, { callback: (m) => answers.push({ at: clock.now() - t0, bytes: m.data }) });
  raw.subscribe(`${NODE}.>`, { callback: (m) => toNode.push({ at: clock.now() - t0, bytes: m.data }) });
  raw.subscribe(NODE, { callback: (m) => toNode.push({ at: clock.now() - t0, bytes: m.data }) });
  const runs: Record<string, number> = {};
  const count = (m: string): void => {
    runs[m] = (runs[m] ?? 0) + 1;
  };
  const handlers: Record<string, MethodHandler> = {
    'XNode.Echo': async (params) => {
      count('XNode.Echo');
      return { code: 200, message: 'OK', uuid: params.uuid };
    },
    'XNode.Slow': async (params, ctx) => {
      count('XNode.Slow');
      await clock.sleep(typeof params.ms === 'number' ? params.ms : 1000, ctx.signal).catch(() => {});
      return { code: 200, message: 'done' };
    },
    'XNode.Maybe': async (params) => {
      count('XNode.Maybe');
      return params.ignore === true ? IGNORE : { code: 200, message: 'OK' };
    },
  };
  const acks: AckInfo[] = [];
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (_o, msg) => warnings.push(msg ?? ''),
    error: (_o, msg) => warnings.push(msg ?? ''),
  };
  const server = new RpcServer(broker.connect('node'), clock, {
    subjects: options.subjects ?? [{ subject: NODE, queue: 'xnode' }],
    handlers,
    ctrlSubject,
    nodeUuid: options.nodeUuid ?? 'n1',
    reliability: { onAck: (i) => acks.push(i), ...options.server },
    logger,
  });
  server.start();
  const unexpected: Harness['unexpected'] = [];
  let client: RpcClient | undefined;
  if (options.client !== false) {
    const bus = broker.connect('ctrl');
    client = new RpcClient(options.dropFromClient ? lossy(bus, options.dropFromClient) : bus, clock, {
      ctrlUuid: 'c1',
      ownSubject: OWN,
      onUnexpected: (response, info) => unexpected.push({ response, reason: info?.reason }),
      reliability: { originator: 'c1', epoch: 'e1', ...options.client },
    });
    client.start();
  }
  h = { clock, broker, raw, server, client, answers, toNode, runs, acks, unexpected, warnings };
  return h;
}

const json = (b: Uint8Array): unknown => JSON.parse(text(b));
const isAck = (data: Uint8Array): boolean => text(data).includes(`"method":"${ACK_METHOD}"`);
const req = (method: string, id: string, params: Record<string, unknown> = {}): Uint8Array =>
  encode(request(method, { ctrl_uuid: 'c1', ...params }, id));
const ack = (originator: string, epoch: string, ranges: unknown[]): Uint8Array =>
  encode(request(ACK_METHOD, { originator, epoch, ranges }));

describe('ack ranges (§3.1 rpc.ack)', () => {
  it('sorts and compresses serials into ranges (1,2,3,4 → [1,4])', () => {
    expect(compressSerials([4, 1, 3, 2])).toEqual([[1, 4]]);
    expect(compressSerials([9, 1, 2, 2, 7, 8, 12])).toEqual([
      [1, 2],
      [7, 9],
      [12, 12],
    ]);
    expect(compressSerials([])).toEqual([]);
  });

  it('parses rpc.ack params, rejecting first > last and malformed ranges, keeping the valid ones', () => {
    const parsed = parseAck({
      originator: 'c1',
      epoch: 'e1',
      ranges: [[5, 9], [9, 5], [0, 1], 'x', [1, 2, 3]],
    });
    expect(parsed).toMatchObject({ originator: 'c1', epoch: 'e1', ranges: [[5, 9]] });
    expect('rejected' in parsed && parsed.rejected).toHaveLength(4);
    expect(parseAck({ originator: 'a:b', epoch: 'e', ranges: [] })).toHaveProperty('problem');
    expect(parseAck({ originator: 'a', epoch: 'e' })).toHaveProperty('problem');
  });

  it('the responder validator refuses an unknown ack mode and an infinite ack timer', () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    const make = (reliability: ResponderReliability): RpcServer =>
      new RpcServer(broker.connect(), clock, { subjects: [], handlers: {}, ctrlSubject, reliability });
    expect(() => make({ ackMode: 'always' as never })).toThrow(RpcConfigError);
    expect(() => make({ ackMode: { 'XNode.Dial': 'nope' as never } })).toThrow(/ackMode\.XNode\.Dial/);
    expect(() => make({ ackTimer: { waitMs: 100, maxRetries: 'infinity' } })).toThrow(/ackTimeout/);
  });
});

describe("ack mode 'require' (§3.5 case 19)", () => {
  it('case 19: require mode, no ack — the reply is resent on each leg (1, 3, 7 s), then onAck(ackTimeout) at 15 s', async () => {
    const x = setup({ client: false, server: { ackMode: 'require' } });
    x.raw.publish(NODE, req('XNode.Echo', 'c1:e1:1', { uuid: 'u1' }));
    await x.clock.advance(14_999);
    expect(x.answers.map((a) => a.at)).toEqual([0, 1000, 3000, 7000]);
    for (const a of x.answers) expect(text(a.bytes)).toBe(text(x.answers[0]!.bytes));
    expect(json(x.answers[0]!.bytes)).toMatchObject({
      id: 'c1:e1:1',
      result: { code: 200, ack_required: true, ack_to: NODE },
    });
    expect(x.acks).toEqual([]);
    expect(x.server.awaitingAck).toBe(1);
    await x.clock.advance(1);
    expect(x.acks).toEqual([{ id: 'c1:e1:1', method: 'XNode.Echo', error: 'ackTimeout' }]);
    expect(x.server.awaitingAck).toBe(0);
    expect(x.answers).toHaveLength(4);
    expect(x.runs['XNode.Echo']).toBe(1);
    await x.clock.advance(60_000); // the cached answer expires
  });

  it('the originator acks a reply that asks for it: onAck ok, the cache entry goes, the caller sees no ack fields', async () => {
    const x = setup({ server: { ackMode: { 'XNode.Echo': 'require' } } });
    const result = await x.client!.call(NODE, 'XNode.Echo', { uuid: 'u1' });
    expect(result).toStrictEqual({ code: 200, message: 'OK', uuid: 'u1' });
    await x.clock.advance(0);
    expect(x.acks).toEqual([{ id: 'c1:e1:1', method: 'XNode.Echo' }]);
    expect(x.server.cachedReplies).toBe(0);
    const acksSent = x.toNode.filter((m) => isAck(m.bytes));
    expect(acksSent.map((m) => json(m.bytes))).toEqual([
      { jsonrpc: '2.0', method: ACK_METHOD, params: { originator: 'c1', epoch: 'e1', ranges: [[1, 1]] } },
    ]);
    await x.clock.advance(20_000);
    expect(x.answers).toHaveLength(1); // never resent
  });

  it('a lost ack: the responder resends, the originator drops the duplicate and acks again', async () => {
    let lost = 0;
    const x = setup({
      server: { ackMode: 'require' },
      dropFromClient: (_s, data) => isAck(data) && lost++ === 0,
    });
    const call = track(x.client!.call(NODE, 'XNode.Echo', { uuid: 'u1' }));
    await x.clock.advance(0);
    expect(call.value).toMatchObject({ code: 200 });
    expect(x.acks).toEqual([]);
    await x.clock.advance(1000);
    expect(x.answers).toHaveLength(2);
    expect(x.acks).toEqual([{ id: 'c1:e1:1', method: 'XNode.Echo' }]);
    expect(x.unexpected).toEqual([]);
    expect(lost).toBe(2);
  });

  it("'ifProvisional' asks for an ack only when a provisional answer went out first", async () => {
    const x = setup({ server: { ackMode: 'ifProvisional' } });
    x.raw.publish(NODE, req('XNode.Echo', 'c9:e:1'));
    const slow = req('XNode.Slow', 'c9:e:2', { ms: 1000 });
    x.raw.publish(NODE, slow);
    await x.clock.advance(500);
    x.raw.publish(NODE, slow); // a duplicate during eval: a 100 goes out
    await x.clock.advance(500);
    const byId = new Map(
      x.answers
        .map((a) => json(a.bytes) as { id: string; result: Record<string, unknown> })
        .map((r) => [r.id, r]),
    );
    expect(byId.get('c9:e:1')?.result.ack_required).toBeUndefined();
    expect(byId.get('c9:e:2')?.result).toMatchObject({ code: 200, ack_required: true });
    x.raw.publish(NODE, ack('c9', 'e', [[2, 2]]));
    await x.clock.advance(0);
    expect(x.acks).toEqual([{ id: 'c9:e:2', method: 'XNode.Slow' }]);
    await x.clock.advance(60_000);
  });
});

describe('acks on the responder (§3.5 case 20)', () => {
  it('case 20: range [5,9] clears 5 entries; first>last rejected; unknown id ignored; an ack before the reply is discarded', async () => {
    const x = setup({ client: false, server: { ackMode: 'require' } });
    for (let s = 5; s <= 9; s++) x.raw.publish(NODE, req('XNode.Echo', `c9:e:${s}`));
    x.raw.publish(NODE, req('XNode.Slow', 'c9:e:10', { ms: 1000 }));
    await x.clock.advance(0);
    expect(x.server.cachedReplies).toBe(6);
    expect(x.server.awaitingAck).toBe(5);

    x.raw.publish(NODE, ack('c9', 'e', [[9, 5]]));
    await x.clock.advance(0);
    expect(x.warnings).toContain('rpc: ack range rejected (protocol violation)');
    expect(x.server.cachedReplies).toBe(6);

    x.raw.publish(
      NODE,
      ack('c9', 'e', [
        [5, 9],
        [40, 40],
      ]),
    );
    x.raw.publish(NODE, ack('c9', 'other', [[1, 3]]));
    await x.clock.advance(0);
    expect(x.server.cachedReplies).toBe(1);
    expect(x.server.awaitingAck).toBe(0);
    expect(x.acks.map((a) => a.id)).toEqual(['c9:e:5', 'c9:e:6', 'c9:e:7', 'c9:e:8', 'c9:e:9']);
    expect(x.acks.every((a) => a.error === undefined)).toBe(true);

    // c9:e:10 is still being worked on: its ack is discarded, the reply later still asks for one.
    x.raw.publish(NODE, ack('c9', 'e', [[10, 10]]));
    await x.clock.advance(0);
    expect(x.warnings).toContain('rpc: ack before the reply discarded');
    expect(x.server.replyEntry('c9:e:10')?.state).toBe('eval');
    await x.clock.advance(1000);
    expect(x.server.awaitingAck).toBe(1);
    x.raw.publish(NODE, ack('c9', 'e', [[10, 10]]));
    await x.clock.advance(0);
    expect(x.server.cachedReplies).toBe(0);
    expect(x.acks).toHaveLength(6);
    expect(x.runs).toEqual({ 'XNode.Echo': 5, 'XNode.Slow': 1 });
  });
});

describe('finals: duplicates, wrong peer, ignore (§3.5 cases 4, 5, 18)', () => {
  it('case 4: a duplicate final answer is delivered once (not to onUnexpected either)', async () => {
    const x = setup({ subjects: [{ subject: 'cn.xswitch.node.silent' }] });
    const call = track(x.client!.call(NODE, 'XNode.Echo', {}));
    await x.clock.advance(0);
    const answer = encode(resultResponse('c1:e1:1', { code: 200, message: 'OK' }));
    x.raw.publish(OWN, answer);
    x.raw.publish(OWN, answer);
    await x.clock.advance(0);
    x.raw.publish(OWN, answer);
    await x.clock.advance(0);
    expect(call.value).toEqual({ code: 200, message: 'OK' });
    expect(x.unexpected).toEqual([]);
  });

  it('case 5: a final answer from another node than the subject names goes to onUnexpected WRONG_PEER; the right one resolves', async () => {
    const x = setup({ subjects: [{ subject: 'cn.xswitch.node.silent' }] });
    const call = track(x.client!.call(NODE_N1, 'XNode.Echo', {}));
    await x.clock.advance(0);
    x.raw.publish(OWN, encode(resultResponse('c1:e1:1', { code: 200, message: 'OK', node_uuid: 'n2' })));
    await x.clock.advance(0);
    expect(call.settled).toBe(false);
    expect(x.unexpected).toMatchObject([{ reason: 'WRONG_PEER', response: { result: { node_uuid: 'n2' } } }]);
    x.raw.publish(OWN, encode(resultResponse('c1:e1:1', { code: 200, message: 'OK', node_uuid: 'n1' })));
    await x.clock.advance(0);
    expect(call.value).toMatchObject({ node_uuid: 'n1' });
  });

  it('case 5: through a queue group (no peer named) any node is the right peer', async () => {
    const x = setup({ nodeUuid: 'n7' });
    const result = await x.client!.call(NODE, 'XNode.Echo', {});
    expect(result).toMatchObject({ code: 200 });
    expect(x.unexpected).toEqual([]);
    await x.clock.advance(60_000);
  });

  it('case 18: a handler returning IGNORE — no reply, no cache entry; a resend runs it again', async () => {
    const x = setup({ client: false });
    const bytes = req('XNode.Maybe', 'c9:e:1', { ignore: true });
    x.raw.publish(NODE, bytes);
    await x.clock.advance(0);
    expect(x.answers).toEqual([]);
    expect(x.server.replyEntry('c9:e:1')).toBeUndefined();
    x.raw.publish(NODE, bytes);
    await x.clock.advance(0);
    expect(x.runs['XNode.Maybe']).toBe(2);
    expect(x.answers).toEqual([]);
    expect(x.server.cachedReplies).toBe(0);
  });
});

describe('cancel on both sides (§3.5 case 28)', () => {
  it('case 28: cancelAll with 3 requests in flight and 2 replies awaiting an ack — 3× CANCELLED, 2× onAck(ackError); replies after go to onUnexpected', async () => {
    const x = setup({ server: { ackMode: { 'XNode.Echo': 'require' } } });
    const calls = [1, 2, 3].map(() => track(x.client!.call(NODE, 'XNode.Slow', { ms: 300 })));
    // Two replies awaiting an ack: requests from an originator that never acks.
    x.raw.publish(NODE, req('XNode.Echo', 'c9:e:1'));
    x.raw.publish(NODE, req('XNode.Echo', 'c9:e:2'));
    await x.clock.advance(100);
    expect(x.client!.pending).toBe(3);
    expect(x.server.awaitingAck).toBe(2);

    expect(x.client!.cancelAll()).toBe(3);
    expect(x.server.cancelAll()).toBe(2);
    await x.clock.advance(0);
    for (const c of calls) expect(c.error).toBeInstanceOf(CancelledError);
    expect(x.acks).toEqual([
      { id: 'c9:e:1', method: 'XNode.Echo', error: 'cancelled' },
      { id: 'c9:e:2', method: 'XNode.Echo', error: 'cancelled' },
    ]);
    const resentBefore = x.answers.length;
    await x.clock.advance(200); // the three handlers answer now
    // (The c9:… replies also reach c1's subject — no call of this client waits for them.)
    const ours = x.unexpected.filter((u) => String(u.response.id).startsWith('c1:'));
    expect(ours.map((u) => [u.response.id, u.reason])).toEqual([
      ['c1:e1:1', 'UNKNOWN_ID'],
      ['c1:e1:2', 'UNKNOWN_ID'],
      ['c1:e1:3', 'UNKNOWN_ID'],
    ]);
    await x.clock.advance(20_000);
    // The cancelled waiters resend nothing more (only the 3 late finals came since).
    expect(x.answers.length - resentBefore).toBe(3);
    await x.clock.advance(60_000);
  });
});

describe('decoding sanity', () => {
  it('an ack notification is a valid JSON-RPC notification', () => {
    expect(decode(ack('c1', 'e1', [[1, 2]])).kind).toBe('notification');
  });
});
