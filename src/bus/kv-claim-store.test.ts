// KvClaimStore on a real nats-server with JetStream (`-js -sd <tmpdir>`): atomic claims across two
// connections, keys for any transaction id, release, bucket TTL checks and expiry, and failures.
// Real time on purpose: this is about a real server (expiry is polled with a real-time guard).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type NatsServerHandle, startNatsServer } from '../../test/support/nats-server.js';
import { claimKey, KvClaimStore, KvClaimStoreError } from './kv-claim-store.js';
import { until } from '../../test/support/poll.js';

const opened: { servers: NatsServerHandle[]; stores: KvClaimStore[]; dirs: string[] } = {
  servers: [],
  stores: [],
  dirs: [],
};
afterEach(async () => {
  await Promise.all(opened.stores.splice(0).map((s) => s.close()));
  await Promise.all(opened.servers.splice(0).map((s) => s.stop()));
  await Promise.all(opened.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function jsServer(): Promise<NatsServerHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'openxcc-js-'));
  opened.dirs.push(dir);
  const server = await startNatsServer({ args: ['-js', '-sd', dir] });
  opened.servers.push(server);
  return server;
}

async function store(
  url: string,
  options: Parameters<typeof KvClaimStore.connect>[1] = {},
): Promise<KvClaimStore> {
  const s = await KvClaimStore.connect({ servers: url, reconnect: false }, options);
  opened.stores.push(s);
  return s;
}

describe('KvClaimStore (JetStream KV)', () => {
  it('of concurrent claims of one id from two connections exactly one wins; the loser reads the owner', async () => {
    const server = await jsServer();
    const a = await store(server.url);
    const b = await store(server.url);
    const ids = Array.from({ length: 30 }, (_, i) => `c1:e1:${i + 1}`);
    const results = await Promise.all(
      ids.map(async (id) => {
        const [ra, rb] = await Promise.all([a.claim(id, 'node.a', 60_000), b.claim(id, 'node.b', 60_000)]);
        return { id, ra, rb };
      }),
    );
    for (const { id, ra, rb } of results) {
      expect([ra.won, rb.won].filter(Boolean)).toHaveLength(1);
      const winner = ra.won ? 'node.a' : 'node.b';
      const loser = ra.won ? rb : ra;
      expect(loser).toEqual({ won: false, owner: winner });
      expect(await a.owner(id)).toBe(winner);
    }
    // A later claim, even by the owner, sees the claim.
    expect(await b.claim('c1:e1:1', 'node.c', 60_000)).toEqual({
      won: false,
      owner: await a.owner('c1:e1:1'),
    });
  });

  it('keys are base64url of the id, so ids with ":", dots, spaces and unicode all work', async () => {
    const server = await jsServer();
    const s = await store(server.url);
    expect(claimKey('c1:e1:7')).toBe(Buffer.from('c1:e1:7').toString('base64url'));
    for (const id of ['c1:e1:7', 'ctrl.one:ep:1', 'a b:é✓:2', '.:>:*']) {
      expect(claimKey(id)).toMatch(/^[-\w]+$/);
      expect(await s.claim(id, 'cn.xswitch.node.n1', 60_000)).toEqual({ won: true });
      expect(await s.owner(id)).toBe('cn.xswitch.node.n1');
    }
    expect(() => claimKey('')).toThrow(KvClaimStoreError);
  });

  it('release deletes only the claim of its owner; the id can then be claimed again', async () => {
    const server = await jsServer();
    const s = await store(server.url);
    await s.claim('c1:e1:1', 'node.a', 60_000);
    expect(await s.release('c1:e1:1', 'node.b')).toBe(false);
    expect(await s.owner('c1:e1:1')).toBe('node.a');
    expect(await s.release('c1:e1:1', 'node.a')).toBe(true);
    expect(await s.owner('c1:e1:1')).toBeUndefined();
    expect(await s.release('c1:e1:1', 'node.a')).toBe(false);
    expect(await s.claim('c1:e1:1', 'node.b', 60_000)).toEqual({ won: true });
    expect(await s.owner('c1:e1:1')).toBe('node.b');
  });

  it('renew keeps a claim for its owner only, and not once it was released', async () => {
    const server = await jsServer();
    const s = await store(server.url);
    await s.claim('c1:e1:2', 'node.a', 60_000);
    expect(await s.renew('c1:e1:2', 'node.b', 60_000)).toBe(false);
    expect(await s.renew('c1:e1:2', 'node.a', 60_000)).toBe(true);
    expect(await s.owner('c1:e1:2')).toBe('node.a');
    await expect(s.renew('c1:e1:2', 'node.a', s.ttlMs + 1)).rejects.toThrow(KvClaimStoreError);
    expect(await s.release('c1:e1:2', 'node.a')).toBe(true);
    expect(await s.renew('c1:e1:2', 'node.a', 60_000)).toBe(false);
    expect(await s.renew('c1:e1:9', 'node.a', 60_000)).toBe(false);
  });

  it('a renewed claim lives a bucket TTL from its last renewal, not from the claim', async () => {
    const server = await jsServer();
    const s = await store(server.url, { bucket: 'renewed', ttlMs: 1000 });
    const claimedAt = Date.now();
    expect(await s.claim('c1:e1:1', 'node.a', 1000)).toEqual({ won: true });
    // Renewed every 400 ms (real time: the server's own clock expires keys) for well past one TTL.
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await s.renew('c1:e1:1', 'node.a', 1000)).toBe(true);
    }
    expect(Date.now() - claimedAt).toBeGreaterThan(1000);
    expect(await s.claim('c1:e1:1', 'node.b', 1000)).toEqual({ won: false, owner: 'node.a' });
    // Not renewed any more: it expires, and another member can claim the id.
    await until(
      'the claim expired after the renewals stopped',
      async () => (await s.claim('c1:e1:1', 'node.b', 1000)).won,
      5_000,
    );
    expect(await s.owner('c1:e1:1')).toBe('node.b');
  });

  it('the bucket TTL must cover what claims need: a shorter one is refused, an existing bucket keeps its TTL', async () => {
    const server = await jsServer();
    await expect(store(server.url, { bucket: 'short', ttlMs: 30_000, minTtlMs: 60_000 })).rejects.toThrow(
      /TTL 30000 ms is shorter than the 60000 ms claims need/,
    );
    // The bucket now exists with 30 s; asking for 120 s does not change it, and the check still refuses.
    await expect(store(server.url, { bucket: 'short', ttlMs: 120_000, minTtlMs: 60_000 })).rejects.toThrow(
      KvClaimStoreError,
    );
    const ok = await store(server.url, { bucket: 'short', ttlMs: 120_000 });
    expect(ok.ttlMs).toBe(30_000);
    // A claim that must live longer than the bucket keeps it is refused too.
    await expect(ok.claim('c1:e1:1', 'node.a', 60_000)).rejects.toThrow(KvClaimStoreError);
    await expect(store(server.url, { bucket: 'bad.name' })).rejects.toThrow(/bucket/);
  });

  it('a claim expires with the bucket TTL, then the id can be claimed again', async () => {
    const server = await jsServer();
    const s = await store(server.url, { bucket: 'fast', ttlMs: 500 });
    expect(await s.claim('c1:e1:1', 'node.a', 500)).toEqual({ won: true });
    expect(await s.claim('c1:e1:1', 'node.b', 500)).toEqual({ won: false, owner: 'node.a' });
    // The server expires the key on its own clock: a real-time wait, polled.
    let again = await s.claim('c1:e1:1', 'node.b', 500);
    await until(
      'the claim expired',
      async () => {
        again = await s.claim('c1:e1:1', 'node.b', 500);
        return again.won;
      },
      5_000,
    );
    expect(again).toEqual({ won: true });
    expect(await s.owner('c1:e1:1')).toBe('node.b');
  });

  it('without JetStream the store refuses to open; with the server gone a claim rejects with KvClaimStoreError', async () => {
    const plain = await startNatsServer();
    opened.servers.push(plain);
    await expect(store(plain.url)).rejects.toThrow(KvClaimStoreError);
    const server = await jsServer();
    const s = await store(server.url, { timeoutMs: 500 });
    await server.stop();
    const err = await s.claim('c1:e1:1', 'node.a', 60_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvClaimStoreError);
  });
});
