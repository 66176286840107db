/**
 * A minimal FreeSWITCH mod_event_socket for the `xcc cdr listen --esl` tests: `auth/request` on
 * connect, one password, `+OK` to every other command, and plain events to each connection that has
 * subscribed with `event …`. Real TCP on 127.0.0.1 with an OS-chosen port, so real time: wait on it
 * with `until` in ./poll.js.
 */
import { createServer, type Socket } from 'node:net';
import { encodeEslFrame, encodeEventPlainFrame, type HeaderMap } from '../../src/cdr/index.js';

export interface FakeEslOptions {
  /** The password `auth` accepts; any other gets `-ERR invalid` and the connection is ended. */
  readonly password: string;
  /** Written to each connection right after its `event …` subscription is accepted (default: none). */
  readonly events?: readonly HeaderMap[];
}

export interface FakeEsl {
  readonly port: number;
  /** `127.0.0.1:PORT`, as `--esl` takes it. */
  readonly address: string;
  /** Every command received, over all connections, in order: `auth ClueCon`, `event plain ALL`, … */
  readonly commands: readonly string[];
  /** Writes `events` to every connection subscribed so far. */
  send(events: readonly HeaderMap[]): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

const reply = (text: string): string => encodeEslFrame('command/reply', '', { 'Reply-Text': text });

/**
 * Starts a fake switch on a free port.
 *
 * @example
 * const esl = await startFakeEsl({ password: 'ClueCon', events: callEvents() });
 * const r = await xcc('cdr', 'listen', '--esl', esl.address, '--password', 'ClueCon');
 * await esl.close();
 */
export async function startFakeEsl({ password, events = [] }: FakeEslOptions): Promise<FakeEsl> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const subscribed = new Set<Socket>();
  const write = (socket: Socket, batch: readonly HeaderMap[]): void => {
    for (const h of batch) socket.write(encodeEventPlainFrame(h));
  };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      subscribed.delete(socket);
    });
    // The client may hang up mid-write (Ctrl-C, a refused login); a reset here is not a test failure.
    socket.on('error', () => {});
    socket.write(encodeEslFrame('auth/request'));
    let buffer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const command = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        commands.push(command);
        if (command.startsWith('auth ')) {
          const ok = command === `auth ${password}`;
          socket.write(reply(ok ? '+OK accepted' : '-ERR invalid'));
          if (!ok) socket.end();
        } else if (command.startsWith('event ')) {
          socket.write(reply('+OK event listener enabled plain'));
          write(socket, events);
          subscribed.add(socket);
        } else {
          socket.write(reply('+OK'));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    address: `127.0.0.1:${address.port}`,
    commands,
    send: (batch) => {
      for (const socket of subscribed) write(socket, batch);
    },
    close: async () => {
      // server.close waits for open connections, so drop them first.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
