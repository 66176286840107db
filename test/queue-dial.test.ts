// §3.5 case 15 for real: two XNodes in the `cn.xswitch.node` queue group on a real nats-server with
// JetStream, sharing a KV claim store; the same XNode.Dial (same id, same bytes, from a reliable
// originator) reaches both members, and exactly one call exists. Real time on purpose: real sockets,
// a real server and its queue-group routing; waits are for messages, guarded by a real-time limit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Bus,
  type BusMsg,
  type SubscribeOptions,
  type Subscription,
  WrappedBus,
} from '../src/bus/index.js';
import { KvClaimStore } from '../src/bus/kv-claim-store.js';
import { NatsBus } from '../src/bus/nats-bus.js';
import { RealClock } from '../src/clock/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';
import { decode, type RpcResponse } from '../src/protocol/envelope.js';
import { subjects } from '../src/protocol/subjects.js';
import { RpcClient } from '../src/rpc/client.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';
import { until } from './support/poll.js';

const s = subjects();
const WAIT_MS = 5_000;

/**
 * A Bus that records the subject and JSON-RPC id of every message delivered to its subscriptions.
 * It reports no disconnects: `WrappedBus` has no `onDisconnect` and this spy adds none.
 */
class SpyBus extends WrappedBus {
  readonly delivered: { subject: string; id: unknown }[] = [];
  override subscribe(subject: string, options: SubscribeOptions = {}): Subscription {
    const callback = options.callback;
    if (callback === undefined) return this.inner.subscribe(subject, options);
    return this.inner.subscribe(subject, {
      ...options,
      callback: (msg: BusMsg) => {
        const d = decode(msg.data);
        this.delivered.push({ subject: msg.subject, id: d.kind === 'request' ? d.message.id : undefined });
        callback(msg);
      },
    });
  }
}

const opened: {
  server?: NatsServerHandle;
  dir?: string;
  nodes: XNode[];
  stores: KvClaimStore[];
  buses: Bus[];
  client?: RpcClient;
} = { nodes: [], stores: [], buses: [] };

afterEach(async () => {
  await opened.client?.close();
  for (const node of opened.nodes.splice(0)) await node.stop();
  await Promise.all(opened.stores.splice(0).map((st) => st.close()));
  await Promise.all(opened.buses.splice(0).map((b) => b.close()));
  await opened.server?.stop();
  if (opened.dir !== undefined) await rm(opened.dir, { recursive: true, force: true });
  opened.client = undefined;
  opened.server = undefined;
  opened.dir = undefined;
});

describe('queue group + JetStream KV claims on a real nats-server (§3.5 case 15)', () => {
  it('case 15: the same XNode.Dial delivered to both queue-group members creates exactly one call, and the Dial resolves once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openxcc-js-'));
    opened.dir = dir;
    const server = await startNatsServer({ args: ['-js', '-sd', dir] });
    opened.server = server;
    const clock = new RealClock();
    const connect = async (name: string): Promise<Bus> => {
      const bus = await NatsBus.connect({ servers: server.url, name });
      opened.buses.push(bus);
      return bus;
    };

    const nodes: { node: XNode; spy: SpyBus }[] = [];
    for (const name of ['node-a', 'node-b']) {
      // Each node process has its own connection to the claim bucket, as in production.
      const store = await KvClaimStore.connect(
        { servers: server.url, name: `${name}-kv` },
        { minTtlMs: 120_000 },
      );
      opened.stores.push(store);
      const spy = new SpyBus(await connect(name));
      const media = new SimMedia({ clock, directory: { '1000': { answer_after_ms: 300 } } });
      const node = new XNode({ bus: spy, clock, media, nodeUuid: name, reliability: { claims: { store } } });
      await node.start();
      opened.nodes.push(node);
      nodes.push({ node, spy });
    }

    // Every copy of the request published to the queue subject, as sent (a plain subscriber sees them all).
    const probe = await connect('probe');
    const sent: Uint8Array[] = [];
    probe.subscribe(s.node, { callback: (m) => sent.push(m.data) });
    const answers: RpcResponse[] = [];
    probe.subscribe(s.ctrlOf('c1'), {
      callback: (m) => {
        const d = decode(m.data);
        if (d.kind === 'response') answers.push(d.message);
      },
    });
    await probe.flush();

    const unexpected: RpcResponse[] = [];
    const client = new RpcClient(await connect('ctrl'), clock, {
      ctrlUuid: 'c1',
      ownSubject: s.ctrlOf('c1'),
      reliability: { originator: 'c1' },
      onUnexpected: (r) => unexpected.push(r),
    });
    opened.client = client;
    client.start();
    let resolutions = 0;
    const dial = client
      .call(s.node, 'XNode.Dial', { destination: { call_params: [{ uuid: 'leg1', dest_number: '1000' }] } })
      .then((result) => {
        resolutions += 1;
        return result;
      });

    // NATS picks a queue member at random: resend the same bytes until both members have received it
    // on the queue subject (each copy is a legitimate resend of the transaction).
    await until('the first Dial on the wire', () => sent.length >= 1, WAIT_MS);
    const bytes = sent[0]!;
    const id = (decode(bytes) as { kind: 'request'; message: { id: string } }).message.id;
    const gotIt = (spy: SpyBus): boolean => spy.delivered.some((d) => d.subject === s.node && d.id === id);
    const copies = (): number =>
      nodes.reduce(
        (n, x) => n + x.spy.delivered.filter((d) => d.subject === s.node && d.id === id).length,
        0,
      );
    await until('the first copy to reach a member', () => copies() >= 1, WAIT_MS);
    for (let i = 0; i < 40 && !nodes.every((n) => gotIt(n.spy)); i++) {
      const before = copies();
      probe.publish(s.node, bytes);
      await until('the resent copy to reach a member', () => copies() > before, WAIT_MS);
    }
    expect(nodes.every((n) => gotIt(n.spy))).toBe(true);
    for (const copy of sent) expect(Buffer.from(copy).equals(Buffer.from(bytes))).toBe(true);

    const result = await dial;
    expect(result).toMatchObject({ code: 200, uuid: 'leg1' });
    const owner = nodes.find((n) => n.node.uuid === result.node_uuid);
    const other = nodes.find((n) => n !== owner);
    expect(owner).toBeDefined();
    expect(owner!.node.channelCount).toBe(1);
    expect(other!.node.channelCount).toBe(0);
    expect(owner!.node.channels().map((c) => c.uuid)).toEqual(['leg1']);
    // The loser forwarded its copy to the owner's own subject.
    expect(owner!.spy.delivered.some((d) => d.subject === s.nodeOf(owner!.node.uuid) && d.id === id)).toBe(
      true,
    );

    // Every final answer with this id is the same answer (cached bytes), and the Dial resolved once.
    await Promise.all(opened.buses.map((b) => b.flush()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const finals = answers.filter((a) => a.id === id && !('result' in a && a.result.code === 100));
    expect(finals.length).toBeGreaterThanOrEqual(1);
    for (const f of finals) expect(f).toEqual(finals[0]);
    expect(resolutions).toBe(1);
    for (const u of unexpected) expect(u).toEqual(finals[0]);
    expect(nodes.reduce((n, x) => n + x.node.channelCount, 0)).toBe(1);
  });
});
