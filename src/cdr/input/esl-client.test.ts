import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/index.js';
import { encodeEslFrame, encodeEventPlainFrame } from './encode.js';
import { EslClient, type EslClientOptions, type EslClientStatus } from './esl-client.js';
import { EslAuthError, EslCommandError, EslConfigError, EslTimeoutError } from './errors.js';
import type { SwitchEvent } from './switch-event.js';
import type { EslConnect, EslConnection } from './transport.js';

const encoder = new TextEncoder();

/** An in-memory connection; the fake server reacts to each command written. */
class FakeConnection implements EslConnection {
  readonly commands: string[] = [];
  closed = false;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #pendingWrite = '';

  constructor(private readonly server: FakeServer) {}

  readonly chunks: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        for (;;) {
          const chunk = this.#chunks.shift();
          if (chunk) return { value: chunk, done: false };
          if (this.closed) return { value: undefined, done: true };
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
        }
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        await this.close();
        return { value: undefined, done: true };
      },
    }),
  };

  /** Sends text from the server, split in two chunks to exercise reassembly. */
  send(text: string): void {
    if (this.closed) return;
    const bytes = encoder.encode(text);
    const half = Math.floor(bytes.length / 2);
    this.#chunks.push(bytes.subarray(0, half), bytes.subarray(half));
    this.#wakeUp();
  }

  write(data: string): void {
    if (this.closed) return;
    this.#pendingWrite += data;
    for (let end = this.#pendingWrite.indexOf('\n\n'); end !== -1; end = this.#pendingWrite.indexOf('\n\n')) {
      const command = this.#pendingWrite.slice(0, end);
      this.#pendingWrite = this.#pendingWrite.slice(end + 2);
      this.commands.push(command);
      this.server.handle(this, command);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

const reply = (text: string): string => encodeEslFrame('command/reply', '', { 'Reply-Text': text });
const event = (name: string, seq: number): string =>
  encodeEventPlainFrame({ 'Event-Name': name, 'Unique-ID': `u-${seq}`, 'Event-Sequence': String(seq) });

/** A scripted ESL server. */
class FakeServer {
  readonly connections: FakeConnection[] = [];
  password = 'ClueCon';
  /** Connect attempts to refuse before accepting. */
  refuse = 0;
  /** Whether a new connection gets `auth/request` (false simulates a mute server). */
  greet = true;
  /** Replies to `event`/`filter` (default +OK). */
  eventReply = '+OK event listener enabled plain';
  /** Events sent right after the subscription is accepted, per connection index. */
  eventsOnSubscribe: string[][] = [];
  connectAttempts = 0;

  readonly connect: EslConnect = async () => {
    this.connectAttempts++;
    if (this.refuse > 0) {
      this.refuse--;
      throw new Error('connect ECONNREFUSED');
    }
    const conn = new FakeConnection(this);
    this.connections.push(conn);
    if (this.greet) conn.send(encodeEslFrame('auth/request'));
    return conn;
  };

  handle(conn: FakeConnection, command: string): void {
    const [verb, ...rest] = command.split(' ');
    switch (verb) {
      case 'auth':
        if (rest.join(' ') === this.password) conn.send(reply('+OK accepted'));
        else {
          conn.send(reply('-ERR invalid'));
          void conn.close();
        }
        return;
      case 'userauth':
        conn.send(
          reply(rest.join(' ') === `admin@default:${this.password}` ? '+OK accepted' : '-ERR invalid'),
        );
        return;
      case 'filter':
        conn.send(reply('+OK filter added'));
        return;
      case 'event': {
        // An event raced ahead of the reply: it must not be lost.
        const events = this.eventsOnSubscribe[this.connections.indexOf(conn)] ?? [];
        conn.send(events.join('') + reply(this.eventReply));
        return;
      }
      default:
        conn.send(reply('-ERR command not found'));
    }
  }

  get current(): FakeConnection {
    const conn = this.connections.at(-1);
    if (!conn) throw new Error('no connection');
    return conn;
  }
}

function setup(overrides: Partial<EslClientOptions> = {}): {
  server: FakeServer;
  clock: VirtualClock;
  client: EslClient;
  statuses: EslClientStatus[];
} {
  const server = new FakeServer();
  const clock = new VirtualClock(0);
  const statuses: EslClientStatus[] = [];
  const client = new EslClient({
    connect: server.connect,
    password: 'ClueCon',
    clock,
    onStatus: (s) => statuses.push(s),
    ...overrides,
  });
  return { server, clock, client, statuses };
}

/** Starts consuming; returns the received events and a promise of the end of iteration. */
function consume(client: EslClient): { events: SwitchEvent[]; done: Promise<Error | undefined> } {
  const events: SwitchEvent[] = [];
  const done = (async () => {
    try {
      for await (const ev of client.events()) events.push(ev);
      return undefined;
    } catch (err) {
      return err as Error;
    }
  })();
  return { events, done };
}

const settle = (clock: VirtualClock): Promise<void> => clock.advance(0);

describe('EslClient', () => {
  it('logs in, sets filters before subscribing, and yields events in order', async () => {
    const { server, clock, client, statuses } = setup({
      events: ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CUSTOM', 'callcenter::info'],
      filters: [{ header: 'Event-Name', value: 'CHANNEL_CREATE' }],
    });
    server.eventsOnSubscribe[0] = [event('CHANNEL_CREATE', 1)];
    const { events, done } = consume(client);
    await settle(clock);
    server.current.send(event('CHANNEL_ANSWER', 2) + event('CHANNEL_HANGUP', 3));
    await settle(clock);
    expect(server.current.commands).toEqual([
      'auth ClueCon',
      'filter Event-Name CHANNEL_CREATE',
      'event plain CHANNEL_CREATE CHANNEL_ANSWER CUSTOM callcenter::info',
    ]);
    expect(events.map((e) => `${e.name}:${e.uuid}`)).toEqual([
      'CHANNEL_CREATE:u-1',
      'CHANNEL_ANSWER:u-2',
      'CHANNEL_HANGUP:u-3',
    ]);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'connected']);
    await client.close();
    expect(await done).toBeUndefined();
    expect(statuses.at(-1)).toEqual({ state: 'closed', error: undefined });
    expect(server.current.closed).toBe(true);
    expect(clock.pending).toBe(0);
    expect(client.stats).toEqual({ connects: 1, events: 3, parseErrors: 0 });
  });

  it('asks for event-json and uses userauth when a user is given', async () => {
    const { server, clock, client } = setup({ format: 'json', user: 'admin@default', events: ['ALL'] });
    const { done } = consume(client);
    await settle(clock);
    expect(server.current.commands).toEqual(['userauth admin@default:ClueCon', 'event json ALL']);
    await client.close();
    await done;
  });

  it('fails for good with EslAuthError on a wrong password, without retrying', async () => {
    const { server, clock, client, statuses } = setup({ password: 'wrong' });
    const { done } = consume(client);
    await settle(clock);
    const error = await done;
    expect(error).toBeInstanceOf(EslAuthError);
    expect(error?.message).toContain('-ERR invalid');
    await clock.advance(60_000);
    expect(server.connectAttempts).toBe(1);
    expect(statuses.at(-1)).toEqual({ state: 'closed', error });
    expect(clock.pending).toBe(0);
  });

  it('fails for good with EslCommandError when the subscription is refused', async () => {
    const { server, clock, client } = setup();
    server.eventReply = '-ERR no keywords supplied';
    const { done } = consume(client);
    await settle(clock);
    const error = await done;
    expect(error).toBeInstanceOf(EslCommandError);
    expect(error?.message).toContain('event plain ALL');
  });

  it('reconnects with exponential backoff on the clock and resets it after a good session', async () => {
    const { server, clock, client, statuses } = setup({ backoff: { initialMs: 100, maxMs: 350, factor: 2 } });
    server.refuse = 4;
    const { events, done } = consume(client);
    await settle(clock);
    const delays = (): number[] => statuses.flatMap((s) => (s.state === 'disconnected' ? [s.retryInMs] : []));
    expect(delays()).toEqual([100]);
    await clock.advance(99);
    expect(server.connectAttempts).toBe(1);
    await clock.advance(1);
    expect(server.connectAttempts).toBe(2);
    await clock.advance(200 + 350 + 350);
    expect(delays()).toEqual([100, 200, 350, 350]);
    expect(server.connectAttempts).toBe(5);
    expect(statuses.at(-1)?.state).toBe('connected');

    // The server drops the connection: the next retry starts from the initial delay again.
    server.current.send(event('CHANNEL_CREATE', 1));
    await settle(clock);
    await server.current.close();
    await settle(clock);
    expect(delays().at(-1)).toBe(100);
    server.eventsOnSubscribe[1] = [event('CHANNEL_ANSWER', 2)];
    await clock.advance(100);
    expect(events.map((e) => e.name)).toEqual(['CHANNEL_CREATE', 'CHANNEL_ANSWER']);
    expect(client.stats.connects).toBe(2);
    await client.close();
    expect(await done).toBeUndefined();
    expect(clock.pending).toBe(0);
  });

  it('drops a server that never greets after commandTimeoutMs and retries', async () => {
    const { server, clock, client, statuses } = setup({ commandTimeoutMs: 1000 });
    server.greet = false;
    const { done } = consume(client);
    await settle(clock);
    await clock.advance(999);
    expect(server.current.closed).toBe(false);
    await clock.advance(1);
    expect(server.current.closed).toBe(true);
    const down = statuses.find((s) => s.state === 'disconnected');
    expect(down?.state === 'disconnected' && down.reason).toBeInstanceOf(EslTimeoutError);
    server.greet = true;
    await clock.advance(500);
    expect(statuses.at(-1)?.state).toBe('connected');
    await client.close();
    await done;
    expect(clock.pending).toBe(0);
  });

  it('treats a disconnect notice as the end of the connection and reconnects', async () => {
    const { server, clock, client, statuses } = setup();
    const { done } = consume(client);
    await settle(clock);
    server.current.send(encodeEslFrame('text/disconnect-notice', 'Disconnected, goodbye.\n'));
    await settle(clock);
    expect(statuses.at(-1)?.state).toBe('disconnected');
    expect(server.connections[0]?.closed).toBe(true);
    await clock.advance(500);
    expect(server.connections).toHaveLength(2);
    await client.close();
    await done;
  });

  it('reports malformed frames and keeps the stream going', async () => {
    const problems: string[] = [];
    const { server, clock, client } = setup({ onParseError: (e) => problems.push(e.problem) });
    const { events, done } = consume(client);
    await settle(clock);
    server.current.send(
      'junk line\n' + encodeEslFrame('text/event-plain', 'No-Name: x\n\n') + event('CHANNEL_CREATE', 7),
    );
    await settle(clock);
    expect(events.map((e) => e.sequence)).toEqual([7]);
    expect(problems).toEqual(['bad-header-line', 'bad-event']);
    expect(client.stats.parseErrors).toBe(2);
    await client.close();
    await done;
  });

  it('closes the connection when the consumer leaves the loop', async () => {
    const { server, clock, client, statuses } = setup();
    server.eventsOnSubscribe[0] = [event('CHANNEL_CREATE', 1), event('CHANNEL_ANSWER', 2)];
    for await (const ev of client.events()) {
      expect(ev.name).toBe('CHANNEL_CREATE');
      break;
    }
    expect(server.current.closed).toBe(true);
    expect(statuses.at(-1)?.state).toBe('closed');
    expect(clock.pending).toBe(0);
  });

  it('close() during a backoff wait ends the iteration at once', async () => {
    const { server, clock, client } = setup({ backoff: { initialMs: 60_000 } });
    server.refuse = 1;
    const { done } = consume(client);
    await settle(clock);
    expect(clock.pending).toBe(1);
    await client.close();
    expect(await done).toBeUndefined();
    expect(clock.pending).toBe(0);
    expect(server.connectAttempts).toBe(1);
  });

  it('rejects options that would inject commands, and a second concurrent iteration', () => {
    const clock = new VirtualClock(0);
    const connect = new FakeServer().connect;
    expect(() => new EslClient({ connect, clock, password: 'a\n\nevent plain ALL' })).toThrow(EslConfigError);
    expect(
      () => new EslClient({ connect, clock, password: 'p', filters: [{ header: 'A', value: 'b\r' }] }),
    ).toThrow(EslConfigError);
    expect(() => new EslClient({ connect, clock, password: 'p', events: [] })).toThrow(EslConfigError);
    const client = new EslClient({ connect, clock, password: 'p' });
    client.events();
    expect(() => client.events()).toThrow(/already being iterated/);
  });
});
