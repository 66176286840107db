/**
 * `xcc node --claim-bucket NAME` (issue 6, §3.5 case 15 from the command line): two CLI nodes in the
 * `cn.xswitch.node` queue group share a JetStream KV claim bucket, and the same XNode.Dial transaction
 * published ten times (a resending originator) creates one call on one node. Without JetStream the flag
 * fails at start with one line and exit 1: the operator asked for exactly-once and does not get it
 * silently. Real nats-server and real time (sockets); waits are for messages, with a deadline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/bus/index.js';
import { main } from '../src/cli/main.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';
import { fakeIo } from './support/cli-io.js';
import { until } from './support/poll.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('xcc node --claim-bucket', () => {
  it('two CLI nodes sharing the bucket run a Dial transaction sent ten times once, on one node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xcc-cli-claims-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const server: NatsServerHandle = await startNatsServer({ args: ['-js', '-sd', dir] });
    cleanups.push(() => server.stop());

    const nodes = ['node-a', 'node-b'].map((uuid) => {
      const io = fakeIo();
      const args = ['node', 'xcc', 'node', '--nats', server.url, '--node-uuid', uuid];
      const running = main([...args, '--claim-bucket', 'xcc_claims', '--grace', '1'], io);
      cleanups.push(async () => {
        io.stop$.abort();
        await running;
      });
      return io;
    });
    await until('both nodes up', () => nodes.every((io) => io.stdout.some((l) => l.includes('up on'))));

    const bus = await NatsBus.connect({ servers: server.url, name: 'originator' });
    cleanups.push(() => bus.close());
    const seen: { node_uuid?: string; code?: number; event?: string }[] = [];
    bus.subscribe('cn.xswitch.ctrl.ctrl-1', {
      callback: (msg) => {
        const m = JSON.parse(new TextDecoder().decode(msg.data)) as {
          result?: { node_uuid?: string; code?: number };
          method?: string;
          params?: { node_uuid?: string; state?: string };
        };
        if (m.result) seen.push({ ...m.result });
        else if (m.params) seen.push({ node_uuid: m.params.node_uuid, event: m.params.state });
      },
    });
    await bus.flush();
    // One transaction, the same bytes every time: what a resending originator puts on the wire.
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'ctrl-1:epoch1:1',
        method: 'XNode.Dial',
        params: {
          ctrl_uuid: 'ctrl-1',
          destination: { call_params: [{ uuid: 'leg-1', dest_number: 'agent' }] },
        },
      }),
    );
    for (let i = 0; i < 10; i++) bus.publish('cn.xswitch.node', bytes);
    await bus.flush();
    // the demo directory's `agent` answers after 3 s: resends arrive while the Dial is running
    await until('the Dial answered', () => seen.some((m) => m.code === 200));

    const nodeUuids = new Set(seen.map((m) => m.node_uuid).filter((u) => u !== undefined));
    expect([...nodeUuids]).toHaveLength(1);
    // one channel was created: one CALLING event
    expect(seen.filter((m) => m.event === 'CALLING')).toHaveLength(1);
    // every final answer is the one cached answer of the node that ran it
    const finals = seen.filter((m) => m.code !== undefined && m.code !== 100);
    expect(finals.length).toBeGreaterThanOrEqual(1);
    for (const f of finals) expect(f).toEqual(finals[0]);
  }, 30_000);

  it('without JetStream the node refuses to start: one line, exit 1', async () => {
    const server = await startNatsServer();
    cleanups.push(() => server.stop());
    const io = fakeIo();
    const code = await main(
      ['node', 'xcc', 'node', '--nats', server.url, '--claim-bucket', 'xcc_claims'],
      io,
    );
    expect(code).toBe(1);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toMatch(/^xcc node: --claim-bucket xcc_claims: .*JetStream|KV/i);
  }, 20_000);
});
