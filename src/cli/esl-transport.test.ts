/**
 * The ESL client over real TCP on 127.0.0.1 against a small test server speaking the ESL protocol
 * (auth/request, auth, filter, event, events, disconnect notice, wrong password).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EslAuthError,
  EslClient,
  type EslClientStatus,
  encodeEslFrame,
  encodeEventPlainFrame,
  type SwitchEvent,
  syntheticChannelEvent,
} from '../cdr/index.js';
import { RealClock } from '../clock/index.js';
import { tcpEslConnect } from './esl-transport.js';

const reply = (text: string): string => encodeEslFrame('command/reply', '', { 'Reply-Text': text });

/** A minimal mod_event_socket: one password, replies to auth/filter/event, then whatever the test sends. */
class EslTestServer {
  readonly server: Server;
  readonly sockets: Socket[] = [];
  readonly commands: string[][] = [];
  subscribed: Socket[] = [];
  password = 'ClueCon';
  #onSubscribe: ((socket: Socket) => void) | undefined;

  constructor() {
    this.server = createServer((socket) => {
      const index = this.sockets.push(socket) - 1;
      this.commands[index] = [];
      socket.on('error', () => {});
      socket.write(encodeEslFrame('auth/request'));
      let pending = '';
      socket.on('data', (data) => {
        pending += data.toString('utf8');
        for (let end = pending.indexOf('\n\n'); end !== -1; end = pending.indexOf('\n\n')) {
          const command = pending.slice(0, end);
          pending = pending.slice(end + 2);
          this.commands[index]?.push(command);
          this.#handle(socket, command);
        }
      });
    });
  }

  #handle(socket: Socket, command: string): void {
    if (command.startsWith('auth ')) {
      if (command.slice(5) === this.password) {
        socket.write(reply('+OK accepted'));
      } else {
        // What FreeSWITCH does: refuse, say goodbye, hang up.
        socket.write(reply('-ERR invalid'));
        socket.end(encodeEslFrame('text/disconnect-notice', 'Disconnected, goodbye.\n'));
      }
    } else if (command.startsWith('filter ')) {
      socket.write(reply('+OK filter added. [filter]=[Event-Name CHANNEL_CREATE]'));
    } else if (command.startsWith('event ')) {
      socket.write(reply('+OK event listener enabled plain'));
      this.subscribed.push(socket);
      this.#onSubscribe?.(socket);
    } else {
      socket.write(reply('-ERR command not found'));
    }
  }

  /** Resolves with the next socket that subscribes. */
  nextSubscriber(): Promise<Socket> {
    return new Promise((resolve) => {
      this.#onSubscribe = (socket) => {
        this.#onSubscribe = undefined;
        resolve(socket);
      };
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Collects events until `count` arrived. */
function collect(
  client: EslClient,
  count: number,
): { events: SwitchEvent[]; done: Promise<Error | undefined> } {
  const events: SwitchEvent[] = [];
  const done = (async () => {
    try {
      for await (const ev of client.events()) {
        events.push(ev);
        if (events.length >= count) break;
      }
      return undefined;
    } catch (err) {
      return err as Error;
    }
  })();
  return { events, done };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function startServer(): Promise<{ server: EslTestServer; port: number }> {
  const server = new EslTestServer();
  const port = await server.listen();
  cleanup.push(() => server.stop());
  return { server, port };
}

describe('EslClient over TCP (tcpEslConnect)', () => {
  it('logs in, filters, subscribes and receives realistic events intact', async () => {
    const { server, port } = await startServer();
    const client = new EslClient({
      connect: tcpEslConnect({ host: '127.0.0.1', port }),
      password: 'ClueCon',
      clock: new RealClock(),
      events: ['CHANNEL_CREATE', 'CHANNEL_HANGUP_COMPLETE'],
      filters: [{ header: 'Event-Name', value: 'CHANNEL_CREATE' }],
    });
    cleanup.push(() => client.close());
    const subscribed = server.nextSubscriber();
    const { events, done } = collect(client, 300);
    const socket = await subscribed;
    const frames = Array.from({ length: 300 }, (_, i) =>
      encodeEventPlainFrame(syntheticChannelEvent(i)),
    ).join('');
    socket.write(frames);
    expect(await done).toBeUndefined();
    expect(server.commands[0]).toEqual([
      'auth ClueCon',
      'filter Event-Name CHANNEL_CREATE',
      'event plain CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE',
    ]);
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 300 }, (_, i) => 1000 + i));
    expect(events[7]?.get('variable_effective_caller_id_name')).toBe('Müller & Söhne');
    expect(events[7]?.headers()).toEqual(syntheticChannelEvent(7));
  });

  it('throws EslAuthError on a wrong password', async () => {
    const { server, port } = await startServer();
    const client = new EslClient({
      connect: tcpEslConnect({ host: '127.0.0.1', port }),
      password: 'nope',
      clock: new RealClock(),
    });
    const { done } = collect(client, 1);
    const error = await done;
    expect(error).toBeInstanceOf(EslAuthError);
    expect(server.sockets).toHaveLength(1);
  });

  it('reconnects after the server drops the connection or says goodbye', async () => {
    const { server, port } = await startServer();
    const statuses: EslClientStatus[] = [];
    const client = new EslClient({
      connect: tcpEslConnect({ host: '127.0.0.1', port }),
      password: 'ClueCon',
      clock: new RealClock(),
      backoff: { initialMs: 10 },
      onStatus: (s) => statuses.push(s),
    });
    cleanup.push(() => client.close());
    let subscribed = server.nextSubscriber();
    const { events, done } = collect(client, 3);
    let socket = await subscribed;
    subscribed = server.nextSubscriber();
    socket.write(encodeEventPlainFrame({ 'Event-Name': 'CHANNEL_CREATE', 'Event-Sequence': '1' }));
    // A hard drop (no goodbye) mid-frame: the partial frame is dropped, the client reconnects.
    socket.end('Content-Length: 100\nContent-Type: text/event-plain\n\nEvent-Na');
    socket = await subscribed;
    subscribed = server.nextSubscriber();
    socket.write(encodeEventPlainFrame({ 'Event-Name': 'CHANNEL_ANSWER', 'Event-Sequence': '2' }));
    socket.end(encodeEslFrame('text/disconnect-notice', 'Disconnected, goodbye.\n'));
    socket = await subscribed;
    socket.write(encodeEventPlainFrame({ 'Event-Name': 'CHANNEL_HANGUP', 'Event-Sequence': '3' }));
    expect(await done).toBeUndefined();
    expect(events.map((e) => e.name)).toEqual(['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP']);
    expect(statuses.filter((s) => s.state === 'connected')).toHaveLength(3);
    expect(client.stats).toMatchObject({ connects: 3, events: 3 });
  });

  it('keeps retrying while nothing listens, and close() stops it', async () => {
    const { server, port } = await startServer();
    await server.stop();
    cleanup = [];
    const statuses: EslClientStatus[] = [];
    const client = new EslClient({
      connect: tcpEslConnect({ host: '127.0.0.1', port }),
      password: 'ClueCon',
      clock: new RealClock(),
      backoff: { initialMs: 5, maxMs: 20 },
      onStatus: (s) => statuses.push(s),
    });
    const { done } = collect(client, 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.close();
    expect(await done).toBeUndefined();
    const failures = statuses.filter((s) => s.state === 'disconnected');
    expect(failures.length).toBeGreaterThan(2);
    const first = failures[0];
    expect(first?.state === 'disconnected' && first.reason?.message).toMatch(/ECONNREFUSED/);
    expect(statuses.at(-1)).toEqual({ state: 'closed', error: undefined });
  });

  it('a connect aborted by its signal rejects with the signal reason', async () => {
    const { port } = await startServer();
    const abort = new AbortController();
    const pending = tcpEslConnect({ host: '127.0.0.1', port })({ signal: abort.signal });
    abort.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});
