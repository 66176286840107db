/**
 * Queue-group duplicate suppression (§3.5 case 15) on MemoryBroker + VirtualClock: two RpcServers in
 * the `xnode` queue group share a claim store; the member that loses a claim forwards the request to
 * the owner, whose reply cache answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FaultBus } from '../bus/fault-bus.js';
import type { Bus } from '../bus/index.js';
import { MemoryBroker } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import { decode, encode, request } from '../protocol/envelope.js';
import type { Logger } from '../protocol/logger.js';
import {
  type ClaimResult,
  type ClaimStore,
  ClaimTimeoutError,
  MemoryClaimStore,
  type ResponderClaims,
} from './claims.js';
import { RpcClient } from './client.js';
import { RpcConfigError } from './errors.js';
import { RpcServer } from './server.js';
import type { MethodHandler } from './types.js';

const NODE = 'cn.xswitch.node';
const OWN = 'cn.xswitch.ctrl.c1';
const TTL = 60_000;
const ctrlSubject = (c: string): string => `cn.xswitch.ctrl.${c}`;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

interface LogLine {
  level: string;
  msg: string | undefined;
  obj: Record<string, unknown>;
}

function captureLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, msg, obj: obj as Record<string, unknown> });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A claim store in front of a MemoryClaimStore that can be made to fail or hang. */
class FlakyStore implements ClaimStore {
  mode: 'up' | 'down' | 'hang' = 'up';
  released: string[] = [];
  readonly #inner: MemoryClaimStore;
  /** Claims held back while hanging: `resume()` lets them through. */
  readonly #held: (() => void)[] = [];
  constructor(inner: MemoryClaimStore) {
    this.#inner = inner;
  }
  claim(txId: string, owner: string, ttlMs: number): Promise<ClaimResult> {
    if (this.mode === 'down') return Promise.reject(new Error('kv unreachable'));
    if (this.mode === 'hang')
      return new Promise((resolve, reject) =>
        this.#held.push(() => {
          // why void: the outcome is handed to resolve/reject of the promise the caller awaits.
          void this.#inner.claim(txId, owner, ttlMs).then(resolve, reject);
        }),
      );
    return this.#inner.claim(txId, owner, ttlMs);
  }
  async release(txId: string, owner: string): Promise<boolean> {
    this.released.push(txId);
    return this.#inner.release(txId, owner);
  }
  resume(): void {
    this.mode = 'up';
    for (const go of this.#held.splice(0)) go();
  }
}

interface Member {
  name: string;
  server: RpcServer;
  bus: Bus;
}

interface World {
  clock: VirtualClock;
  broker: MemoryBroker;
  store: MemoryClaimStore;
  members: Member[];
  client: RpcClient;
  ctrlBus: FaultBus;
  /** Every request published to the queue subject, as sent. */
  requests: Uint8Array[];
  /** Every message that reached the controller's own subject. */
  answers: Uint8Array[];
  /** Handler runs per member name. */
  runs: Record<string, number>;
  logs: LogLine[];
  raw: Bus;
}

let w: World | undefined;

afterEach(async () => {
  if (!w) return;
  await w.client.close();
  for (const m of w.members) await m.server.stop();
  expect(w.client.pending).toBe(0);
  for (const m of w.members) expect(m.server.cachedReplies).toBe(0);
  w.store.clear();
  await w.broker.close();
  expect(w.clock.pending).toBe(0);
  w = undefined;
});

function setup(
  options: { claims?: Partial<ResponderClaims>; store?: (inner: MemoryClaimStore) => ClaimStore } = {},
): World {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const store = new MemoryClaimStore(clock);
  const shared = options.store ? options.store(store) : store;
  const logs: LogLine[] = [];
  const runs: Record<string, number> = {};
  const members: Member[] = [];
  for (const name of ['n1', 'n2']) {
    const handlers: Record<string, MethodHandler> = {
      'XNode.Echo': async (params) => {
        runs[name] = (runs[name] ?? 0) + 1;
        return { code: 200, message: 'OK', uuid: params.uuid, node_uuid: name };
      },
      'XNode.Slow': async (params, ctx) => {
        runs[name] = (runs[name] ?? 0) + 1;
        await clock.sleep(1000, ctx.signal).catch(() => {});
        return { code: 200, message: 'done', uuid: params.uuid, node_uuid: name };
      },
      /** Runs `params.ms` of Clock time (a Dial ringing for minutes). */
      'XNode.Long': async (params, ctx) => {
        runs[name] = (runs[name] ?? 0) + 1;
        await clock.sleep(Number(params.ms), ctx.signal).catch(() => {});
        return { code: 200, message: 'done', uuid: params.uuid, node_uuid: name };
      },
    };
    const bus = broker.connect(name);
    const server = new RpcServer(bus, clock, {
      subjects: [{ subject: NODE, queue: 'xnode' }, { subject: `${NODE}.${name}` }],
      handlers,
      ctrlSubject,
      nodeUuid: name,
      logger: captureLogger(logs),
      reliability: { replyCacheTtlMs: TTL, claims: { store: shared, ...options.claims } },
    });
    server.start();
    members.push({ name, server, bus });
  }
  const raw = broker.connect('raw');
  const requests: Uint8Array[] = [];
  const answers: Uint8Array[] = [];
  raw.subscribe(NODE, { callback: (m) => requests.push(m.data) });
  raw.subscribe(OWN, { callback: (m) => answers.push(m.data) });
  const ctrlBus = new FaultBus(broker.connect('ctrl'), { timers: clock });
  const client = new RpcClient(ctrlBus, clock, {
    ctrlUuid: 'c1',
    ownSubject: OWN,
    reliability: { originator: 'c1', epoch: 'e1' },
  });
  client.start();
  w = { clock, broker, store, members, client, ctrlBus, requests, answers, runs, logs, raw };
  return w;
}

const totalRuns = (x: World): number => Object.values(x.runs).reduce((a, b) => a + b, 0);
const stats = (x: World, name: string) => x.members.find((m) => m.name === name)!.server.claimStats!;
const codeOf = (bytes: Uint8Array): unknown => {
  const d = decode(bytes);
  if (d.kind !== 'response') return undefined;
  return 'result' in d.message ? d.message.result.code : d.message.error.code;
};
const finals = (x: World): Uint8Array[] => x.answers.filter((b) => codeOf(b) !== 100);

/** Publishes the first request's bytes again on the queue subject until `until()` holds (max 6). */
async function resendUntil(x: World, until: () => boolean): Promise<void> {
  const bytes = x.requests[0]!;
  for (let i = 0; i < 6 && !until(); i++) {
    x.raw.publish(NODE, bytes);
    await x.clock.tick();
  }
  expect(until()).toBe(true);
}

describe('queue-group claims (§3.5 case 15)', () => {
  it('case 15: simultaneous duplicates on two queue-group members execute once', async () => {
    const x = setup();
    // Every request to the queue subject is sent twice back to back; round-robin gives one copy to each member.
    x.ctrlBus.addRule({ subject: NODE, traffic: ['publish'], duplicate: 1 });
    const call = x.client.call(NODE, 'XNode.Slow', { uuid: 'u1' });
    await x.clock.tick();
    expect(x.requests).toHaveLength(2);
    expect(text(x.requests[1]!)).toBe(text(x.requests[0]!));
    expect(totalRuns(x)).toBe(1);
    const owner = x.runs.n1 === 1 ? 'n1' : 'n2';
    const other = owner === 'n1' ? 'n2' : 'n1';
    expect(stats(x, owner)).toMatchObject({ won: 1, forwarded: 0 });
    expect(stats(x, other)).toMatchObject({ won: 0, forwarded: 1 });
    expect(x.store.owner('c1:e1:1')).toBe(`${NODE}.${owner}`);
    // The owner answered the forwarded copy from its reply cache with a 100 while working.
    expect(x.answers.map(codeOf)).toEqual([100]);
    await x.clock.advance(1000);
    await expect(call).resolves.toMatchObject({ code: 200, node_uuid: owner, uuid: 'u1' });
    expect(totalRuns(x)).toBe(1);
    expect(finals(x)).toHaveLength(1);
    // The loser kept nothing: only the owner holds the transaction.
    expect(x.members.find((m) => m.name === other)!.server.cachedReplies).toBe(0);
    expect(x.members.find((m) => m.name === owner)!.server.replyEntry('c1:e1:1')?.state).toBe('done');
  });

  it('a resend after the answer that lands on the other member gets the cached answer byte for byte', async () => {
    const x = setup();
    const call = x.client.call(NODE, 'XNode.Echo', { uuid: 'u2' });
    await x.clock.tick();
    await expect(call).resolves.toMatchObject({ code: 200, uuid: 'u2' });
    const owner = x.runs.n1 === 1 ? 'n1' : 'n2';
    const other = owner === 'n1' ? 'n2' : 'n1';
    await resendUntil(x, () => stats(x, other).forwarded >= 1);
    expect(totalRuns(x)).toBe(1);
    const all = finals(x);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const bytes of all) expect(text(bytes)).toBe(text(all[0]!));
    expect(JSON.parse(text(all[0]!))).toMatchObject({ id: 'c1:e1:1', result: { node_uuid: owner } });
  });

  it('a resend with a reply inbox is forwarded with that inbox and the owner answers it there', async () => {
    const x = setup();
    const bytes = encode(request('XNode.Echo', { uuid: 'u3', ctrl_uuid: 'c1' }, 'c1:e9:1'));
    const first = await x.raw.request(NODE, bytes, { timeoutMs: 1000 });
    const owner = x.runs.n1 === 1 ? 'n1' : 'n2';
    const other = owner === 'n1' ? 'n2' : 'n1';
    const replies: string[] = [text(first.data)];
    for (let i = 0; i < 6 && stats(x, other).forwarded === 0; i++)
      replies.push(text((await x.raw.request(NODE, bytes, { timeoutMs: 1000 })).data));
    expect(stats(x, other).forwarded).toBe(1);
    expect(totalRuns(x)).toBe(1);
    expect(new Set(replies).size).toBe(1);
    expect(x.answers).toHaveLength(0); // nothing went to the ctrl subject: every answer used its inbox
  });

  it('claims live the reply cache TTL plus maxRunMs; after that a late resend runs again (as case 14), and nothing leaks', async () => {
    const x = setup({ claims: { maxRunMs: 5000 } });
    const call = x.client.call(NODE, 'XNode.Echo', { uuid: 'u4' });
    await x.clock.tick();
    await call;
    expect(x.store.size).toBe(1);
    await x.clock.advance(TTL + 5000 - 1);
    expect(x.store.size).toBe(1);
    await x.clock.advance(1);
    expect(x.store.size).toBe(0);
    for (const m of x.members) expect(m.server.cachedReplies).toBe(0);
    // Past every originator window: whichever member gets it claims it afresh and runs it.
    x.raw.publish(NODE, x.requests[0]!);
    await x.clock.tick();
    expect(totalRuns(x)).toBe(2);
    expect(x.store.size).toBe(1);
  });

  describe('a handler that runs longer than maxRunMs', () => {
    const MAX_RUN = 1000;
    const RUN = 150_000; // far past the claim's life (TTL + MAX_RUN = 61 s)
    const longRequest = (): Uint8Array =>
      encode(request('XNode.Long', { uuid: 'u7', ms: RUN, ctrl_uuid: 'c1' }, 'c1:e1:7'));
    /** Sends the resend until a member that does not run it has seen it (queue groups pick members). */
    async function resendToOther(x: World, owner: string): Promise<void> {
      const other = owner === 'n1' ? 'n2' : 'n1';
      const before = stats(x, other).forwarded + stats(x, other).won;
      for (let i = 0; i < 8 && stats(x, other).forwarded + stats(x, other).won === before; i++) {
        x.raw.publish(NODE, longRequest());
        await x.clock.tick();
      }
      expect(stats(x, other).forwarded + stats(x, other).won).toBeGreaterThan(before);
    }

    it('keeps its claim while it runs (renewed every half claim life): a resend on the other member 100 s in is forwarded, not run again', async () => {
      const x = setup({ claims: { maxRunMs: MAX_RUN } });
      x.raw.publish(NODE, longRequest());
      await x.clock.tick();
      expect(totalRuns(x)).toBe(1);
      const owner = Object.keys(x.runs)[0]!;
      await x.clock.advance(100_000);
      await resendToOther(x, owner);
      expect(totalRuns(x)).toBe(1);
      const other = owner === 'n1' ? 'n2' : 'n1';
      expect(stats(x, other).won).toBe(0);
      expect(stats(x, owner).renewed).toBe(3); // at 30.5, 61 and 91.5 s
      await x.clock.advance(RUN - 100_000);
      expect(finals(x).map(codeOf)).toEqual([200]);
      // Renewed once more with the answer: it lives the reply cache TTL + maxRunMs from then on.
      expect(stats(x, owner).renewed).toBe(5);
      expect(stats(x, owner).renewFailed).toBe(0);
      await x.clock.advance(TTL + MAX_RUN - 1);
      expect(x.store.size).toBe(1);
      await x.clock.advance(1);
      expect(x.store.size).toBe(0);
    });

    it('with a store that cannot renew, the claim lapses while the handler runs and a late resend runs a second time (why stores should renew)', async () => {
      const x = setup({
        claims: { maxRunMs: MAX_RUN },
        store: (inner) => ({ claim: (id, owner, ttl) => inner.claim(id, owner, ttl) }),
      });
      x.raw.publish(NODE, longRequest());
      await x.clock.tick();
      const owner = Object.keys(x.runs)[0]!;
      await x.clock.advance(100_000);
      expect(x.store.size).toBe(0);
      await resendToOther(x, owner);
      expect(totalRuns(x)).toBe(2);
      await x.clock.advance(RUN);
    });

    it('a renewal that finds the claim gone is counted and logged; the handler still answers', async () => {
      const x = setup({ claims: { maxRunMs: MAX_RUN } });
      x.raw.publish(NODE, longRequest());
      await x.clock.tick();
      const owner = Object.keys(x.runs)[0]!;
      x.store.clear(); // the store lost it (a KV bucket purged, a restart of a memory store)
      await x.clock.advance(31_000);
      expect(stats(x, owner).renewFailed).toBe(1);
      expect(
        x.logs.some((l) => l.level === 'warn' && /claim lost while its handler ran/.test(l.msg ?? '')),
      ).toBe(true);
      await x.clock.advance(RUN);
      expect(finals(x).map(codeOf)).toEqual([200]);
    });
  });

  it('a store whose claims live shorter than the reply cache TTL is refused at start-up', () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    const store: ClaimStore = { ttlMs: 30_000, claim: async () => ({ won: true }) };
    const make = (
      claims: ResponderClaims,
      subjects = [{ subject: NODE, queue: 'xnode' }, { subject: `${NODE}.n1` }],
    ) =>
      new RpcServer(broker.connect(), clock, {
        subjects,
        handlers: {},
        ctrlSubject,
        reliability: { replyCacheTtlMs: TTL, claims },
      });
    // Claims are taken on arrival: they must cover the longest run (default 60 s) plus the reply cache TTL.
    expect(() => make({ store })).toThrow(
      /claims live 30000 ms, shorter than replyCacheTtlMs \+ maxRunMs \(120000 ms\)/,
    );
    expect(() => make({ store: { ...store, ttlMs: TTL } })).toThrow(RpcConfigError);
    expect(() => make({ store: { ...store, ttlMs: TTL }, maxRunMs: 0 })).not.toThrow();
    expect(() => make({ store: { ...store, ttlMs: TTL + 60_000 } })).not.toThrow();
    expect(() => make({ store, maxRunMs: -1 })).toThrow(/maxRunMs/);
    // No subject without a queue and no ownSubject: nowhere to forward resends to.
    expect(() => make({ store: new MemoryClaimStore(clock) }, [{ subject: NODE, queue: 'xnode' }])).toThrow(
      RpcConfigError,
    );
    expect(() => make({ store: new MemoryClaimStore(clock), ownSubject: 'a.*' })).toThrow(/ownSubject/);
    expect(() => make({ store: new MemoryClaimStore(clock), timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('requests on the direct subject and ids that are not transaction ids run without a claim', async () => {
    const x = setup();
    const direct = encode(request('XNode.Echo', { uuid: 'u5', ctrl_uuid: 'c1' }, 'c1:e1:5'));
    x.raw.publish(`${NODE}.n2`, direct);
    const plain = encode(request('XNode.Echo', { uuid: 'u6', ctrl_uuid: 'c1' }, 'plain-id-1'));
    x.raw.publish(NODE, plain);
    await x.clock.tick();
    expect(totalRuns(x)).toBe(2);
    expect(x.store.size).toBe(0);
    expect(stats(x, 'n1').unclaimed + stats(x, 'n2').unclaimed).toBe(1);
    expect(finals(x)).toHaveLength(2);
  });
});

describe('claim store failure', () => {
  it("policy 'execute' (default): the store is down, the request runs anyway and a warning is logged", async () => {
    let flaky: FlakyStore | undefined;
    const x = setup({ store: (inner) => (flaky = new FlakyStore(inner)) });
    flaky!.mode = 'down';
    const call = x.client.call(NODE, 'XNode.Echo', { uuid: 'u7' });
    await x.clock.tick();
    await expect(call).resolves.toMatchObject({ code: 200, uuid: 'u7' });
    expect(totalRuns(x)).toBe(1);
    expect(stats(x, 'n1').storeErrors + stats(x, 'n2').storeErrors).toBe(1);
    const warn = x.logs.find((l) => l.level === 'warn' && l.msg?.includes('claim store failed'));
    expect(warn?.obj).toMatchObject({ id: 'c1:e1:1', method: 'XNode.Echo', policy: 'execute' });
  });

  it("a store that does not answer counts as failed after timeoutMs (Clock time); the late claim is kept under 'execute'", async () => {
    let flaky: FlakyStore | undefined;
    const x = setup({ store: (inner) => (flaky = new FlakyStore(inner)), claims: { timeoutMs: 300 } });
    flaky!.mode = 'hang';
    const call = x.client.call(NODE, 'XNode.Echo', { uuid: 'u8' });
    await x.clock.advance(299);
    expect(totalRuns(x)).toBe(0);
    await x.clock.advance(1);
    await expect(call).resolves.toMatchObject({ code: 200 });
    expect(totalRuns(x)).toBe(1);
    const warn = x.logs.find((l) => l.level === 'warn' && l.msg?.includes('claim store failed'));
    expect(warn?.obj.err).toBeInstanceOf(ClaimTimeoutError);
    flaky!.resume();
    await x.clock.tick();
    expect(x.store.size).toBe(1); // we ran it, so the late claim rightly names us
    expect(flaky!.released).toEqual([]);
  });

  it("policy 'defer': nothing runs while the store is down, a 100 keeps the originator resending, and a resend after recovery runs once", async () => {
    let flaky: FlakyStore | undefined;
    const x = setup({ store: (inner) => (flaky = new FlakyStore(inner)), claims: { onStoreError: 'defer' } });
    flaky!.mode = 'down';
    const call = x.client.call(NODE, 'XNode.Echo', { uuid: 'u9' });
    await x.clock.tick();
    expect(totalRuns(x)).toBe(0);
    expect(x.answers.map(codeOf)).toEqual([100]);
    for (const m of x.members) expect(m.server.cachedReplies).toBe(0);
    // The 100 moved the originator to its long timer: the next resend comes 5 s later.
    await x.clock.advance(4999);
    expect(x.requests).toHaveLength(1);
    flaky!.resume();
    await x.clock.advance(1);
    expect(x.requests).toHaveLength(2);
    await expect(call).resolves.toMatchObject({ code: 200, uuid: 'u9' });
    expect(totalRuns(x)).toBe(1);
  });

  it("policy 'defer': a claim won after its timeout is released, so the next resend is not forwarded to a member that never ran it", async () => {
    let flaky: FlakyStore | undefined;
    const x = setup({
      store: (inner) => (flaky = new FlakyStore(inner)),
      claims: { onStoreError: 'defer', timeoutMs: 300 },
    });
    flaky!.mode = 'hang';
    const call = x.client.call(NODE, 'XNode.Echo', { uuid: 'u10' });
    await x.clock.advance(300);
    expect(totalRuns(x)).toBe(0);
    flaky!.resume();
    await x.clock.tick();
    expect(flaky!.released).toEqual(['c1:e1:1']);
    expect(x.store.size).toBe(0);
    await x.clock.advance(5000);
    await expect(call).resolves.toMatchObject({ code: 200, uuid: 'u10' });
    expect(totalRuns(x)).toBe(1);
  });
});
