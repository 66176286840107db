// NatsBus-specific behaviour on a real nats-server (the shared Bus contract runs in test/bus-contract.test.ts):
// authentication, connection errors, reconnect after a server restart, loss of the server for good.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/nats-core';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type NatsServerHandle, startNatsServer } from '../../test/support/nats-server.js';
import type { Logger } from '../protocol/logger.js';
import { BusClosedError } from './errors.js';
import { BusConnectError, NatsBus } from './nats-bus.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Everything a test opened, closed after it whatever happened. */
const opened: { servers: NatsServerHandle[]; buses: NatsBus[] } = { servers: [], buses: [] };
afterEach(async () => {
  await Promise.all(opened.buses.splice(0).map((b) => b.close()));
  await Promise.all(opened.servers.splice(0).map((s) => s.stop()));
});

async function server(options?: Parameters<typeof startNatsServer>[0]): Promise<NatsServerHandle> {
  const s = await startNatsServer(options);
  opened.servers.push(s);
  return s;
}

async function bus(options: Parameters<typeof NatsBus.connect>[0]): Promise<NatsBus> {
  const b = await NatsBus.connect(options);
  opened.buses.push(b);
  return b;
}

async function connectError(options: Parameters<typeof NatsBus.connect>[0]): Promise<BusConnectError> {
  const err = await NatsBus.connect(options).then(
    async (b) => {
      await b.close();
      throw new Error('connect unexpectedly succeeded');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BusConnectError);
  return err as BusConnectError;
}

/** Round trip through the server: a request answered by a subscriber on `responder`. */
async function roundTrip(requester: NatsBus, responder: NatsBus, subject: string): Promise<string> {
  const sub = responder.subscribe(subject, {
    callback: (m) => m.respond(enc.encode(`re:${dec.decode(m.data)}`)),
  });
  try {
    await responder.flush();
    const reply = await requester.request(subject, enc.encode('hi'), { timeoutMs: 2_000 });
    return dec.decode(reply.data);
  } finally {
    sub.unsubscribe();
  }
}

describe('NatsBus authentication', () => {
  it('connects with the right user and password', async () => {
    const s = await server({ auth: { user: 'xnode', pass: 's3cret' } });
    const a = await bus({ servers: s.url, user: 'xnode', pass: 's3cret' });
    expect(await roundTrip(a, a, 'auth.userpass')).toBe('re:hi');
  });

  it('rejects a wrong password with a BusConnectError naming the server', async () => {
    const s = await server({ auth: { user: 'xnode', pass: 's3cret' } });
    const err = await connectError({ servers: s.url, user: 'xnode', pass: 'wrong', maxReconnectAttempts: 0 });
    expect(err.reason).toBe('auth');
    expect(err.message).toContain(s.url);
    expect(err.message).toMatch(/credentials/);
    expect(err.servers).toEqual([s.url]);
  });

  it('rejects a missing password when the server requires one', async () => {
    const s = await server({ auth: { user: 'xnode', pass: 's3cret' } });
    const err = await connectError({ servers: s.url }); // default options: still fails at once
    expect(err.reason).toBe('auth');
  });

  it('connects with the right token and rejects a wrong one', async () => {
    const s = await server({ auth: { token: 't0ken' } });
    const a = await bus({ servers: s.url, token: 't0ken' });
    expect(await roundTrip(a, a, 'auth.token')).toBe('re:hi');
    const err = await connectError({ servers: s.url, token: 'nope', maxReconnectAttempts: 0 });
    expect(err.reason).toBe('auth');
    expect(err.message).toContain(s.url);
  });

  it('connects with an nkey seed', async () => {
    const user = nkeys.createUser();
    const s = await server({
      extraConfig: `authorization { users: [ { nkey: ${JSON.stringify(user.getPublicKey())} } ] }`,
    });
    const seed = dec.decode(user.getSeed());
    const a = await bus({ servers: s.url, nkeySeed: seed });
    expect(await roundTrip(a, a, 'auth.nkey')).toBe('re:hi');
    const other = dec.decode(nkeys.createUser().getSeed());
    const err = await connectError({ servers: s.url, nkeySeed: other, maxReconnectAttempts: 0 });
    expect(err.reason).toBe('auth');
  });

  it('names the file when the creds file cannot be read', async () => {
    const err = await NatsBus.connect({
      servers: 'nats://127.0.0.1:4222',
      credsFile: '/nonexistent/x.creds',
    }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('/nonexistent/x.creds');
    expect(err).toBeInstanceOf(BusConnectError);
    expect((err as BusConnectError).reason).toBe('auth');
  });
});

describe('NatsBus connection errors', () => {
  it('fails quickly with a clear error when nothing listens at the URL', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const err = await connectError({ servers: url });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.reason).toBe('refused');
    expect(err.message).toBe(`cannot connect to NATS at ${url}: connection refused`);
  });

  it('times out after connectTimeoutMs when the peer never speaks NATS', async () => {
    // a TCP server that accepts and stays silent: the client waits for INFO that never comes
    const sockets = new Set<Socket>();
    const mute: Server = createServer((sock) => sockets.add(sock));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const address = mute.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const started = Date.now();
      const err = await connectError({
        servers: `nats://127.0.0.1:${port}`,
        connectTimeoutMs: 300,
        maxReconnectAttempts: 0,
      });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(err.reason).toBe('timeout');
      expect(err.message).toContain(`127.0.0.1:${port}`);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
  });

  it('takes maxPayload from the server info', async () => {
    const s = await server({ maxPayload: 4096 });
    const a = await bus({ servers: s.url });
    expect(a.maxPayload).toBe(4096);
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!hasOpenssl)('NatsBus TLS', () => {
  /** A self-signed certificate for 127.0.0.1, which doubles as its own CA. */
  function selfSigned(): { dir: string; cert: string; key: string } {
    const dir = mkdtempSync(join(tmpdir(), 'openxcc-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const res = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    if (res.status !== 0) throw new Error(`openssl failed: ${String(res.stderr)}`);
    return { dir, cert, key };
  }

  it('connects over TLS with the CA file and refuses a server it cannot verify', async () => {
    const { dir, cert, key } = selfSigned();
    try {
      const s = await server({
        extraConfig: `tls { cert_file: ${JSON.stringify(cert)}, key_file: ${JSON.stringify(key)} }`,
      });
      const a = await bus({ servers: s.url, tls: { caFile: cert } });
      expect(await roundTrip(a, a, 'tls.rpc')).toBe('re:hi');
      const err = await connectError({ servers: s.url, tls: {}, maxReconnectAttempts: 0 });
      expect(err.message).toContain(s.url);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('NatsBus reconnect', () => {
  it('fires onReconnect after the server restarts and delivers on the old subscriptions again', async () => {
    const s = await server();
    const options = { servers: s.url, reconnectTimeWaitMs: 50 };
    const pub = await bus(options);
    const sub = await bus(options);
    const got: string[] = [];
    const subscription = sub.subscribe('reconnect.events', { callback: (m) => got.push(dec.decode(m.data)) });
    await sub.flush();
    pub.publish('reconnect.events', enc.encode('before'));
    await pub.flush();
    await sub.flush();
    expect(got).toEqual(['before']);

    const reconnected = (b: NatsBus): Promise<void> =>
      new Promise<void>((resolve) => {
        const off = b.onReconnect(() => {
          off();
          resolve();
        });
      });
    const both = Promise.all([reconnected(pub), reconnected(sub)]);
    s.kill();
    await s.restart();
    await both;
    // the client re-sends its SUBs on reconnect; a flush makes sure the server has them before we publish
    await sub.flush();

    pub.publish('reconnect.events', enc.encode('after'));
    await pub.flush();
    await sub.flush();
    expect(got).toEqual(['before', 'after']);
    expect(sub.subscriptionCount).toBe(1);
    expect(subscription.isClosed).toBe(false);
    expect(await roundTrip(pub, sub, 'reconnect.rpc')).toBe('re:hi');
  });

  it('keeps calling the other reconnect listeners when one throws, and logs it', async () => {
    const s = await server();
    const errors: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (_obj, msg) => errors.push(msg ?? ''),
    };
    const a = await bus({ servers: s.url, reconnectTimeWaitMs: 50, logger });
    a.onReconnect(() => {
      throw new Error('listener bug');
    });
    const fired = new Promise<void>((resolve) => a.onReconnect(resolve));
    s.kill();
    await s.restart();
    await fired;
    expect(errors).toContain('onReconnect listener threw');
  });

  it('resolves closed and rejects pending requests when the server is gone for good', async () => {
    const s = await server();
    const a = await bus({ servers: s.url, reconnectTimeWaitMs: 20, maxReconnectAttempts: 1 });
    const responder = a.subscribe('gone.silent', { callback: () => {} });
    await a.flush();
    const pending = a.request('gone.silent', enc.encode('x'), { timeoutMs: 30_000 });
    const outcome = expect(pending).rejects.toBeInstanceOf(BusClosedError);
    await s.stop();
    await a.closed;
    await outcome;
    expect(responder.isClosed).toBe(true);
    expect(a.subscriptionCount).toBe(0);
    expect(() => a.publish('gone.silent', enc.encode('late'))).toThrow(BusClosedError);
  });
});
