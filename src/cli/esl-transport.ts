/**
 * TCP for the CDR engine's ESL client: `tcpEslConnect({ host, port })` is the `EslConnect` that
 * `EslClient` uses against a live FreeSWITCH (mod_event_socket, default port 8021). The only file
 * that brings node:net to the CDR inputs.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { EslConnect, EslConnection } from '../cdr/index.js';

/** Options of {@link tcpEslConnect}. */
export interface TcpEslOptions {
  host: string;
  /** mod_event_socket's port (FreeSWITCH default 8021). */
  port: number;
  /** Give up a connect attempt after this long (default 5 000 ms). */
  connectTimeoutMs?: number;
  /** TCP keep-alive probe delay, so a dead peer is noticed on idle links (default 30 000 ms). */
  keepAliveMs?: number;
}

/**
 * An `EslConnect` over TCP.
 *
 * @example
 * const client = new EslClient({ connect: tcpEslConnect({ host: '127.0.0.1', port: 8021 }), password, clock });
 */
export function tcpEslConnect(options: TcpEslOptions): EslConnect {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const keepAliveMs = options.keepAliveMs ?? 30_000;
  return ({ signal }) =>
    new Promise<EslConnection>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const socket = netConnect({ host: options.host, port: options.port });
      const cleanup = (): void => {
        signal.removeEventListener('abort', onAbort);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        socket.off('timeout', onTimeout);
        socket.setTimeout(0);
      };
      const onAbort = (): void => {
        cleanup();
        socket.destroy();
        reject(signal.reason);
      };
      const onError = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onTimeout = (): void => {
        onError(
          new Error(`ESL connect to ${options.host}:${options.port} timed out after ${connectTimeoutMs} ms`),
        );
      };
      const onConnect = (): void => {
        cleanup();
        socket.setNoDelay(true);
        socket.setKeepAlive(true, keepAliveMs);
        resolve(new TcpEslConnection(socket));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', onConnect);
      socket.once('error', onError);
      socket.once('timeout', onTimeout);
      socket.setTimeout(connectTimeoutMs);
    });
}

class TcpEslConnection implements EslConnection {
  readonly #socket: Socket;
  #closing = false;
  readonly #closed: Promise<void>;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    // Errors reach the reader through `chunks`; this listener only keeps an error that happens while
    // nobody reads from being an uncaught 'error' event.
    socket.on('error', () => {});
  }

  get chunks(): AsyncIterable<Uint8Array> {
    return this.#read();
  }

  async *#read(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of this.#socket as AsyncIterable<Buffer>) yield chunk;
    } catch (err) {
      // Our own close() ends the read with a premature-close error: that is a normal end.
      if (!this.#closing) throw err;
    }
  }

  write(data: string): void {
    if (!this.#closing && this.#socket.writable) this.#socket.write(data);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#socket.destroy();
    await this.#closed;
  }
}
