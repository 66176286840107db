/**
 * The originator's connection-loss policy (§2.6, §3.3; §3.5 cases 26/27 are in reliability.test.ts):
 * `keep` (default) and `cancel` on MemoryBus's simulated disconnect, the FaultBus passthrough, and a
 * real nats-server killed under a `cancel` client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startNatsServer } from '../../test/support/nats-server.js';
import { FaultBus } from '../bus/fault-bus.js';
import type { Bus } from '../bus/index.js';
import { MemoryBroker } from '../bus/memory-bus.js';
import { NatsBus } from '../bus/nats-bus.js';
import { RealClock, VirtualClock } from '../clock/index.js';
import { RpcClient } from './client.js';
import { DisconnectedError } from './disconnect.js';
import { RpcConfigError } from './errors.js';
import type { DisconnectPolicy } from './disconnect.js';
import { RpcServer } from './server.js';
import { track } from '../../test/support/track.js';

const NODE = 'cn.xswitch.node';
const OWN = 'cn.xswitch.ctrl.c1';
const ctrlSubject = (c: string): string => `cn.xswitch.ctrl.${c}`;

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

function setup(onDisconnect?: DisconnectPolicy) {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const ctrlBus = broker.connect('ctrl');
  let runs = 0;
  const server = new RpcServer(broker.connect('node'), clock, {
    subjects: [{ subject: NODE, queue: 'xnode' }],
    handlers: {
      'XNode.Slow': async (_p, ctx) => {
        runs += 1;
        await clock.sleep(1000, ctx.signal).catch(() => {});
        return { code: 200, message: 'done' };
      },
    },
    ctrlSubject,
    reliability: {},
  });
  server.start();
  const unexpected: unknown[] = [];
  const client = new RpcClient(ctrlBus, clock, {
    ctrlUuid: 'c1',
    ownSubject: OWN,
    onUnexpected: (r) => unexpected.push(r.id),
    reliability: { originator: 'c1', epoch: 'e1', ...(onDisconnect ? { onDisconnect } : {}) },
  });
  client.start();
  cleanup = async () => {
    await client.close();
    await server.stop();
    await broker.close();
    expect(clock.pending).toBe(0);
  };
  return { clock, ctrlBus, server, client, unexpected, runs: () => runs };
}

describe('onDisconnect policy (§3.3)', () => {
  it("'cancel': a disconnect fails every call in flight with DisconnectedError (DISCONNECTED) and releases its timers", async () => {
    const x = setup('cancel');
    const calls = [
      track(x.client.call(NODE, 'XNode.Slow', {})),
      track(x.client.call(NODE, 'XNode.Slow', {})),
    ];
    await x.clock.advance(100);
    expect(x.client.pending).toBe(2);
    x.ctrlBus.simulateDisconnect();
    await x.clock.advance(0);
    for (const c of calls) {
      expect(c.error).toBeInstanceOf(DisconnectedError);
      expect(c.error).toMatchObject({ codeName: 'DISCONNECTED', method: 'XNode.Slow' });
    }
    expect(x.client.pending).toBe(0);
    // The answers that still come go to onUnexpected.
    await x.clock.advance(1000);
    expect(x.unexpected).toEqual(['c1:e1:1', 'c1:e1:2']);
    // The client stays usable.
    const again = track(x.client.call(NODE, 'XNode.Slow', {}));
    await x.clock.advance(1000);
    expect(again.value).toMatchObject({ code: 200 });
    await x.clock.advance(60_000);
  });

  it("'keep' (the default): a disconnect changes nothing; the calls complete", async () => {
    const x = setup();
    const call = track(x.client.call(NODE, 'XNode.Slow', {}));
    await x.clock.advance(100);
    x.ctrlBus.simulateDisconnect();
    await x.clock.advance(900);
    expect(call.value).toMatchObject({ code: 200 });
    expect(x.runs()).toBe(1);
    await x.clock.advance(60_000);
  });

  it('close() stops listening: a later disconnect touches nothing', async () => {
    const x = setup('cancel');
    await x.client.close();
    expect(() => x.ctrlBus.simulateDisconnect()).not.toThrow();
    await x.clock.advance(60_000);
  });

  it("'cancel' on a bus that reports no disconnects is refused at construction", () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    const inner = broker.connect();
    const silent = new Proxy(inner, {
      get(target, prop) {
        if (prop === 'onDisconnect') return undefined;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Bus;
    expect(
      () =>
        new RpcClient(silent, clock, {
          ctrlUuid: 'c1',
          ownSubject: OWN,
          reliability: { originator: 'c1', onDisconnect: 'cancel' },
        }),
    ).toThrow(RpcConfigError);
  });

  it('FaultBus passes onDisconnect through to the bus it wraps', () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    const inner = broker.connect();
    const fault = new FaultBus(inner);
    let heard = 0;
    const off = fault.onDisconnect(() => heard++);
    inner.simulateDisconnect();
    off();
    inner.simulateDisconnect();
    expect(heard).toBe(1);
  });
});

describe('onDisconnect over a real nats-server', () => {
  it("a killed nats-server fires NatsBus.onDisconnect and a 'cancel' client fails its call with DisconnectedError", async () => {
    const server = await startNatsServer();
    const bus = await NatsBus.connect({ servers: server.url, reconnectTimeWaitMs: 50 });
    const clock = new RealClock();
    const client = new RpcClient(bus, clock, {
      ctrlUuid: 'c1',
      ownSubject: OWN,
      // Long legs: only the disconnect can end this call while the test runs.
      reliability: {
        originator: 'c1',
        onDisconnect: 'cancel',
        requestTimer: { waitMs: 60_000, maxRetries: 0 },
      },
    });
    client.start();
    try {
      const settled = client.call(NODE, 'XNode.Slow', {}).then(
        () => undefined,
        (err: unknown) => err,
      );
      await bus.flush();
      server.kill();
      const err = await settled;
      expect(err).toBeInstanceOf(DisconnectedError);
      expect(client.pending).toBe(0);
      expect(clock.pending).toBe(0);
    } finally {
      await client.close();
      await bus.close();
      await server.stop();
    }
  });
});
