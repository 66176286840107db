/**
 * The nats-server cluster harness, and the failover requirement it exists for: a NatsBus connected
 * with every member's URL keeps request/reply working when the server it is on is killed, and a killed
 * member comes back into the mesh on restart. Real servers and real time (bounded guards, no sleeps).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../src/bus/index.js';
import { BusError, NatsBus } from '../src/bus/index.js';
import { type NatsCluster, serverId, startNatsCluster } from './support/nats-cluster.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

let cluster: NatsCluster;
beforeAll(async () => {
  cluster = await startNatsCluster();
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

/** Retries `fn` until it succeeds or `ms` real ms pass; returns the value and the errors seen meanwhile. */
async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<{ value: T; errors: unknown[] }> {
  const deadline = Date.now() + ms;
  const errors: unknown[] = [];
  for (;;) {
    try {
      return { value: await fn(), errors };
    } catch (err) {
      errors.push(err);
      if (Date.now() > deadline) throw err;
      await new Promise<void>((resolve) => setTimeout(resolve, 25));
    }
  }
}

describe('nats cluster harness', () => {
  it('starts three meshed servers on distinct ports', () => {
    const ports = cluster.members.flatMap((m) => [m.handle.port, m.clusterPort, m.monitorPort]);
    expect(cluster.members).toHaveLength(3);
    expect(new Set(ports).size).toBe(9);
    expect(cluster.urls).toHaveLength(3);
  });

  it('a message published on one member reaches a subscriber on another (routes carry it)', async () => {
    const a = await NatsBus.connect({ servers: cluster.urls[0]!, name: 'route-a' });
    const b = await NatsBus.connect({ servers: cluster.urls[2]!, name: 'route-b' });
    try {
      const got: string[] = [];
      b.subscribe('route.test', { callback: (m) => got.push(dec.decode(m.data)) });
      await b.flush();
      // interest crosses the route asynchronously: publish until the subscriber has it
      await eventually(async () => {
        a.publish('route.test', enc.encode('hello'));
        await a.flush();
        await b.flush();
        if (!got.includes('hello')) throw new Error('not routed yet');
      }, 5_000);
      expect(got).toContain('hello');
      expect(await cluster.whereIs('route-a')).toBe(0);
      expect(await cluster.whereIs('route-b')).toBe(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('request/reply keeps working when the server the requester is on is killed, and the member rejoins on restart', async () => {
    const responder: Bus = await NatsBus.connect({
      servers: cluster.urls,
      name: 'fo-responder',
      reconnectTimeWaitMs: 100,
    });
    const requester: Bus = await NatsBus.connect({
      servers: cluster.urls,
      name: 'fo-requester',
      reconnectTimeWaitMs: 100,
    });
    try {
      responder.subscribe('svc.echo', { callback: (m) => m.respond(enc.encode(`ok:${dec.decode(m.data)}`)) });
      await responder.flush();
      const ask = async (s: string): Promise<string> =>
        dec.decode((await requester.request('svc.echo', enc.encode(s), { timeoutMs: 500 })).data);

      expect((await eventually(() => ask('before'), 5_000)).value).toBe('ok:before');
      const on = await cluster.whereIs('fo-requester');
      expect(on).toBeDefined();
      const idBefore = await serverId(cluster.members[on!]!);

      cluster.kill(on!);
      // Requests during the failover may fail, but only with a clear bus error (timeout / no responders)
      // and never hang; after it, every request succeeds.
      const { value, errors } = await eventually(() => ask('during'), 10_000);
      expect(value).toBe('ok:during');
      for (const err of errors) expect(err).toBeInstanceOf(BusError);
      for (let i = 0; i < 5; i++) expect(await ask(`after-${i}`)).toBe(`ok:after-${i}`);
      const now = await cluster.whereIs('fo-requester');
      expect(now).toBeDefined();
      expect(now).not.toBe(on);

      await cluster.restart(on!);
      expect(cluster.members[on!]!.down).toBe(false);
      expect(await serverId(cluster.members[on!]!)).not.toBe(idBefore);
      expect(await ask('restarted')).toBe('ok:restarted');
    } finally {
      await requester.close();
      await responder.close();
    }
  }, 30_000);
});
