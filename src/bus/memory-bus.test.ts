import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../protocol/logger.js';
import type { BusMsg } from './bus.js';
import {
  BusClosedError,
  BusNoRespondersError,
  BusTimeoutError,
  InvalidSubjectError,
  PayloadTooLargeError,
} from './errors.js';
import { type BusTimerSource, MemoryBroker, type MemoryBus } from './memory-bus.js';

const te = new TextEncoder();
const td = new TextDecoder();
const b = (s: string): Uint8Array => te.encode(s);
const s = (m: BusMsg): string => td.decode(m.data);

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Manual time for the broker's request timers. The module arrows keep bus tests from importing
 * `clock`, so this is a minimal stand-in for `VirtualClock` (same `advance`/`tick`/`pending`).
 */
class ManualTimers implements BusTimerSource {
  #now = 0;
  #timers: { at: number; fn: () => void; live: boolean }[] = [];

  get pending(): number {
    return this.#timers.filter((t) => t.live).length;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.#now + ms, fn, live: true };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.live = false;
      },
    };
  }

  async advance(ms: number): Promise<void> {
    await settle();
    this.#now += ms;
    const due = this.#timers.filter((t) => t.live && t.at <= this.#now).sort((a, b) => a.at - b.at);
    for (const t of due) {
      if (!t.live) continue;
      t.live = false;
      t.fn();
      await settle();
    }
    this.#timers = this.#timers.filter((t) => t.live);
  }

  async tick(): Promise<void> {
    await settle();
    await settle();
  }
}

let clock: ManualTimers;
let broker: MemoryBroker;
const open: MemoryBus[] = [];

function connect(name?: string): MemoryBus {
  broker ??= new MemoryBroker({ clock });
  const bus = broker.connect(name);
  open.push(bus);
  return bus;
}

function setup(options: { maxPayload?: number; logger?: Logger } = {}): void {
  clock = new ManualTimers();
  broker = new MemoryBroker({ clock, ...options });
}

afterEach(async () => {
  for (const bus of open.splice(0)) await bus.close();
});

describe('MemoryBus publish/subscribe', () => {
  it('delivers to every plain subscriber, asynchronously and never inside publish', async () => {
    setup();
    const a = connect();
    const got: string[] = [];
    a.subscribe('x.y', { callback: (m) => got.push(`1:${s(m)}`) });
    a.subscribe('x.*', { callback: (m) => got.push(`2:${s(m)}`) });
    a.subscribe('x.>', { callback: (m) => got.push(`3:${s(m)}`) });
    a.subscribe('x.z', { callback: (m) => got.push(`4:${s(m)}`) });
    a.publish('x.y', b('hi'));
    expect(got).toEqual([]);
    await a.flush();
    expect(got.sort()).toEqual(['1:hi', '2:hi', '3:hi']);
  });

  it('keeps publish order per subscription, also for messages published from callbacks', async () => {
    setup();
    const a = connect();
    const got: string[] = [];
    a.subscribe('n', {
      callback: (m) => {
        got.push(s(m));
        if (s(m) === '1') a.publish('n', b('3'));
      },
    });
    a.publish('n', b('1'));
    a.publish('n', b('2'));
    await clock.tick();
    expect(got).toEqual(['1', '2', '3']);
  });

  it('gives each queue group a message once, spread over its members', async () => {
    setup();
    const a = connect();
    const b1: string[] = [];
    const b2: string[] = [];
    const plain: string[] = [];
    const other: string[] = [];
    a.subscribe('q', { queue: 'g', callback: (m) => b1.push(s(m)) });
    connect().subscribe('q', { queue: 'g', callback: (m) => b2.push(s(m)) });
    a.subscribe('q', { callback: (m) => plain.push(s(m)) });
    a.subscribe('*', { queue: 'h', callback: (m) => other.push(s(m)) });
    for (let i = 0; i < 10; i++) a.publish('q', b(String(i)));
    await a.flush();
    expect(b1.length + b2.length).toBe(10);
    expect(b1.length).toBeGreaterThan(0);
    expect(b2.length).toBeGreaterThan(0);
    expect(new Set([...b1, ...b2]).size).toBe(10);
    expect(plain).toHaveLength(10);
    expect(other).toHaveLength(10);
  });

  it('a throwing callback is logged and the subscription keeps going', async () => {
    const errors: unknown[] = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (o) => errors.push(o) };
    setup({ logger });
    const a = connect();
    const got: string[] = [];
    a.subscribe('t', {
      callback: (m) => {
        got.push(s(m));
        throw new Error('boom');
      },
    });
    a.publish('t', b('1'));
    a.publish('t', b('2'));
    await a.flush();
    expect(got).toEqual(['1', '2']);
    expect(errors).toHaveLength(2);
  });

  it('subscriptions are async iterables; leaving the loop unsubscribes', async () => {
    setup();
    const a = connect();
    const sub = a.subscribe('it');
    expect(a.subscriptionCount).toBe(1);
    a.publish('it', b('1'));
    a.publish('it', b('2'));
    a.publish('it', b('3'));
    const got: string[] = [];
    for await (const m of sub) {
      got.push(s(m));
      if (got.length === 2) break;
    }
    expect(got).toEqual(['1', '2']);
    expect(sub.isClosed).toBe(true);
    expect(a.subscriptionCount).toBe(0);
    expect(broker.stats().subscriptions).toBe(0);
  });

  it('unsubscribe ends a waiting iterator and stops delivery', async () => {
    setup();
    const a = connect();
    const sub = a.subscribe('it');
    const loop = (async () => {
      const got: string[] = [];
      for await (const m of sub) got.push(s(m));
      return got;
    })();
    a.publish('it', b('1'));
    await clock.tick();
    sub.unsubscribe();
    sub.unsubscribe(); // idempotent
    a.publish('it', b('2'));
    expect(await loop).toEqual(['1']);
  });

  it('rejects invalid subjects and oversize payloads with typed errors', () => {
    setup({ maxPayload: 10 });
    const a = connect();
    expect(() => a.publish('a..b', b('x'))).toThrow(InvalidSubjectError);
    expect(() => a.publish('a.*', b('x'))).toThrow(InvalidSubjectError);
    expect(() => a.subscribe('a.>.b')).toThrow(InvalidSubjectError);
    expect(() => a.subscribe('a b')).toThrow(InvalidSubjectError);
    expect(() => a.publish('a', new Uint8Array(11))).toThrow(PayloadTooLargeError);
    expect(() => a.publish('a', new Uint8Array(10))).not.toThrow();
  });

  it('copies the payload so the sender may reuse its buffer', async () => {
    setup();
    const a = connect();
    const got: string[] = [];
    a.subscribe('c', { callback: (m) => got.push(s(m)) });
    const buf = b('ab');
    a.publish('c', buf);
    buf[0] = 'z'.charCodeAt(0);
    await a.flush();
    expect(got).toEqual(['ab']);
  });
});

describe('MemoryBus request/reply', () => {
  it('resolves with the reply and releases the inbox and timer', async () => {
    setup();
    const server = connect('server');
    const client = connect('client');
    server.subscribe('svc', { callback: (m) => m.respond(b(`echo ${s(m)}`)) });
    const reply = await client.request('svc', b('x'), { timeoutMs: 1000 });
    expect(s(reply)).toBe('echo x');
    expect(clock.pending).toBe(0);
    expect(broker.stats().subscriptions).toBe(1);
    expect(client.subscriptionCount).toBe(0);
  });

  it('respond returns false when the message had no reply subject', async () => {
    setup();
    const a = connect();
    const results: boolean[] = [];
    a.subscribe('r', { callback: (m) => results.push(m.respond(b('x'))) });
    a.publish('r', b('1'));
    await a.flush();
    expect(results).toEqual([false]);
  });

  it('rejects at once with BusNoRespondersError when nobody subscribes', async () => {
    setup();
    const a = connect();
    a.subscribe('other', { callback: () => {} });
    await expect(a.request('nobody', b('x'), { timeoutMs: 1000 })).rejects.toBeInstanceOf(
      BusNoRespondersError,
    );
    expect(clock.pending).toBe(0);
  });

  it('wildcard and queue subscribers count as responders', async () => {
    setup();
    const a = connect();
    a.subscribe('svc.>', { queue: 'g', callback: (m) => m.respond(b('ok')) });
    expect(s(await a.request('svc.one.two', b(''), { timeoutMs: 100 }))).toBe('ok');
  });

  it('times out on the clock with BusTimeoutError and leaves nothing behind', async () => {
    setup();
    const a = connect();
    a.subscribe('slow', { callback: () => {} });
    const p = a.request('slow', b('x'), { timeoutMs: 500 });
    const settled = expect(p).rejects.toBeInstanceOf(BusTimeoutError);
    await clock.advance(499);
    expect(clock.pending).toBe(1);
    await clock.advance(1);
    await settled;
    expect(clock.pending).toBe(0);
    expect(broker.stats().subscriptions).toBe(1);
  });

  it('rejects with the signal reason when aborted', async () => {
    setup();
    const a = connect();
    a.subscribe('slow', { callback: () => {} });
    const ac = new AbortController();
    const p = a.request('slow', b('x'), { timeoutMs: 500, signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
    const ac2 = new AbortController();
    ac2.abort(new Error('already'));
    await expect(a.request('slow', b('x'), { timeoutMs: 5, signal: ac2.signal })).rejects.toThrow('already');
  });

  it('close rejects pending requests with BusClosedError and fails only its own', async () => {
    setup();
    const server = connect('server');
    const c1 = connect('c1');
    const c2 = connect('c2');
    const held: BusMsg[] = [];
    server.subscribe('svc', { callback: (m) => held.push(m) });
    const p1 = c1.request('svc', b('1'), { timeoutMs: 1000 });
    const p2 = c2.request('svc', b('2'), { timeoutMs: 1000 });
    await clock.tick();
    await c1.close();
    await expect(p1).rejects.toBeInstanceOf(BusClosedError);
    for (const m of held) m.respond(b(`r${s(m)}`));
    expect(s(await p2)).toBe('r2');
    expect(() => c1.publish('svc', b('x'))).toThrow(BusClosedError);
    await expect(c1.request('svc', b('x'), { timeoutMs: 5 })).rejects.toBeInstanceOf(BusClosedError);
    await c1.close(); // idempotent
    await c1.closed;
    expect(clock.pending).toBe(0);
  });
});

describe('MemoryBus drain and close', () => {
  it('drain delivers what was already published, then closes', async () => {
    setup();
    const a = connect('a');
    const pub = connect('pub');
    const got: string[] = [];
    a.subscribe('d', { callback: (m) => got.push(s(m)) });
    const iter = a.subscribe('d');
    pub.publish('d', b('1'));
    pub.publish('d', b('2'));
    const drained = a.drain();
    pub.publish('d', b('late'));
    await drained;
    expect(got).toEqual(['1', '2']);
    const fromIter: string[] = [];
    for await (const m of iter) fromIter.push(s(m));
    expect(fromIter).toEqual(['1', '2']);
    expect(a.isClosed).toBe(true);
    expect(a.subscriptionCount).toBe(0);
    expect(broker.stats().subscriptions).toBe(0);
    expect(broker.stats().connections).toBe(1);
  });

  it('close stops delivery of queued messages to its subscriptions only', async () => {
    setup();
    const a = connect();
    const c = connect();
    const gotA: string[] = [];
    const gotC: string[] = [];
    a.subscribe('k', { callback: (m) => gotA.push(s(m)) });
    c.subscribe('k', { callback: (m) => gotC.push(s(m)) });
    c.publish('k', b('1'));
    await a.close();
    await c.flush();
    expect(gotA).toEqual([]);
    expect(gotC).toEqual(['1']);
  });
});

describe('MemoryBus scale', () => {
  it('carries 1000 request/reply round trips quickly with exact-subject lookup', async () => {
    setup();
    const server = connect();
    const client = connect();
    // Many unrelated subscriptions must not slow exact routing down.
    for (let i = 0; i < 1000; i++) server.subscribe(`noise.${i}`, { callback: () => {} });
    server.subscribe('svc', { queue: 'q', callback: (m) => m.respond(m.data) });
    const t0 = performance.now();
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => client.request('svc', b(String(i)), { timeoutMs: 1000 })),
    );
    expect(replies.map(s)).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(clock.pending).toBe(0);
    expect(broker.stats().subscriptions).toBe(1001);
  });
});
