/**
 * Durable call records end to end (issue 6): a real XNode and Controller on a real nats-server with
 * JetStream run 1,000 calls while the CDR listener is down; when it returns, the same code
 * `xcc cdr listen --durable` runs (StoryAcks + StorySink + story engine + startDurableCdr) catches up
 * and writes exactly 1,000 stories to a SQLite store, acking every record once its story is stored.
 *
 * Node and controller run on the real clock (real sockets); the story engine runs on a VirtualClock,
 * so its reorder window and 30 s quiet time pass by `advance()` instead of by waiting.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CDR_STREAM, ensureCdrStream, NatsBus } from '../src/bus/index.js';
import { RealClock, VirtualClock } from '../src/clock/index.js';
import { openStore, type Store } from '../src/cdr/store/index.js';
import { type DurableCdr, StoryAcks, startDurableCdr } from '../src/cli/cdr-durable.js';
import { startStoryEngine } from '../src/cli/cdr-engine.js';
import { StorySink } from '../src/cli/cdr-sink.js';
import type { CliIo } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { Controller } from '../src/ctrl/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';
import { subjects } from '../src/protocol/subjects.js';
import { deferred, withTimeout } from './support/fixtures.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';
import { until } from './support/poll.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function quietIo(lines: string[]): CliIo {
  const never = new AbortController();
  return {
    out: () => undefined,
    err: (line) => lines.push(line),
    env: {},
    stop: never.signal,
    force: never.signal,
  };
}

/** The durable listener as `xcc cdr listen --durable` builds it, with its engine on `clock`. */
async function startListener(bus: NatsBus, store: Store, clock: VirtualClock, stderr: string[]) {
  const acks = new StoryAcks();
  const sink = new StorySink({ io: quietIo(stderr), print: false, store, onHandled: acks.handled });
  const engine = startStoryEngine({
    clock,
    onStory: (story) => sink.accept(story),
    onError: (error, id) => {
      stderr.push(`story ${id} skipped: ${String(error)}`);
      acks.failed(error, id);
    },
  });
  const listener: DurableCdr = await startDurableCdr({
    bus,
    stream: DEFAULT_CDR_STREAM,
    durable: 'cdr-sqlite',
    cdrSubject: subjects().cdr,
    engine,
    sink,
    acks,
    report: (line) => stderr.push(line),
  });
  return { listener, sink, acks };
}

describe('durable call records over JetStream', () => {
  it('a CDR consumer offline during 1,000 calls: all records delivered after it returns, 1,000 stories stored, none twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openxcc-cdr-durable-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const server: NatsServerHandle = await startNatsServer({ args: ['-js', '-sd', join(dir, 'js')] });
    cleanup.push(() => server.stop());
    const connect = async (name: string): Promise<NatsBus> => {
      const bus = await NatsBus.connect({ servers: server.url, name });
      cleanup.push(() => bus.close());
      return bus;
    };

    // What `xcc node --cdr-stream XCC_CDR` does at start.
    const nodeBus = await connect('node');
    expect(await ensureCdrStream(nodeBus, { subjects: [subjects().cdr] })).toMatchObject({ created: true });

    const store = await openStore(`sqlite:${join(dir, 'cdr.db')}`);
    cleanup.push(() => store.close());
    const cdrBus = await connect('cdr');
    const engineClock = new VirtualClock(Date.now());
    const stderr: string[] = [];

    // The listener ran once (its durable consumer exists), then went down.
    const before = await startListener(cdrBus, store, engineClock, stderr);
    await before.listener.close();
    expect(before.listener.counts.records).toBe(0);

    // 1,000 calls while it is down.
    const clock = new RealClock();
    const media = new SimMedia({ clock, directory: {} });
    const node = new XNode({ bus: nodeBus, clock, media });
    await node.start();
    cleanup.push(async () => {
      await node.stop();
      await media.stop();
    });
    const ctrlBus = await connect('ctrl');
    const ctrl = new Controller({ bus: ctrlBus, clock });
    await ctrl.start();
    cleanup.push(() => ctrl.close());
    const TOTAL = 1000;
    let finished = 0;
    let failures = 0;
    const all = deferred<void>();
    ctrl.onCall(async (call) => {
      try {
        await call.answer();
        await call.hangup();
      } catch {
        failures++;
      } finally {
        if (++finished === TOTAL) all.resolve();
      }
    });
    const injected = new Set<string>();
    for (let i = 0; i < TOTAL; i++) {
      injected.add(
        node.inject({
          cid_name: 'Caller',
          cid_number: `1${String(i).padStart(9, '0')}`,
          dest_number: '1000',
        }),
      );
      // Bursts of 100, so the run looks like traffic rather than one spike.
      if (i % 100 === 99) await nodeBus.flush();
    }
    await withTimeout(all.promise, 120_000);
    expect(failures).toBe(0);
    const jsm = await cdrBus.jetstreamManager();
    await until('1,000 records stored in the stream', async () => {
      const info = await jsm.streams.info(DEFAULT_CDR_STREAM);
      return info.state.messages >= TOTAL;
    });
    expect((await jsm.streams.info(DEFAULT_CDR_STREAM)).state.messages).toBe(TOTAL);
    expect(await store.count()).toBe(0);

    // The listener returns and catches up.
    const back = await startListener(cdrBus, store, engineClock, stderr);
    await until('every record handed to the engine', () => back.listener.counts.records === TOTAL);
    // Nothing is acked before its story is stored.
    expect(back.listener.consumer.stats.acked).toBe(0);
    // Reorder window, then the quiet time after the last leg ended: the stories are final.
    await engineClock.advance(3_000);
    await engineClock.advance(31_000);
    await until('every record acked', () => back.listener.consumer.stats.acked === TOTAL);
    await back.listener.close();

    expect(back.listener.consumer.stats).toMatchObject({
      handled: TOTAL,
      acked: TOTAL,
      failed: 0,
      duplicates: 0,
      released: 0,
      ackFailures: 0,
    });
    expect(back.listener.counts).toEqual({ records: TOTAL, skipped: 0 });
    expect(back.sink.stats).toMatchObject({ stories: TOTAL, saved: TOTAL, failures: 0 });
    expect(await store.count()).toBe(TOTAL);
    const stories = await store.list({}, { limit: TOTAL + 1 });
    expect(new Set(stories.map((s) => s.id))).toEqual(injected);
    for (const story of stories) {
      expect(story.version).toBe(1);
      expect(story.legs.map((l) => l.uuid)).toEqual([story.id]);
      // Times come from the records (CDR stamps), not from when the listener caught up.
      expect(story.answeredAt).toBeDefined();
      expect(story.endedAt).toBeGreaterThanOrEqual(story.startedAt);
    }
    const consumer = await jsm.consumers.info(DEFAULT_CDR_STREAM, 'cdr-sqlite');
    expect(consumer.num_pending).toBe(0);
    expect(consumer.num_ack_pending).toBe(0);
    expect(consumer.ack_floor.stream_seq).toBe(TOTAL);
    expect(consumer.num_redelivered).toBe(0);
    // Nothing left behind: engine timers, waiting records, calls.
    expect(engineClock.pending).toBe(0);
    expect(back.acks.size).toBe(0);
    expect(node.channelCount).toBe(0);
    expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, rpcPending: 0 });
    expect(stderr).toEqual([]);
  }, 180_000);
});

/** An `Event.CDR` as a node publishes it (one leg, answered, 1 s talk). */
function cdrRecord(uuid: string, at: Date): Uint8Array {
  const stamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const t = at.getTime();
  const cdr = {
    uuid,
    caller_id_name: 'Caller',
    caller_id_number: '1000000001',
    destination_number: '1000',
    start_stamp: stamp(t),
    answer_stamp: stamp(t),
    end_stamp: stamp(t + 1000),
    duration: '1',
    billsec: '1',
    hangup_cause: 'NORMAL_CLEARING',
    direction: 'inbound',
    peer_uuid: '',
  };
  const params = { uuid, node_uuid: 'node-1', node_ip: '127.0.0.1', cdr };
  return new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', method: 'Event.CDR', params }));
}

async function jetStream(): Promise<{ server: NatsServerHandle; dir: string; bus: NatsBus }> {
  const dir = await mkdtemp(join(tmpdir(), 'openxcc-cdr-durable-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const server = await startNatsServer({ args: ['-js', '-sd', join(dir, 'js')] });
  cleanup.push(() => server.stop());
  const bus = await NatsBus.connect({ servers: server.url, name: 'test' });
  cleanup.push(() => bus.close());
  return { server, dir, bus };
}

describe('durable listener: store failures and the CLI', () => {
  it('a story whose store write fails: its record comes again, the story is stored, then acked', async () => {
    const { dir, bus } = await jetStream();
    await ensureCdrStream(bus, { subjects: [subjects().cdr] });
    const real = await openStore(`sqlite:${join(dir, 'cdr.db')}`);
    cleanup.push(() => real.close());
    let failOnce = true;
    // The database refuses the first write of call-2 (e.g. locked), accepts everything else.
    const store: Store = Object.assign(Object.create(real) as Store, {
      save: (story: Parameters<Store['save']>[0]) => {
        if (story.id === 'call-2' && failOnce) {
          failOnce = false;
          return Promise.reject(new Error('database is locked'));
        }
        return real.save(story);
      },
    });
    for (const id of ['call-1', 'call-2', 'call-3']) bus.publish(subjects().cdr, cdrRecord(id, new Date()));
    await bus.flush();
    const clock = new VirtualClock(Date.now());
    const stderr: string[] = [];
    const acks = new StoryAcks();
    const sink = new StorySink({ io: quietIo(stderr), print: false, store, onHandled: acks.handled });
    const engine = startStoryEngine({ clock, onStory: (s) => sink.accept(s), onError: acks.failed });
    const listener = await startDurableCdr({
      bus,
      stream: DEFAULT_CDR_STREAM,
      durable: 'cdr-sqlite',
      cdrSubject: subjects().cdr,
      engine,
      sink,
      acks,
      retryDelayMs: 1,
      report: (line) => stderr.push(line),
    });
    cleanup.push(() => listener.close());
    await until('3 records in the engine', () => listener.counts.records === 3);
    await clock.advance(3_000);
    await clock.advance(31_000);
    await until('the failed record back in the engine', () => listener.counts.records === 4);
    expect(listener.consumer.stats).toMatchObject({ acked: 2, failed: 1 });
    // The call reopens with the late record and is final again after the quiet time.
    await clock.advance(3_000);
    await clock.advance(31_000);
    await until('all acked', () => listener.consumer.stats.acked === 3);
    await listener.close();
    expect(stderr).toEqual(['xcc cdr: story call-2 not saved: database is locked']);
    expect(await real.count()).toBe(3);
    expect((await real.get('call-2'))?.version).toBe(2);
    const jsm = await bus.jetstreamManager();
    const info = await jsm.consumers.info(DEFAULT_CDR_STREAM, 'cdr-sqlite');
    expect(info).toMatchObject({ num_pending: 0, num_ack_pending: 0 });
    expect(clock.pending).toBe(0);
  });

  it('xcc cdr listen --nats URL --durable NAME --db: catches up on records sent before it started, exits 0 on Ctrl-C', async () => {
    const { server, dir, bus } = await jetStream();
    await ensureCdrStream(bus, { name: 'CDRS', subjects: [subjects().cdr] });
    for (let i = 1; i <= 20; i++) bus.publish(subjects().cdr, cdrRecord(`call-${i}`, new Date()));
    await bus.flush();
    const db = `sqlite:${join(dir, 'cli.db')}`;
    const stop = new AbortController();
    const stderr: string[] = [];
    const io: CliIo = {
      out: () => undefined,
      err: (line) => stderr.push(line),
      env: { XCC_LOG_LEVEL: 'error' },
      stop: stop.signal,
      force: new AbortController().signal,
    };
    const args = ['cdr', 'listen', '--nats', server.url, '--durable', 'cli-db', '--stream', 'CDRS'];
    const run = main(['node', 'xcc', ...args, '--db', db, '--quiet', '--finalize-after', '0.2'], io);
    const jsm = await bus.jetstreamManager();
    await until('20 records acked', async () => {
      const info = await jsm.consumers.info('CDRS', 'cli-db').catch(() => undefined);
      return info !== undefined && info.ack_floor.stream_seq === 20 && info.num_ack_pending === 0;
    });
    stop.abort();
    expect(await run).toBe(0);
    expect(stderr.at(-1)).toMatch(/^xcc cdr listen: 20 stories, 20 saved/);
    expect(stderr).toContainEqual(expect.stringMatching(/20 records, 20 acked, 0 given back/));
    const store = await openStore(db, { readonly: true });
    cleanup.push(() => store.close());
    expect(await store.count()).toBe(20);
  });

  it('bad flag combinations: one line, exit 2', async () => {
    const lines: string[] = [];
    const io = quietIo(lines);
    expect(await main(['node', 'xcc', 'cdr', 'listen', '--stream', 'S'], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/--stream goes with --durable/);
    lines.length = 0;
    const esl = ['--esl', '127.0.0.1:8021', '--password', 'x', '--durable', 'd'];
    expect(await main(['node', 'xcc', 'cdr', 'listen', ...esl], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/--durable .*does not go with --esl/);
    lines.length = 0;
    expect(await main(['node', 'xcc', 'cdr', 'listen', '--durable', 'a.b'], io)).toBe(2);
  });

  it('--durable on a server without JetStream: a clear error naming -js, exit 1', async () => {
    const server = await startNatsServer();
    cleanup.push(() => server.stop());
    const lines: string[] = [];
    const code = await main(
      ['node', 'xcc', 'cdr', 'listen', '--nats', server.url, '--durable', 'd'],
      quietIo(lines),
    );
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/--durable d: .*JetStream.*-js/);
  });
});
