/**
 * FaultBus: without rules it is a faithful `Bus` (the whole contract suite runs through it); with rules
 * it drops, duplicates, delays, reorders and partitions deterministically on a VirtualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { describeBusContract } from '../../test/support/bus-contract.js';
import type { Bus, BusMsg } from './bus.js';
import { BusClosedError, BusTimeoutError } from './errors.js';
import { FaultBus, type FaultRule, type FaultStats, InvalidFaultRuleError } from './fault-bus.js';
import { type BusTimerSource, MemoryBroker } from './memory-bus.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (m: BusMsg): string => dec.decode(m.data);

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Manual time for the broker and the FaultBus. The module arrows keep bus tests from importing
 * `clock`, so this is a minimal stand-in for `VirtualClock` (same `advance`/`tick`/`pending`); the
 * chaos spine (test/chaos-spine.test.ts) runs FaultBus on the real `VirtualClock`.
 */
class VirtualClock implements BusTimerSource {
  #now = 0;
  #timers: { at: number; seq: number; fn: () => void; live: boolean }[] = [];
  #seq = 0;

  get pending(): number {
    return this.#timers.filter((t) => t.live).length;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.#now + ms, seq: ++this.#seq, fn, live: true };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.live = false;
      },
    };
  }

  /** Fires every timer due within `ms`, in time order, including ones set by earlier timers. */
  async advance(ms: number): Promise<void> {
    await settle();
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => t.live && t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#now = Math.max(this.#now, due.at);
      due.live = false;
      due.fn();
      await settle();
    }
    this.#now = end;
    this.#timers = this.#timers.filter((t) => t.live);
  }

  async tick(): Promise<void> {
    await settle();
    await settle();
  }
}

describeBusContract('FaultBus (no rules) over MemoryBus', async () => {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const buses: Bus[] = ['a', 'b', 'c'].map((n) => new FaultBus(broker.connect(n), { timers: clock }));
  return {
    buses,
    timeoutMs: 1_000,
    elapse: (ms) => clock.advance(ms),
    cleanup: async () => {
      await Promise.all(buses.map((b) => b.close()));
    },
  };
});

interface Rig {
  clock: VirtualClock;
  broker: MemoryBroker;
  faulty: FaultBus;
  peer: Bus;
}

let rig: Rig | undefined;
afterEach(async () => {
  if (rig === undefined) return;
  await rig.faulty.close();
  await rig.broker.close();
  // no leaks: every delay/reorder/request timer was released
  expect(rig.clock.pending).toBe(0);
  expect(rig.faulty.pendingFaults).toBe(0);
  rig = undefined;
});

function makeRig(rules: FaultRule[] = [], seed = 7): Rig {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const faulty = new FaultBus(broker.connect('faulty'), { timers: clock, seed, rules });
  const peer = broker.connect('peer');
  rig = { clock, broker, faulty, peer };
  return rig;
}

/** Publishes `n` numbered messages through `from` on `subject` and returns what `to` received. */
async function pump(r: Rig, from: Bus, to: Bus, subject: string, n: number, settleMs = 0): Promise<string[]> {
  const got: string[] = [];
  const sub = to.subscribe(subject, { callback: (m) => got.push(text(m)) });
  for (let i = 0; i < n; i++) from.publish(subject, enc.encode(String(i)));
  await r.clock.tick();
  if (settleMs > 0) await r.clock.advance(settleMs);
  await r.clock.tick();
  sub.unsubscribe();
  return got;
}

const seq = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));

describe('FaultBus publish/deliver faults (table)', () => {
  type Direction = 'publish' | 'deliver';
  interface Case {
    name: string;
    rule: Omit<FaultRule, 'subject'>;
    direction: Direction;
    n: number;
    settleMs?: number;
    expectGot: (got: string[]) => void;
    expectStats: Partial<FaultStats>;
  }
  const cases: Case[] = [
    {
      name: 'drop 1 on publish loses every message',
      rule: { drop: 1, traffic: ['publish'] },
      direction: 'publish',
      n: 20,
      expectGot: (got) => expect(got).toEqual([]),
      expectStats: { seen: 20, dropped: 20, passed: 0 },
    },
    {
      name: 'drop 1 on deliver loses every incoming message',
      rule: { drop: 1, traffic: ['deliver'] },
      direction: 'deliver',
      n: 20,
      expectGot: (got) => expect(got).toEqual([]),
      expectStats: { seen: 20, dropped: 20 },
    },
    {
      name: 'drop 0.3 loses about 30 % and keeps the order of the rest',
      rule: { drop: 0.3 },
      direction: 'publish',
      n: 1000,
      expectGot: (got) => {
        expect(got.length).toBeGreaterThan(620);
        expect(got.length).toBeLessThan(780);
        expect(got.map(Number)).toEqual([...got.map(Number)].sort((a, b) => a - b));
      },
      expectStats: { seen: 1000 },
    },
    {
      name: 'duplicate 1 sends each message twice',
      rule: { duplicate: 1 },
      direction: 'publish',
      n: 5,
      expectGot: (got) => expect(got).toEqual(['0', '0', '1', '1', '2', '2', '3', '3', '4', '4']),
      expectStats: { seen: 5, duplicated: 5 },
    },
    {
      name: 'duplicate 1 on deliver hands each incoming message over twice',
      rule: { duplicate: 1, traffic: ['deliver'] },
      direction: 'deliver',
      n: 3,
      expectGot: (got) => expect(got).toEqual(['0', '0', '1', '1', '2', '2']),
      expectStats: { duplicated: 3 },
    },
    {
      name: 'delay holds messages for delayMs, then delivers them in order',
      rule: { delayMs: 250 },
      direction: 'publish',
      n: 10,
      settleMs: 250,
      expectGot: (got) => expect(got).toEqual(seq(10)),
      expectStats: { delayed: 10 },
    },
    {
      name: 'reorder releases a window of messages out of order, none lost',
      rule: { reorderWindowMs: 100 },
      direction: 'publish',
      n: 10,
      settleMs: 100,
      expectGot: (got) => {
        expect(got).not.toEqual(seq(10));
        expect([...got].sort((a, b) => Number(a) - Number(b))).toEqual(seq(10));
      },
      expectStats: { reordered: 10 },
    },
    {
      name: 'a rule for other traffic leaves this direction alone',
      rule: { drop: 1, traffic: ['deliver'] },
      direction: 'publish',
      n: 5,
      expectGot: (got) => expect(got).toEqual(seq(5)),
      expectStats: { passed: 5, dropped: 0 },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const r = makeRig([{ subject: 'chaos.>', ...c.rule }]);
      const [from, to] = c.direction === 'publish' ? [r.faulty, r.peer] : [r.peer, r.faulty];
      const got = await pump(r, from, to, 'chaos.test', c.n, c.settleMs);
      c.expectGot(got);
      expect(r.faulty.stats).toMatchObject(c.expectStats);
    });
  }

  it('a delayed message is not there one millisecond early', async () => {
    const r = makeRig([{ subject: 'chaos.>', delayMs: 100 }]);
    const got: string[] = [];
    r.peer.subscribe('chaos.x', { callback: (m) => got.push(text(m)) });
    r.faulty.publish('chaos.x', enc.encode('late'));
    await r.clock.advance(99);
    expect(got).toEqual([]);
    await r.clock.advance(1);
    await r.clock.tick();
    expect(got).toEqual(['late']);
  });

  it('subjects that match no rule pass untouched', async () => {
    const r = makeRig([{ subject: 'chaos.>', drop: 1 }]);
    expect(await pump(r, r.faulty, r.peer, 'calm.test', 3)).toEqual(seq(3));
    expect(r.faulty.stats).toMatchObject({ seen: 3, passed: 3, dropped: 0 });
  });

  it('the same seed gives the same faults; another seed gives others', async () => {
    const run = async (seed: number): Promise<string[]> => {
      const r = makeRig([{ subject: 'chaos.>', drop: 0.2, duplicate: 0.2, jitterMs: 50 }], seed);
      const got = await pump(r, r.faulty, r.peer, 'chaos.s', 200, 50);
      await r.faulty.close();
      await r.broker.close();
      rig = undefined;
      return got;
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('removing a reorder rule releases what it held', async () => {
    const r = makeRig();
    const off = r.faulty.addRule({ subject: 'chaos.>', reorderWindowMs: 10_000 });
    const got: string[] = [];
    r.peer.subscribe('chaos.x', { callback: (m) => got.push(text(m)) });
    r.faulty.publish('chaos.x', enc.encode('a'));
    r.faulty.publish('chaos.x', enc.encode('b'));
    await r.clock.tick();
    expect(got).toEqual([]);
    expect(r.faulty.pendingFaults).toBe(3); // two held + the window timer
    off();
    await r.clock.tick();
    expect(got).toEqual(['a', 'b']);
  });

  it('an async-iterable subscription sees the faults too', async () => {
    const r = makeRig([{ subject: 'chaos.>', duplicate: 1, traffic: ['deliver'] }]);
    const sub = r.faulty.subscribe('chaos.it');
    r.peer.publish('chaos.it', enc.encode('x'));
    const got: string[] = [];
    for await (const m of sub) {
      got.push(text(m));
      if (got.length === 2) break;
    }
    expect(got).toEqual(['x', 'x']);
    expect(r.faulty.subscriptionCount).toBe(0);
  });
});

describe('FaultBus partitions', () => {
  it('a partition drops everything on the pattern, both ways, until healed', async () => {
    const r = makeRig();
    const heal = r.faulty.partition('cn.xswitch.node.>');
    expect(await pump(r, r.faulty, r.peer, 'cn.xswitch.node.n1', 3)).toEqual([]);
    expect(await pump(r, r.peer, r.faulty, 'cn.xswitch.node.n1', 3)).toEqual([]);
    expect(await pump(r, r.faulty, r.peer, 'cn.xswitch.ctrl', 2)).toEqual(['0', '1']);
    expect(r.faulty.stats.partitioned).toBe(6);
    heal();
    expect(await pump(r, r.faulty, r.peer, 'cn.xswitch.node.n1', 2)).toEqual(['0', '1']);
  });

  it('heal() lifts every partition', async () => {
    const r = makeRig();
    r.faulty.partition('a.>');
    r.faulty.partition('b.*');
    r.faulty.heal();
    expect(await pump(r, r.faulty, r.peer, 'a.x', 1)).toEqual(['0']);
    expect(await pump(r, r.faulty, r.peer, 'b.x', 1)).toEqual(['0']);
  });
});

describe('FaultBus request/reply faults', () => {
  /** The peer answers every request on `svc.>` with "ok:<data>". */
  function serve(bus: Bus, seen: string[] = []): string[] {
    bus.subscribe('svc.>', {
      callback: (m) => {
        seen.push(text(m));
        m.respond(enc.encode(`ok:${text(m)}`));
      },
    });
    return seen;
  }

  async function outcome(p: Promise<BusMsg>): Promise<string | Error> {
    try {
      return text(await p);
    } catch (err) {
      return err as Error;
    }
  }

  const cases: { name: string; rule: FaultRule; side: 'caller' | 'responder'; want: 'timeout' | 'ok' }[] = [
    {
      name: 'a dropped request makes the caller time out',
      rule: { subject: 'svc.>', traffic: ['request'], drop: 1 },
      side: 'caller',
      want: 'timeout',
    },
    {
      name: 'a dropped response makes the caller time out',
      rule: { subject: 'svc.>', traffic: ['response'], drop: 1 },
      side: 'caller',
      want: 'timeout',
    },
    {
      name: 'a dropped reply (responder side) makes the caller time out',
      rule: { subject: 'svc.>', traffic: ['reply'], drop: 1 },
      side: 'responder',
      want: 'timeout',
    },
    {
      name: 'a request delayed past the timeout times out',
      rule: { subject: 'svc.>', traffic: ['request'], delayMs: 1500 },
      side: 'caller',
      want: 'timeout',
    },
    {
      name: 'a request delayed within the timeout succeeds',
      rule: { subject: 'svc.>', traffic: ['request'], delayMs: 500 },
      side: 'caller',
      want: 'ok',
    },
    {
      name: 'a reply delayed within the timeout succeeds',
      rule: { subject: 'svc.>', traffic: ['reply'], delayMs: 500 },
      side: 'responder',
      want: 'ok',
    },
    {
      name: 'a rule on another subject leaves requests alone',
      rule: { subject: 'other.>', drop: 1 },
      side: 'caller',
      want: 'ok',
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const r = makeRig(c.side === 'caller' ? [c.rule] : []);
      let caller: Bus = r.faulty;
      if (c.side === 'responder') {
        // the FaultBus answers; the plain peer asks
        r.faulty.addRule(c.rule);
        serve(r.faulty);
        caller = r.peer;
      } else {
        serve(r.peer);
      }
      const p = outcome(caller.request('svc.echo', enc.encode('hi'), { timeoutMs: 1000 }));
      await r.clock.advance(1000);
      await r.clock.tick();
      const got = await p;
      if (c.want === 'ok') expect(got).toBe('ok:hi');
      else expect(got).toBeInstanceOf(BusTimeoutError);
    });
  }

  it('a partition makes requests on it time out, and healing restores them', async () => {
    const r = makeRig();
    serve(r.peer);
    const heal = r.faulty.partition('svc.>');
    const p = outcome(r.faulty.request('svc.a', enc.encode('1'), { timeoutMs: 200 }));
    await r.clock.advance(200);
    expect(await p).toBeInstanceOf(BusTimeoutError);
    heal();
    const q = outcome(r.faulty.request('svc.a', enc.encode('2'), { timeoutMs: 200 }));
    await r.clock.tick();
    expect(await q).toBe('ok:2');
  });

  it('a duplicated request reaches the responder twice and the caller gets one answer', async () => {
    const r = makeRig([{ subject: 'svc.>', traffic: ['request'], duplicate: 1 }]);
    const seen = serve(r.peer);
    const got = await outcome(r.faulty.request('svc.d', enc.encode('x'), { timeoutMs: 1000 }));
    await r.clock.tick();
    expect(got).toBe('ok:x');
    expect(seen).toEqual(['x', 'x']);
  });

  it('closing the bus rejects a request whose message was dropped with BusClosedError', async () => {
    const r = makeRig([{ subject: 'svc.>', drop: 1 }]);
    serve(r.peer);
    const p = outcome(r.faulty.request('svc.c', enc.encode('x'), { timeoutMs: 60_000 }));
    await r.clock.tick();
    await r.faulty.close();
    expect(await p).toBeInstanceOf(BusClosedError);
  });

  it('an abort signal ends a request held by a delay', async () => {
    const r = makeRig([{ subject: 'svc.>', delayMs: 5000 }]);
    serve(r.peer);
    const ac = new AbortController();
    const p = outcome(r.faulty.request('svc.c', enc.encode('x'), { timeoutMs: 60_000, signal: ac.signal }));
    ac.abort(new Error('stop'));
    expect(await p).toMatchObject({ message: 'stop' });
  });
});

describe('FaultBus bad rules and closing', () => {
  const bad: [string, FaultRule][] = [
    ['bad pattern', { subject: 'a..b' }],
    ['drop above 1', { subject: 'a', drop: 1.5 }],
    ['negative duplicate', { subject: 'a', duplicate: -0.1 }],
    ['negative delay', { subject: 'a', delayMs: -1 }],
    ['NaN jitter', { subject: 'a', jitterMs: Number.NaN }],
    ['unknown traffic', { subject: 'a', traffic: ['sideways' as 'publish'] }],
  ];
  for (const [name, rule] of bad) {
    it(`rejects a rule with ${name} with InvalidFaultRuleError`, () => {
      const r = makeRig();
      expect(() => r.faulty.addRule(rule)).toThrow(InvalidFaultRuleError);
    });
  }

  it('rejects a bad partition pattern', () => {
    const r = makeRig();
    expect(() => r.faulty.partition('a.>.b')).toThrow(InvalidFaultRuleError);
  });

  it('closing discards delayed messages and releases their timers', async () => {
    const r = makeRig([{ subject: 'chaos.>', delayMs: 1000 }]);
    const got: string[] = [];
    r.peer.subscribe('chaos.x', { callback: (m) => got.push(text(m)) });
    r.faulty.publish('chaos.x', enc.encode('never'));
    expect(r.clock.pending).toBe(1);
    await r.faulty.close();
    expect(r.clock.pending).toBe(0);
    await r.clock.advance(1000);
    expect(got).toEqual([]);
    expect(() => r.faulty.publish('chaos.x', enc.encode('x'))).toThrow(BusClosedError);
  });
});
