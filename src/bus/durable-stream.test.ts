// Durable call records on a real nats-server with JetStream (-js): the CDR stream is set up
// idempotently, a durable consumer that was offline gets every record once when it returns, acked
// records stay acked across restarts, a failed handler gets its message again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type NatsServerHandle, startNatsServer } from '../../test/support/nats-server.js';
import {
  DEFAULT_CDR_STREAM,
  DurableConsumer,
  type DurableConsumerOptions,
  type DurableHandler,
  type DurableMsg,
  DurableStreamError,
  ensureCdrStream,
} from './durable-stream.js';
import { NatsBus } from './nats-bus.js';

const CDR = 'cn.xswitch.cdr';
const enc = new TextEncoder();
const dec = new TextDecoder();

const opened: {
  servers: NatsServerHandle[];
  buses: NatsBus[];
  consumers: DurableConsumer[];
  dirs: string[];
} = { servers: [], buses: [], consumers: [], dirs: [] };
afterEach(async () => {
  await Promise.all(opened.consumers.splice(0).map((c) => c.close()));
  await Promise.all(opened.buses.splice(0).map((b) => b.close()));
  await Promise.all(opened.servers.splice(0).map((s) => s.stop()));
  await Promise.all(opened.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A nats-server with JetStream storing in a fresh temporary folder, and one connection to it. */
async function jetStreamBus(): Promise<NatsBus> {
  const dir = await mkdtemp(join(tmpdir(), 'openxcc-js-'));
  opened.dirs.push(dir);
  const server = await startNatsServer({ args: ['-js', '-sd', dir] });
  opened.servers.push(server);
  const bus = await NatsBus.connect({ servers: server.url, name: 'durable-test' });
  opened.buses.push(bus);
  return bus;
}

async function start(
  bus: NatsBus,
  handler: DurableHandler,
  options: Partial<DurableConsumerOptions> = {},
): Promise<DurableConsumer> {
  const consumer = await DurableConsumer.start(
    bus,
    { stream: DEFAULT_CDR_STREAM, durable: 'cdr-db', retryDelayMs: 0, ...options },
    handler,
  );
  opened.consumers.push(consumer);
  return consumer;
}

/** An `Event.CDR` notification as a node publishes it. */
function cdrRecord(uuid: string): Uint8Array {
  return enc.encode(
    JSON.stringify({
      jsonrpc: '2.0',
      method: 'Event.CDR',
      params: {
        uuid,
        node_uuid: 'node-1',
        node_ip: '127.0.0.1',
        cdr: { uuid, hangup_cause: 'NORMAL_CLEARING' },
      },
    }),
  );
}

function uuidOf(msg: DurableMsg): string {
  const parsed = JSON.parse(dec.decode(msg.data)) as { params: { uuid: string } };
  return parsed.params.uuid;
}

/** Resolves once `count()` reaches `n`; checked each time `poke()` is called. */
function counter(n: number): { poke(): void; reached: Promise<void> } {
  let seen = 0;
  let resolve!: () => void;
  const reached = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    poke: () => {
      if (++seen === n) resolve();
    },
    reached,
  };
}

async function consumerState(bus: NatsBus) {
  const jsm = await bus.jetstreamManager();
  const info = await jsm.consumers.info(DEFAULT_CDR_STREAM, 'cdr-db');
  return {
    pending: info.num_pending,
    ackPending: info.num_ack_pending,
    ackFloor: info.ack_floor.stream_seq,
    redelivered: info.num_redelivered,
  };
}

describe('CDR stream', () => {
  it('is created once and updated only when its subjects or limits change; it stores core publishes on the CDR subject only', async () => {
    const bus = await jetStreamBus();
    const first = await ensureCdrStream(bus, { subjects: [CDR] });
    expect(first).toMatchObject({ name: DEFAULT_CDR_STREAM, created: true, updated: false, messages: 0 });
    const again = await ensureCdrStream(bus, { subjects: [CDR] });
    expect(again).toMatchObject({ created: false, updated: false });

    bus.publish(CDR, cdrRecord('a'));
    bus.publish(CDR, cdrRecord('b'));
    bus.publish(`${CDR}.story`, enc.encode('{}')); // stories published by `cdr listen --publish`: not captured
    await bus.flush();
    const stored = await ensureCdrStream(bus, { subjects: [CDR] });
    expect(stored).toMatchObject({ created: false, updated: false, messages: 2, lastSeq: 2 });

    const longer = await ensureCdrStream(bus, { subjects: [CDR], maxAgeMs: 90 * 86_400_000 });
    expect(longer).toMatchObject({ created: false, updated: true, messages: 2 });
    const jsm = await bus.jetstreamManager();
    const info = await jsm.streams.info(DEFAULT_CDR_STREAM);
    expect(info.config).toMatchObject({ retention: 'limits', storage: 'file', subjects: [CDR] });
    expect(info.config.max_age).toBe(90 * 86_400_000 * 1_000_000);
  });

  it('without JetStream on the server: DurableStreamError naming the cause, the bus keeps working', async () => {
    const server = await startNatsServer();
    opened.servers.push(server);
    const bus = await NatsBus.connect({ servers: server.url });
    opened.buses.push(bus);
    const err = await ensureCdrStream(bus, { subjects: [CDR] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DurableStreamError);
    expect((err as DurableStreamError).kind).toBe('jetstream-unavailable');
    expect((err as Error).message).toMatch(/-js/);
    const sub = bus.subscribe('x.y');
    bus.publish('x.y', enc.encode('still fine'));
    for await (const m of sub) {
      expect(dec.decode(m.data)).toBe('still fine');
      break;
    }
  });

  it('a consumer on a missing stream: DurableStreamError not-found', async () => {
    const bus = await jetStreamBus();
    const err = await DurableConsumer.start(bus, { stream: 'NOPE', durable: 'x' }, () =>
      Promise.resolve(),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DurableStreamError);
    expect((err as DurableStreamError).kind).toBe('not-found');
  });
});

describe('durable CDR consumer', () => {
  it('a CDR consumer offline during 1,000 records gets all 1,000 exactly once after it returns; acked ones are not redelivered after another restart', async () => {
    const bus = await jetStreamBus();
    await ensureCdrStream(bus, { subjects: [CDR] });
    // The consumer existed and went away: nothing delivered while it is down.
    const before = await start(bus, () => Promise.resolve());
    await before.close();
    expect(before.stats.handled).toBe(0);

    const TOTAL = 1000;
    const published = new Set<string>();
    for (let i = 0; i < TOTAL; i++) {
      const uuid = `call-${i}`;
      published.add(uuid);
      bus.publish(CDR, cdrRecord(uuid));
    }
    await bus.flush();
    expect(await consumerState(bus)).toMatchObject({ pending: TOTAL, ackPending: 0 });

    const seen: DurableMsg[] = [];
    const all = counter(TOTAL);
    const back = await start(bus, (msg) => {
      seen.push(msg);
      all.poke();
      return Promise.resolve();
    });
    await all.reached;
    await back.close(); // waits for the server to confirm every ack
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen.map((m) => m.seq)).size).toBe(TOTAL);
    expect(new Set(seen.map(uuidOf))).toEqual(published);
    expect(seen.every((m) => m.deliveryCount === 1)).toBe(true);
    expect(back.stats).toMatchObject({ handled: TOTAL, acked: TOTAL, failed: 0, ackFailures: 0 });
    expect(back.inFlight).toBe(0);
    expect(await consumerState(bus)).toEqual({ pending: 0, ackPending: 0, ackFloor: TOTAL, redelivered: 0 });

    // Another restart: only what was published since comes.
    const later: DurableMsg[] = [];
    const one = counter(1);
    const again = await start(bus, (msg) => {
      later.push(msg);
      one.poke();
      return Promise.resolve();
    });
    bus.publish(CDR, cdrRecord('after-restart'));
    await one.reached;
    await again.close();
    expect(later.map(uuidOf)).toEqual(['after-restart']);
    expect(later[0]!.seq).toBe(TOTAL + 1);
    expect(await consumerState(bus)).toEqual({
      pending: 0,
      ackPending: 0,
      ackFloor: TOTAL + 1,
      redelivered: 0,
    });
  });

  it('a handler failure gets the message redelivered; it is acked once the handler succeeds', async () => {
    const bus = await jetStreamBus();
    await ensureCdrStream(bus, { subjects: [CDR] });
    for (let i = 1; i <= 5; i++) bus.publish(CDR, cdrRecord(`call-${i}`));
    await bus.flush();
    const calls: { uuid: string; delivery: number }[] = [];
    const done = counter(6);
    const consumer = await start(bus, (msg) => {
      const uuid = uuidOf(msg);
      calls.push({ uuid, delivery: msg.deliveryCount });
      done.poke();
      // The store is down for call-3's first write.
      if (uuid === 'call-3' && msg.deliveryCount === 1) return Promise.reject(new Error('store down'));
      return Promise.resolve();
    });
    await done.reached;
    await consumer.close();
    expect(calls.filter((c) => c.uuid === 'call-3')).toEqual([
      { uuid: 'call-3', delivery: 1 },
      { uuid: 'call-3', delivery: 2 },
    ]);
    expect(calls.filter((c) => c.uuid !== 'call-3').every((c) => c.delivery === 1)).toBe(true);
    expect(consumer.stats).toMatchObject({ handled: 6, failed: 1, acked: 5 });
    expect(await consumerState(bus)).toMatchObject({ pending: 0, ackPending: 0, ackFloor: 5 });
  });

  it('stopping with handlers unfinished gives their messages back: the next run handles them, the first never acks them', async () => {
    const bus = await jetStreamBus();
    await ensureCdrStream(bus, { subjects: [CDR] });
    for (let i = 1; i <= 3; i++) bus.publish(CDR, cdrRecord(`call-${i}`));
    await bus.flush();
    const got = counter(3);
    let resolveLate!: () => void;
    const late = new Promise<void>((r) => {
      resolveLate = r;
    });
    // ack wait far longer than the test: a redelivery here can only come from the nak at close.
    const first = await start(
      bus,
      () => {
        got.poke();
        return late;
      },
      { ackWaitMs: 600_000 },
    );
    await got.reached;
    expect(first.inFlight).toBe(3);
    await first.close();
    expect(first.stats).toMatchObject({ handled: 3, released: 3, acked: 0 });
    resolveLate(); // a handler finishing after close does not ack a message given back
    await late;
    expect(first.stats.acked).toBe(0);

    const seen: DurableMsg[] = [];
    const again = counter(3);
    const second = await start(
      bus,
      (msg) => {
        seen.push(msg);
        again.poke();
        return Promise.resolve();
      },
      { ackWaitMs: 600_000 },
    );
    await again.reached;
    await second.close();
    expect(seen.map(uuidOf).sort()).toEqual(['call-1', 'call-2', 'call-3']);
    expect(seen.every((m) => m.deliveryCount === 2)).toBe(true);
    expect(await consumerState(bus)).toMatchObject({ pending: 0, ackPending: 0, ackFloor: 3 });
  });
});
