/**
 * The `Bus` contract as a reusable Vitest suite: every implementation (MemoryBus, NatsBus, wrappers)
 * must pass it unchanged. The suite never sleeps by itself: "let time pass" is the harness's
 * `elapse` (a VirtualClock advance on MemoryBus, a real wait on NATS), and "let deliveries land" is
 * `settle`, a flush on every bus in turn (on NATS the server answers a PING only after it has queued
 * everything routed before it, so a flush on the receiving connection means the messages are in).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, BusMsg, Subscription } from '../../src/bus/bus.js';
import {
  BusClosedError,
  BusNoRespondersError,
  BusTimeoutError,
  InvalidSubjectError,
  PayloadTooLargeError,
} from '../../src/bus/errors.js';

export interface BusContractHarness {
  /** Two or more buses connected to the same broker/server. Three or more exercise queue groups better. */
  readonly buses: readonly Bus[];
  /** Lets `ms` of the buses' time pass (advance a VirtualClock, or wait for real on NATS). */
  elapse(ms: number): Promise<void>;
  /** A request timeout that is cheap to wait out on this bus. */
  readonly timeoutMs: number;
  /** Closes everything `makeBuses` opened. */
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (m: BusMsg): string => dec.decode(m.data);

/** Flushes every bus in order: published messages have then been delivered to every subscriber. */
async function settle(buses: readonly Bus[]): Promise<void> {
  for (const bus of buses) await bus.flush();
  // a second round covers replies published by callbacks during the first
  for (const bus of buses) await bus.flush();
}

/** Subscribes with a callback that records everything. */
function record(bus: Bus, subject: string, queue?: string): { sub: Subscription; got: BusMsg[] } {
  const got: BusMsg[] = [];
  const sub = bus.subscribe(subject, { queue, callback: (m) => got.push(m) });
  return { sub, got };
}

/**
 * Defines the contract tests for one `Bus` implementation.
 *
 * @example
 * describeBusContract('MemoryBus', async () => {
 *   const clock = new VirtualClock();
 *   const broker = new MemoryBroker({ clock });
 *   const buses = [broker.connect(), broker.connect(), broker.connect()];
 *   return { buses, timeoutMs: 1000, elapse: (ms) => clock.advance(ms), cleanup: () => broker.close() };
 * });
 */
export function describeBusContract(name: string, makeBuses: () => Promise<BusContractHarness>): void {
  describe(`Bus contract: ${name}`, () => {
    let h: BusContractHarness;
    let a: Bus;
    let b: Bus;

    beforeEach(async () => {
      h = await makeBuses();
      if (h.buses.length < 2) throw new Error('describeBusContract needs at least two buses');
      a = h.buses[0]!;
      b = h.buses[1]!;
    });

    afterEach(async () => {
      await h.cleanup();
    });

    it('delivers a publish to a subscriber on another connection and on the same one', async () => {
      const there = record(b, 'contract.basic');
      const here = record(a, 'contract.basic');
      await settle(h.buses);
      a.publish('contract.basic', bytes('hello'));
      await settle(h.buses);
      for (const got of [there.got, here.got]) {
        expect(got).toHaveLength(1);
        expect(got[0]!.subject).toBe('contract.basic');
        expect(text(got[0]!)).toBe('hello');
        expect(got[0]!.reply).toBeUndefined();
        expect(got[0]!.respond(bytes('x'))).toBe(false);
      }
      there.sub.unsubscribe();
      here.sub.unsubscribe();
    });

    it('carries an explicit reply subject and an empty payload', async () => {
      const { sub, got } = record(b, 'contract.reply-field');
      await settle(h.buses);
      a.publish('contract.reply-field', new Uint8Array(0), { reply: 'contract.answer.here' });
      await settle(h.buses);
      expect(got).toHaveLength(1);
      expect(got[0]!.reply).toBe('contract.answer.here');
      expect(got[0]!.data.length).toBe(0);
      sub.unsubscribe();
    });

    it('matches `*` to exactly one token', async () => {
      const { sub, got } = record(b, 'contract.star.*');
      await settle(h.buses);
      for (const s of ['contract.star', 'contract.star.one', 'contract.star.one.two', 'contract.starx.one']) {
        a.publish(s, bytes(s));
      }
      await settle(h.buses);
      expect(got.map((m) => m.subject)).toEqual(['contract.star.one']);
      sub.unsubscribe();
    });

    it('matches `*` in the middle of a pattern', async () => {
      const { sub, got } = record(b, 'contract.*.mid');
      await settle(h.buses);
      for (const s of ['contract.x.mid', 'contract.y.mid', 'contract.x.y.mid', 'contract.x.other']) {
        a.publish(s, bytes(s));
      }
      await settle(h.buses);
      expect(got.map((m) => m.subject)).toEqual(['contract.x.mid', 'contract.y.mid']);
      sub.unsubscribe();
    });

    it('matches `>` to one or more trailing tokens', async () => {
      const { sub, got } = record(b, 'contract.gt.>');
      await settle(h.buses);
      for (const s of ['contract.gt', 'contract.gt.one', 'contract.gt.one.two', 'contract.gtx.one']) {
        a.publish(s, bytes(s));
      }
      await settle(h.buses);
      expect(got.map((m) => m.subject)).toEqual(['contract.gt.one', 'contract.gt.one.two']);
      sub.unsubscribe();
    });

    it('shares a queue group: each member gets some, none twice, a plain subscriber gets all', async () => {
      const members = [0, 1, 2].map((i) => record(h.buses[i % h.buses.length]!, 'contract.queue', 'workers'));
      const plain = record(b, 'contract.queue');
      await settle(h.buses);
      const total = 300;
      for (let i = 0; i < total; i++) a.publish('contract.queue', bytes(String(i)));
      await settle(h.buses);
      const seen = members.flatMap((m) => m.got.map(text));
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      for (const m of members) expect(m.got.length).toBeGreaterThan(0);
      expect(plain.got.map(text)).toEqual(Array.from({ length: total }, (_, i) => String(i)));
      for (const m of [...members, plain]) m.sub.unsubscribe();
    });

    it('answers a request through the reply inbox', async () => {
      const responder = b.subscribe('contract.echo', {
        callback: (m) => {
          expect(m.reply).toBeTypeOf('string');
          expect(m.respond(bytes(`echo:${text(m)}`))).toBe(true);
        },
      });
      await settle(h.buses);
      const reply = await a.request('contract.echo', bytes('ping'), { timeoutMs: 5_000 });
      expect(text(reply)).toBe('echo:ping');
      const countBefore = a.subscriptionCount;
      // many concurrent requests are told apart
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          a.request('contract.echo', bytes(String(i)), { timeoutMs: 5_000 }),
        ),
      );
      expect(replies.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `echo:${i}`));
      expect(a.subscriptionCount).toBe(countBefore);
      responder.unsubscribe();
    });

    it('rejects a request nobody answers with BusTimeoutError after timeoutMs', async () => {
      const silent = record(b, 'contract.silent');
      await settle(h.buses);
      const pending = a.request('contract.silent', bytes('hello?'), { timeoutMs: h.timeoutMs });
      const outcome = expect(pending).rejects.toBeInstanceOf(BusTimeoutError);
      await h.elapse(h.timeoutMs + 1);
      await outcome;
      await pending.catch((err: unknown) => {
        expect((err as BusTimeoutError).subject).toBe('contract.silent');
        expect((err as BusTimeoutError).timeoutMs).toBe(h.timeoutMs);
      });
      expect(silent.got).toHaveLength(1);
      silent.sub.unsubscribe();
    });

    it('does not time out before timeoutMs', async () => {
      const pendingMsgs: BusMsg[] = [];
      // the responder answers only when told to, below
      const late = b.subscribe('contract.late', { callback: (m) => pendingMsgs.push(m) });
      await settle(h.buses);
      const pending = a.request('contract.late', bytes('x'), { timeoutMs: h.timeoutMs * 4 });
      await settle(h.buses);
      await h.elapse(h.timeoutMs);
      pendingMsgs[0]!.respond(bytes('in time'));
      expect(text(await pending)).toBe('in time');
      late.unsubscribe();
    });

    it('rejects a request to a subject without subscribers with BusNoRespondersError', async () => {
      const err = await a
        .request('contract.nobody.home', bytes('x'), { timeoutMs: 5_000 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusNoRespondersError);
      expect((err as BusNoRespondersError).subject).toBe('contract.nobody.home');
    });

    it('rejects a request with the signal reason when the signal aborts, and at once if already aborted', async () => {
      const silent = record(b, 'contract.abort');
      await settle(h.buses);
      const ctl = new AbortController();
      const pending = a.request('contract.abort', bytes('x'), { timeoutMs: 60_000, signal: ctl.signal });
      const reason = new Error('caller gave up');
      ctl.abort(reason);
      await expect(pending).rejects.toBe(reason);
      const again = a.request('contract.abort', bytes('x'), { timeoutMs: 60_000, signal: ctl.signal });
      await expect(again).rejects.toBe(reason);
      silent.sub.unsubscribe();
    });

    it('refuses payloads larger than maxPayload and carries one of exactly maxPayload bytes', async () => {
      const max = a.maxPayload;
      expect(max).toBeGreaterThan(0);
      const { sub, got } = record(b, 'contract.big');
      await settle(h.buses);
      expect(() => a.publish('contract.big', new Uint8Array(max + 1))).toThrow(PayloadTooLargeError);
      await expect(
        a.request('contract.big', new Uint8Array(max + 1), { timeoutMs: 5_000 }),
      ).rejects.toBeInstanceOf(PayloadTooLargeError);
      a.publish('contract.big', new Uint8Array(max).fill(7));
      await settle(h.buses);
      expect(got).toHaveLength(1); // the refused request published nothing; the exact-size publish arrived
      expect(got[0]!.data.length).toBe(max);
      sub.unsubscribe();
    });

    it('rejects invalid subjects with InvalidSubjectError', () => {
      for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'a.*', 'a.>']) {
        expect(() => a.publish(bad, bytes('x')), bad).toThrow(InvalidSubjectError);
      }
      for (const bad of ['', 'a..b', 'a.>.b', 'a b']) {
        expect(() => a.subscribe(bad, { callback: () => {} }), bad).toThrow(InvalidSubjectError);
      }
      expect(a.subscriptionCount).toBe(0);
    });

    it('stops delivery on unsubscribe (idempotent) and counts subscriptions', async () => {
      expect(b.subscriptionCount).toBe(0);
      const one = record(b, 'contract.unsub');
      const two = b.subscribe('contract.unsub.iter');
      expect(b.subscriptionCount).toBe(2);
      expect(one.sub.subject).toBe('contract.unsub');
      expect(one.sub.queue).toBeUndefined();
      await settle(h.buses);
      a.publish('contract.unsub', bytes('1'));
      await settle(h.buses);
      one.sub.unsubscribe();
      one.sub.unsubscribe();
      expect(one.sub.isClosed).toBe(true);
      expect(b.subscriptionCount).toBe(1);
      a.publish('contract.unsub', bytes('2'));
      await settle(h.buses);
      expect(one.got.map(text)).toEqual(['1']);
      two.unsubscribe();
      expect(b.subscriptionCount).toBe(0);
      const queued = b.subscribe('contract.unsub', { queue: 'q', callback: () => {} });
      expect(queued.queue).toBe('q');
      expect(b.subscriptionCount).toBe(1);
      queued.unsubscribe();
      expect(b.subscriptionCount).toBe(0);
    });

    it('keeps a subscription alive when its callback throws', async () => {
      let calls = 0;
      const sub = b.subscribe('contract.throws', {
        callback: () => {
          calls++;
          throw new Error('callback bug');
        },
      });
      await settle(h.buses);
      a.publish('contract.throws', bytes('1'));
      a.publish('contract.throws', bytes('2'));
      await settle(h.buses);
      expect(calls).toBe(2);
      expect(sub.isClosed).toBe(false);
      sub.unsubscribe();
    });

    it('iterates a subscription in order; break unsubscribes', async () => {
      const sub = b.subscribe('contract.iter');
      await settle(h.buses);
      for (let i = 0; i < 5; i++) a.publish('contract.iter', bytes(String(i)));
      await settle(h.buses);
      const seen: string[] = [];
      for await (const m of sub) {
        seen.push(text(m));
        if (seen.length === 3) break;
      }
      expect(seen).toEqual(['0', '1', '2']);
      expect(sub.isClosed).toBe(true);
      expect(b.subscriptionCount).toBe(0);
    });

    it('ends an iteration in progress when unsubscribed', async () => {
      const sub = b.subscribe('contract.iter.end');
      await settle(h.buses);
      const seen: string[] = [];
      const loop = (async () => {
        for await (const m of sub) seen.push(text(m));
      })();
      a.publish('contract.iter.end', bytes('only'));
      await settle(h.buses);
      sub.unsubscribe();
      await loop;
      expect(seen).toEqual(['only']);
      expect(b.subscriptionCount).toBe(0);
    });

    it('preserves publish order per subscription (callback and iterator)', async () => {
      const n = 1000;
      const cb = record(b, 'contract.order');
      const it = b.subscribe('contract.order');
      await settle(h.buses);
      for (let i = 0; i < n; i++) a.publish('contract.order', bytes(String(i)));
      await settle(h.buses);
      const expected = Array.from({ length: n }, (_, i) => String(i));
      expect(cb.got.map(text)).toEqual(expected);
      const seen: string[] = [];
      for await (const m of it) {
        seen.push(text(m));
        if (seen.length === n) break;
      }
      expect(seen).toEqual(expected);
      cb.sub.unsubscribe();
    });

    it('drain delivers what was received, then closes', async () => {
      const { got } = record(b, 'contract.drain');
      await settle(h.buses);
      for (let i = 0; i < 50; i++) a.publish('contract.drain', bytes(String(i)));
      await a.flush();
      const draining = b.drain();
      expect(b.drain()).toBe(draining); // concurrent calls share one drain
      await draining;
      expect(got.map(text)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
      await b.closed;
      expect(b.subscriptionCount).toBe(0);
      expect(() => b.publish('contract.drain', bytes('late'))).toThrow(BusClosedError);
      expect(() => b.subscribe('contract.drain')).toThrow(BusClosedError);
      await expect(b.request('contract.drain', bytes('x'), { timeoutMs: 1_000 })).rejects.toBeInstanceOf(
        BusClosedError,
      );
      await expect(b.drain()).rejects.toBeInstanceOf(BusClosedError);
    });

    it('still answers, while draining, the requests it had received', async () => {
      b.subscribe('contract.drain.rpc', { callback: (m) => m.respond(bytes(`late:${text(m)}`)) });
      await settle(h.buses);
      const pending = a.request('contract.drain.rpc', bytes('q'), { timeoutMs: 5_000 });
      await a.flush();
      const draining = b.drain();
      expect(text(await pending)).toBe('late:q');
      await draining;
      expect(() => b.subscribe('contract.drain.rpc')).toThrow(BusClosedError);
    });

    it('close rejects pending requests with BusClosedError and is idempotent', async () => {
      const silent = record(b, 'contract.close');
      await settle(h.buses);
      const pending = a.request('contract.close', bytes('x'), { timeoutMs: 60_000 });
      const outcome = expect(pending).rejects.toBeInstanceOf(BusClosedError);
      await settle([b]);
      await a.close();
      await outcome;
      await a.closed;
      await a.close();
      expect(() => a.publish('contract.close', bytes('late'))).toThrow(BusClosedError);
      await expect(a.request('contract.close', bytes('x'), { timeoutMs: 1_000 })).rejects.toBeInstanceOf(
        BusClosedError,
      );
      silent.sub.unsubscribe();
    });

    it('close ends subscriptions and iterations of that bus', async () => {
      const cb = record(b, 'contract.close.subs');
      const iter = b.subscribe('contract.close.iter');
      const loop = (async () => {
        for await (const _ of iter) {
          // nothing arrives; the loop must end when the bus closes
        }
      })();
      await settle(h.buses);
      await b.close();
      await loop;
      expect(cb.sub.isClosed).toBe(true);
      expect(iter.isClosed).toBe(true);
      expect(b.subscriptionCount).toBe(0);
    });

    it('gives unique inboxes and an onReconnect disposer', () => {
      const boxes = new Set(Array.from({ length: 100 }, () => a.inbox()));
      expect(boxes.size).toBe(100);
      const dispose = a.onReconnect(() => {});
      expect(dispose).toBeTypeOf('function');
      dispose();
    });
  });
}
