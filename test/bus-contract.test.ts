/**
 * Runs the Bus contract suite against every implementation: MemoryBus on a VirtualClock, and NatsBus on
 * a real nats-server started by the harness on a free port.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Bus } from '../src/bus/bus.js';
import { MemoryBroker } from '../src/bus/memory-bus.js';
import { NatsBus } from '../src/bus/nats-bus.js';
import { VirtualClock } from '../src/clock/index.js';
import { describeBusContract } from './support/bus-contract.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';

describeBusContract('MemoryBus', async () => {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const buses: Bus[] = [broker.connect('a'), broker.connect('b'), broker.connect('c')];
  return {
    buses,
    timeoutMs: 1_000,
    elapse: (ms) => clock.advance(ms),
    cleanup: async () => {
      await broker.close();
    },
  };
});

let server: NatsServerHandle;
beforeAll(async () => {
  // a small max_payload keeps the oversize case cheap on a socket
  server = await startNatsServer({ maxPayload: 64 * 1024 });
});
afterAll(async () => {
  await server.stop();
});

describeBusContract('NatsBus', async () => {
  const buses = await Promise.all(
    ['a', 'b', 'c'].map((name) => NatsBus.connect({ servers: server.url, name: `contract-${name}` })),
  );
  return {
    buses,
    // real time: short, but long enough for a loopback round trip on a busy CI machine
    timeoutMs: 150,
    elapse: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    cleanup: async () => {
      await Promise.all(buses.map((bus) => bus.close()));
    },
  };
});
