/**
 * The inbound ESL client: connects through an injected `EslConnect`, logs in (`auth` / `userauth`),
 * sets `filter`s, subscribes (`event plain|json …`) and yields `SwitchEvent`s as one async iterable
 * that survives disconnects: it reconnects with exponential backoff on the injected `Clock`.
 */
import type { Clock } from '../../clock/index.js';
import type { EslFrame } from './esl-frame.js';
import { EslParser, type EslParserOptions } from './esl-parser.js';
import {
  EslAuthError,
  EslCommandError,
  EslConfigError,
  EslConnectionClosedError,
  type EslProtocolError,
  EslTimeoutError,
} from './errors.js';
import type { SwitchEvent } from './switch-event.js';
import type { EslConnect, EslConnection } from './transport.js';

/** One `filter <header> <value>` line: only events whose header has that value are sent. */
export interface EslFilter {
  header: string;
  value: string;
}

/** Reconnect delays: `initialMs × factor^(failures−1)`, capped at `maxMs`. */
export interface EslBackoff {
  /** Delay before the first retry (default 500 ms). */
  initialMs?: number;
  /** Upper bound (default 30 000 ms). */
  maxMs?: number;
  /** Growth per consecutive failure (default 2). */
  factor?: number;
}

/** What the client is doing, reported through `onStatus`. */
export type EslClientStatus =
  | { readonly state: 'connecting'; readonly attempt: number }
  /** Logged in and subscribed: events flow. */
  | { readonly state: 'connected' }
  | { readonly state: 'disconnected'; readonly reason: Error | undefined; readonly retryInMs: number }
  /** The iteration ended: by `close()`, by the consumer leaving the loop, or by a fatal `error`. */
  | { readonly state: 'closed'; readonly error: Error | undefined };

/** Options of {@link EslClient}. */
export interface EslClientOptions {
  /** Opens connections (see `src/cli/esl-transport.ts` for TCP). */
  connect: EslConnect;
  /** ESL password (`auth <password>`), or the user's password with `user`. */
  password: string;
  /** When set, logs in with `userauth <user>:<password>` (user@domain) instead of `auth`. */
  user?: string;
  /** Time source for timeouts and backoff. */
  clock: Clock;
  /** Event encoding asked of the server (default `plain`). */
  format?: 'plain' | 'json';
  /**
   * Event names to subscribe to (default `['ALL']`). Custom events: `'CUSTOM'` followed by their
   * subclasses, e.g. `['CHANNEL_CREATE', 'CUSTOM', 'callcenter::info']`.
   */
  events?: readonly string[];
  /** `filter` lines, sent before the subscription (default none). */
  filters?: readonly EslFilter[];
  /** How long to wait for `auth/request` and for each command reply (default 5 000 ms). */
  commandTimeoutMs?: number;
  backoff?: EslBackoff;
  parser?: EslParserOptions;
  /** Status changes (for logs and metrics). */
  onStatus?: (status: EslClientStatus) => void;
  /** Malformed frames that were skipped (the stream goes on). */
  onParseError?: (error: EslProtocolError) => void;
}

/** Counters since construction. */
export interface EslClientStats {
  connects: number;
  events: number;
  parseErrors: number;
}

/**
 * A live FreeSWITCH event source.
 *
 * @example
 * const client = new EslClient({ connect: tcpEslConnect({ host, port }), password: 'ClueCon', clock });
 * for await (const event of client.events()) router.push(event);
 * // elsewhere: await client.close();
 */
export class EslClient {
  readonly #options: Required<Pick<EslClientOptions, 'format' | 'events' | 'filters' | 'commandTimeoutMs'>> &
    EslClientOptions;
  readonly #backoff: Required<EslBackoff>;
  readonly #abort = new AbortController();
  readonly #stats: EslClientStats = { connects: 0, events: 0, parseErrors: 0 };
  #closed = false;
  #running = false;
  #conn: EslConnection | undefined;

  constructor(options: EslClientOptions) {
    this.#options = {
      ...options,
      format: options.format ?? 'plain',
      events: options.events ?? ['ALL'],
      filters: options.filters ?? [],
      commandTimeoutMs: options.commandTimeoutMs ?? 5000,
    };
    this.#backoff = {
      initialMs: options.backoff?.initialMs ?? 500,
      maxMs: options.backoff?.maxMs ?? 30_000,
      factor: options.backoff?.factor ?? 2,
    };
    const words = [
      options.password,
      options.user ?? '',
      ...this.#options.events,
      ...this.#options.filters.flatMap((f) => [f.header, f.value]),
    ];
    // A newline would end the command early and let the rest be read as another command.
    if (words.some((w) => /[\r\n]/.test(w))) {
      throw new EslConfigError('password, user, events and filters must not contain line breaks');
    }
    if (this.#options.events.length === 0) throw new EslConfigError('events must name at least one event');
  }

  /** Counters (connections made, events yielded, frames skipped as malformed). */
  get stats(): Readonly<EslClientStats> {
    return { ...this.#stats };
  }

  /**
   * The event stream. Iterate it once. It reconnects by itself; it ends when `close()` is called or
   * the loop is left (which closes the connection), and throws `EslAuthError` / `EslCommandError`
   * when the server refuses the login or a setup command (retrying would not help).
   */
  events(): AsyncIterable<SwitchEvent> {
    if (this.#running) throw new EslConfigError('events() is already being iterated');
    this.#running = true;
    return this.#run();
  }

  /** Stops: cancels a pending connect or backoff and closes the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort(new EslConnectionClosedError('client closed'));
    await this.#conn?.close();
  }

  async *#run(): AsyncGenerator<SwitchEvent> {
    let failures = 0;
    let attempt = 0;
    let fatal: Error | undefined;
    try {
      while (!this.#closed) {
        attempt++;
        this.#status({ state: 'connecting', attempt });
        let reason: Error | undefined;
        try {
          const conn = await this.#options.connect({ signal: this.#abort.signal });
          this.#conn = conn;
          try {
            if (this.#closed) break;
            this.#stats.connects++;
            yield* this.#session(conn, () => {
              failures = 0;
              attempt = 0;
            });
          } finally {
            this.#conn = undefined;
            await conn.close();
          }
        } catch (err) {
          if (err instanceof EslAuthError || err instanceof EslCommandError) {
            fatal = err;
            throw err;
          }
          reason = err instanceof Error ? err : new Error(String(err));
        }
        if (this.#closed) break;
        failures++;
        const delay = Math.min(
          this.#backoff.maxMs,
          this.#backoff.initialMs * this.#backoff.factor ** Math.max(0, failures - 1),
        );
        this.#status({ state: 'disconnected', reason, retryInMs: delay });
        try {
          await this.#options.clock.sleep(delay, this.#abort.signal);
        } catch {
          break; // close() aborted the wait
        }
      }
    } finally {
      this.#running = false;
      this.#closed = true;
      this.#status({ state: 'closed', error: fatal });
    }
  }

  /** One connection: login, filters, subscription, then events until the connection ends. */
  async *#session(conn: EslConnection, onReady: () => void): AsyncGenerator<SwitchEvent> {
    const parser = new EslParser(this.#options.parser);
    const frames = readFrames(conn, parser)[Symbol.asyncIterator]();
    /** Events that arrive while a reply is awaited are kept, in order. */
    const early: SwitchEvent[] = [];
    const timeoutMs = this.#options.commandTimeoutMs;

    /** Next frame that is not an event or noise; the connection is dropped if none comes in time. */
    const expect = async (what: string): Promise<EslFrame> => {
      let timedOut = false;
      const timer = this.#options.clock.setTimeout(() => {
        timedOut = true;
        // Closing ends `chunks`, which ends the pending read below; close() never rejects.
        void conn.close();
      }, timeoutMs);
      try {
        for (;;) {
          const next = await frames.next();
          if (next.done === true) {
            throw timedOut
              ? new EslTimeoutError(what, timeoutMs)
              : new EslConnectionClosedError(`before ${what}`);
          }
          const frame = next.value;
          switch (frame.kind) {
            case 'event':
              early.push(frame.event);
              break;
            case 'parse-error':
              this.#parseError(frame.error);
              break;
            case 'disconnect-notice':
              throw new EslConnectionClosedError(`disconnect notice before ${what}: ${frame.body.trim()}`);
            case 'rude-rejection':
              throw new EslConnectionClosedError(`rejected: ${frame.body.trim()}`);
            case 'api-response':
            case 'other':
              break;
            case 'auth-request':
            case 'command-reply':
              return frame;
          }
        }
      } finally {
        timer.cancel();
      }
    };

    const command = async (line: string, what: string): Promise<void> => {
      conn.write(line + '\n\n');
      const reply = await expect(`reply to ${what}`);
      if (reply.kind !== 'command-reply') {
        throw new EslConnectionClosedError(`expected a reply to ${what}, got ${reply.kind}`);
      }
      if (!reply.ok) {
        if (what === 'auth') throw new EslAuthError(reply.replyText);
        throw new EslCommandError(line, reply.replyText);
      }
    };

    try {
      const hello = await expect('auth/request');
      if (hello.kind !== 'auth-request') {
        throw new EslConnectionClosedError(`expected auth/request, got ${hello.kind}`);
      }
      const { user, password } = this.#options;
      await command(user === undefined ? `auth ${password}` : `userauth ${user}:${password}`, 'auth');
      for (const f of this.#options.filters) await command(`filter ${f.header} ${f.value}`, 'filter');
      await command(`event ${this.#options.format} ${this.#options.events.join(' ')}`, 'event');
      onReady();
      this.#status({ state: 'connected' });

      for (const event of early.splice(0)) {
        this.#stats.events++;
        yield event;
      }
      for (;;) {
        const next = await frames.next();
        if (next.done === true) return;
        const frame = next.value;
        switch (frame.kind) {
          case 'event':
            this.#stats.events++;
            yield frame.event;
            break;
          case 'parse-error':
            this.#parseError(frame.error);
            break;
          case 'disconnect-notice':
          case 'rude-rejection':
            return;
          case 'auth-request':
          case 'command-reply':
          case 'api-response':
          case 'other':
            break;
        }
      }
    } finally {
      await frames.return?.(undefined);
    }
  }

  #parseError(error: EslProtocolError): void {
    this.#stats.parseErrors++;
    this.#options.onParseError?.(error);
  }

  #status(status: EslClientStatus): void {
    this.#options.onStatus?.(status);
  }
}

/** Frames of one connection; the parser's end-of-stream report included. */
async function* readFrames(conn: EslConnection, parser: EslParser): AsyncGenerator<EslFrame> {
  for await (const chunk of conn.chunks) yield* parser.push(chunk);
  yield* parser.end();
}
