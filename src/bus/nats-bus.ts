/**
 * `NatsBus`: the `Bus` contract on the official NATS client (`@nats-io/transport-node` v3) for the
 * distributed mode. Owns the connection, maps the client's errors onto the bus error classes, runs
 * requests through one muxed inbox subscription (so a request can be aborted by a signal and
 * rejected on close without leaving timers behind), and reports reconnects.
 */
import { readFile } from 'node:fs/promises';
import {
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamOptions,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import {
  AuthorizationError,
  type Authenticator,
  ClosedConnectionError,
  ConnectionError,
  createInbox,
  credsAuthenticator,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError as NatsInvalidSubjectError,
  type Msg,
  type NatsConnection,
  NoRespondersError,
  RequestError,
  type Subscription as NatsSubscriptionHandle,
  nkeyAuthenticator,
  TimeoutError,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from '@nats-io/nats-core';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { type Logger, silentLogger } from '../protocol/logger.js';
import type { Bus, BusMsg, RequestOptions, SubscribeOptions, Subscription } from './bus.js';
import {
  BusClosedError,
  BusError,
  BusNoRespondersError,
  BusTimeoutError,
  InvalidSubjectError,
  PayloadTooLargeError,
} from './errors.js';
import { isValidPattern } from './subject-match.js';

/** TLS files, passed through to the client (which reads them). */
export interface NatsBusTlsOptions {
  /** CA bundle to verify the server with. */
  caFile?: string;
  /** Client certificate (mutual TLS). */
  certFile?: string;
  /** Client key (mutual TLS). */
  keyFile?: string;
  /** Verify the server certificate. Default true. */
  rejectUnauthorized?: boolean;
  /** Start TLS before the NATS INFO (server `handshake_first`). Default false. */
  handshakeFirst?: boolean;
}

export interface NatsBusOptions {
  /** One URL or a list, e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** Connection name shown by the server's monitoring. Default: none. */
  name?: string;
  /** User/password authentication (both or neither). */
  user?: string;
  pass?: string;
  /** Token authentication. */
  token?: string;
  /** NKey seed (`SU…`) for nkey authentication. */
  nkeySeed?: string;
  /** A `.creds` file (JWT + nkey seed) for decentralised authentication. */
  credsFile?: string;
  /** TLS; omit for plain TCP (a `tls://` URL also turns TLS on). */
  tls?: NatsBusTlsOptions;
  /** Reconnect attempts per server after a lost connection; -1 means forever. Default -1. */
  maxReconnectAttempts?: number;
  /** Wait between reconnect attempts to the same server. Default 2000 ms. */
  reconnectTimeWaitMs?: number;
  /** How long the first connection may take before failing. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Where disconnects, reconnects and throwing callbacks are reported. Default: silent. */
  logger?: Logger;
}

/** Why `NatsBus.connect` failed. */
export type BusConnectFailure = 'refused' | 'auth' | 'timeout' | 'other';

/** The first connection could not be made; the message names the server URL(s). */
export class BusConnectError extends BusError {
  override readonly name = 'BusConnectError';
  constructor(
    readonly servers: readonly string[],
    readonly reason: BusConnectFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A request waiting for its reply on the muxed inbox. */
interface PendingRequest {
  readonly subject: string;
  readonly timeoutMs: number;
  readonly resolve: (msg: BusMsg) => void;
  readonly reject: (err: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const DOT = 46;
const STAR = 42;
const GT = 62;

/**
 * True for a subject one may publish to: non-empty tokens, no wildcard token, no whitespace or control
 * characters. A single pass with no allocation, because it runs on every publish (the pattern check of
 * subject-match.ts splits into an array, which is fine for the rarer subscribe).
 */
function isPublishSubject(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? DOT : s.charCodeAt(i);
    if (c === DOT) {
      const len = i - start;
      if (len === 0) return false;
      if (len === 1) {
        const t = s.charCodeAt(start);
        if (t === STAR || t === GT) return false;
      }
      start = i + 1;
    } else if (c <= 32 || c === 127 || c === 0x85 || c === 0xa0 || c === 0x2028 || c === 0x2029) {
      return false;
    }
  }
  return true;
}

/**
 * A received message. The one object the bus adds per message: it turns the client's empty-string
 * "no reply" into `undefined` and routes `respond` through `NatsBus.publish` so replies get the bus's
 * errors (`PayloadTooLargeError`, `BusClosedError`). The data is the client's buffer, never copied.
 */
class NatsBusMsg implements BusMsg {
  readonly #msg: Msg;
  readonly #bus: NatsBus;
  constructor(msg: Msg, bus: NatsBus) {
    this.#msg = msg;
    this.#bus = bus;
  }
  get subject(): string {
    return this.#msg.subject;
  }
  get data(): Uint8Array {
    return this.#msg.data;
  }
  get reply(): string | undefined {
    const reply = this.#msg.reply;
    return reply === undefined || reply === '' ? undefined : reply;
  }
  respond(data: Uint8Array): boolean {
    const reply = this.reply;
    if (reply === undefined) return false;
    this.#bus.publish(reply, data);
    return true;
  }
}

/** A `Subscription` over the client's; callback mode or async iteration, never both. */
class NatsBusSubscription implements Subscription {
  #closed = false;
  constructor(
    readonly subject: string,
    readonly queue: string | undefined,
    private readonly handle: NatsSubscriptionHandle,
    private readonly bus: NatsBus,
    private readonly hasCallback: boolean,
    private readonly forget: (sub: NatsBusSubscription) => void,
  ) {}

  get isClosed(): boolean {
    return this.#closed || this.handle.isClosed();
  }

  unsubscribe(): void {
    if (this.#closed) return;
    this.#markClosed();
    if (this.handle.isClosed()) return;
    try {
      this.handle.unsubscribe();
    } catch {
      // the connection is already closed or draining: the server forgets the subscription anyway
    }
  }

  /** Called when the client closed the subscription itself (drain, connection closed). */
  markClosedByClient(): void {
    if (!this.#closed) this.#markClosed();
  }

  #markClosed(): void {
    this.#closed = true;
    this.forget(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<BusMsg> {
    if (this.hasCallback)
      throw new BusError(`subscription to ${this.subject} has a callback; it cannot be iterated`);
    try {
      for await (const msg of this.handle) yield new NatsBusMsg(msg, this.bus);
    } finally {
      // leaving the loop (break, return, throw) ends the subscription, as in nats.js
      this.unsubscribe();
    }
  }
}

/**
 * The `Bus` on a real NATS connection.
 *
 * @example
 * const bus = await NatsBus.connect({ servers: 'nats://127.0.0.1:4222', name: 'xnode-1' });
 * const sub = bus.subscribe('cn.xswitch.node', { queue: 'xnode', callback: (m) => handle(m) });
 * const reply = await bus.request('cn.xswitch.node', payload, { timeoutMs: 5_000 });
 * await bus.drain();
 */
export class NatsBus implements Bus {
  readonly closed: Promise<void>;
  readonly #nc: NatsConnection;
  readonly #logger: Logger;
  readonly #subs = new Set<NatsBusSubscription>();
  readonly #reconnectListeners = new Set<() => void>();
  readonly #disconnectListeners = new Set<() => void>();
  readonly #pending = new Map<string, PendingRequest>();
  readonly #forget = (sub: NatsBusSubscription): void => {
    this.#subs.delete(sub);
  };
  #maxPayload: number;
  #muxPrefix: string | undefined;
  #nextToken = 0;
  /** Set once close() started or the connection closed for good. */
  #closing = false;
  /**
   * The drain in progress, shared by concurrent `drain()` calls. While it runs, callbacks may still
   * publish (a node answers the requests it already received); new subscriptions are refused.
   */
  #draining: Promise<void> | undefined;

  private constructor(nc: NatsConnection, logger: Logger) {
    this.#nc = nc;
    this.#logger = logger;
    this.#maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.closed = nc.closed().then((err) => {
      if (err) this.#logger.error({ err }, 'nats connection closed with an error');
      this.#closing = true;
      this.#rejectAllPending();
      for (const sub of [...this.#subs]) sub.markClosedByClient();
    });
    // why: the status stream ends when the connection closes, so this loop cannot outlive the bus.
    void this.#watchStatus();
  }

  /**
   * Connects to NATS. Rejects with `BusConnectError` naming the server URL(s) when the server refuses
   * the connection, authentication fails, or the connection does not come up in `connectTimeoutMs`.
   */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
    const where = servers.join(', ');
    const authenticator = await buildAuthenticator(options, servers);
    const tls = options.tls;
    const connectOptions: NodeConnectionOptions = {
      servers,
      name: options.name,
      maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? 2_000,
      timeout: options.connectTimeoutMs ?? 5_000,
      authenticator,
      tls:
        tls === undefined
          ? undefined
          : {
              caFile: tls.caFile,
              certFile: tls.certFile,
              keyFile: tls.keyFile,
              rejectUnauthorized: tls.rejectUnauthorized,
              handshakeFirst: tls.handshakeFirst,
            },
    };
    let nc: NatsConnection;
    try {
      nc = await connect(connectOptions);
    } catch (err) {
      throw connectError(servers, where, err);
    }
    return new NatsBus(nc, options.logger ?? silentLogger);
  }

  /** The server's `max_payload` (refreshed on reconnect). */
  get maxPayload(): number {
    return this.#maxPayload;
  }

  get subscriptionCount(): number {
    return this.#subs.size;
  }

  publish(subject: string, data: Uint8Array, options?: { reply?: string }): void {
    if (this.#closing) throw new BusClosedError();
    if (!isPublishSubject(subject)) throw new InvalidSubjectError(subject);
    if (data.length > this.#maxPayload) throw new PayloadTooLargeError(data.length, this.#maxPayload);
    const reply = options?.reply;
    if (reply !== undefined && !isPublishSubject(reply)) throw new InvalidSubjectError(reply);
    try {
      this.#nc.publish(subject, data, reply === undefined ? undefined : { reply });
    } catch (err) {
      throw this.#mapError(err, subject, data.length);
    }
  }

  subscribe(subject: string, options?: SubscribeOptions): Subscription {
    if (this.#closing || this.#draining !== undefined) throw new BusClosedError();
    if (!isValidPattern(subject)) throw new InvalidSubjectError(subject);
    const queue = options?.queue;
    if (queue !== undefined && !isPublishSubject(queue)) throw new InvalidSubjectError(queue);
    const callback = options?.callback;
    let handle: NatsSubscriptionHandle;
    try {
      if (callback === undefined) {
        handle = this.#nc.subscribe(subject, { queue });
      } else {
        handle = this.#nc.subscribe(subject, {
          queue,
          callback: (err, msg) => {
            if (err) {
              this.#logger.error({ err, subject }, 'nats subscription error');
              return;
            }
            try {
              callback(new NatsBusMsg(msg, this));
            } catch (cbErr) {
              this.#logger.error({ err: cbErr, subject }, 'subscription callback threw');
            }
          },
        });
      }
    } catch (err) {
      throw this.#mapError(err, subject, 0);
    }
    const sub = new NatsBusSubscription(subject, queue, handle, this, callback !== undefined, this.#forget);
    this.#subs.add(sub);
    const done = (): void => sub.markClosedByClient();
    // why: drain and connection loss close client subscriptions without our unsubscribe()
    void handle.closed.then(done, done);
    return sub;
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMsg> {
    const { timeoutMs, signal } = options;
    if (this.#closing) return Promise.reject(new BusClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!isPublishSubject(subject)) return Promise.reject(new InvalidSubjectError(subject));
    if (data.length > this.#maxPayload) {
      return Promise.reject(new PayloadTooLargeError(data.length, this.#maxPayload));
    }
    let prefix: string;
    try {
      prefix = this.#ensureMux();
    } catch (err) {
      return Promise.reject(this.#mapError(err, subject, data.length));
    }
    const token = String(++this.#nextToken);
    return new Promise<BusMsg>((resolve, reject) => {
      const pending: PendingRequest = {
        subject,
        timeoutMs,
        resolve,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
      };
      this.#pending.set(token, pending);
      pending.timer = setTimeout(() => {
        this.#settle(token)?.reject(new BusTimeoutError(subject, timeoutMs));
      }, timeoutMs);
      if (signal !== undefined) {
        pending.onAbort = () => {
          this.#settle(token)?.reject(signal.reason);
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      try {
        this.#nc.publish(subject, data, { reply: prefix + token });
      } catch (err) {
        this.#settle(token)?.reject(this.#mapError(err, subject, data.length));
      }
    });
  }

  inbox(): string {
    return createInbox();
  }

  async flush(): Promise<void> {
    if (this.#nc.isClosed()) throw new BusClosedError();
    try {
      await this.#nc.flush();
    } catch (err) {
      throw this.#mapError(err, '', 0);
    }
  }

  drain(): Promise<void> {
    if (this.#nc.isClosed()) return Promise.reject(new BusClosedError());
    if (this.#draining !== undefined) return this.#draining;
    if (this.#closing) return Promise.reject(new BusClosedError());
    this.#draining = this.#drain();
    return this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      await this.#nc.drain();
    } catch (err) {
      // closed underneath us (server gone for good): the end state is the same
      if (!(err instanceof ClosedConnectionError || err instanceof DrainingConnectionError)) {
        throw this.#mapError(err, '', 0);
      }
    }
    await this.closed;
  }

  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#rejectAllPending();
      await this.#nc.close();
    }
    await this.closed;
  }

  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener);
    return () => {
      this.#reconnectListeners.delete(listener);
    };
  }

  onDisconnect(listener: () => void): () => void {
    this.#disconnectListeners.add(listener);
    return () => {
      this.#disconnectListeners.delete(listener);
    };
  }

  /**
   * JetStream on this connection, for durable streams (durable-stream.ts). The bus keeps owning the
   * connection: closing or draining the bus ends JetStream consumers too.
   */
  jetstream(options: JetStreamOptions = {}): JetStreamClient {
    if (this.#closing) throw new BusClosedError();
    return jetstream(this.#nc, options);
  }

  /** The JetStream manager (streams, consumers); rejects when the server has JetStream off. */
  jetstreamManager(): Promise<JetStreamManager> {
    if (this.#closing) return Promise.reject(new BusClosedError());
    return jetstreamManager(this.#nc);
  }

  /** Subscribes the muxed reply inbox on first use; returns the prefix tokens are appended to. */
  #ensureMux(): string {
    if (this.#muxPrefix !== undefined) return this.#muxPrefix;
    const prefix = `${createInbox()}.`;
    this.#nc.subscribe(`${prefix}*`, {
      callback: (err, msg) => {
        if (err) {
          this.#logger.error({ err }, 'nats request inbox error');
          return;
        }
        const pending = this.#settle(msg.subject.slice(prefix.length));
        if (pending === undefined) return; // late reply after timeout/abort: dropped, as in NATS
        // why: with headers on, the server answers a request nobody listens to with an empty 503 status
        if (msg.data.length === 0 && msg.headers?.code === 503) {
          pending.reject(new BusNoRespondersError(pending.subject));
        } else {
          pending.resolve(new NatsBusMsg(msg, this));
        }
      },
    });
    this.#muxPrefix = prefix;
    return prefix;
  }

  /** Removes a pending request and releases its timer and abort listener; undefined if already settled. */
  #settle(token: string): PendingRequest | undefined {
    const pending = this.#pending.get(token);
    if (pending === undefined) return undefined;
    this.#pending.delete(token);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
    return pending;
  }

  #rejectAllPending(): void {
    for (const token of [...this.#pending.keys()]) this.#settle(token)?.reject(new BusClosedError());
  }

  async #watchStatus(): Promise<void> {
    try {
      for await (const status of this.#nc.status()) {
        switch (status.type) {
          case 'disconnect':
            this.#logger.warn({ server: status.server }, 'nats disconnected');
            for (const listener of [...this.#disconnectListeners]) {
              try {
                listener();
              } catch (err) {
                this.#logger.error({ err }, 'onDisconnect listener threw');
              }
            }
            break;
          case 'reconnect':
            this.#maxPayload = this.#nc.info?.max_payload ?? this.#maxPayload;
            this.#logger.info({ server: status.server }, 'nats reconnected');
            for (const listener of [...this.#reconnectListeners]) {
              try {
                listener();
              } catch (err) {
                this.#logger.error({ err }, 'onReconnect listener threw');
              }
            }
            break;
          case 'error':
            this.#logger.error({ err: status.error }, 'nats server error');
            break;
          case 'slowConsumer':
            this.#logger.warn(
              { subject: status.sub.getSubject(), pending: status.pending },
              'nats slow consumer',
            );
            break;
          default:
            // reconnecting, ping, update, ldm, staleConnection, forceReconnect, close: nothing to do
            break;
        }
      }
    } catch (err) {
      this.#logger.error({ err }, 'nats status stream failed');
    }
  }

  /** Client error → bus error class. */
  #mapError(err: unknown, subject: string, size: number): Error {
    if (err instanceof ClosedConnectionError || err instanceof DrainingConnectionError)
      return new BusClosedError();
    if (err instanceof NatsInvalidSubjectError) return new InvalidSubjectError(subject);
    if (err instanceof TimeoutError) return new BusTimeoutError(subject, 0);
    if (err instanceof NoRespondersError) return new BusNoRespondersError(subject);
    if (err instanceof RequestError && err.isNoResponders()) return new BusNoRespondersError(subject);
    if (err instanceof InvalidArgumentError && err.message.includes('max_payload')) {
      return new PayloadTooLargeError(size, this.#maxPayload);
    }
    if (err instanceof BusError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new BusError(`nats: ${message}`, { cause: err });
  }
}

async function buildAuthenticator(
  options: NatsBusOptions,
  servers: readonly string[],
): Promise<Authenticator[] | undefined> {
  const list: Authenticator[] = [];
  if (options.user !== undefined) list.push(usernamePasswordAuthenticator(options.user, options.pass));
  if (options.token !== undefined) list.push(tokenAuthenticator(options.token));
  if (options.nkeySeed !== undefined)
    list.push(nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed)));
  if (options.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = await readFile(options.credsFile);
    } catch (err) {
      throw new BusConnectError(servers, 'auth', `cannot read NATS credentials file ${options.credsFile}`, {
        cause: err,
      });
    }
    list.push(credsAuthenticator(creds));
  }
  return list.length === 0 ? undefined : list;
}

function connectError(servers: readonly string[], where: string, err: unknown): BusConnectError {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof AuthorizationError) {
    return new BusConnectError(
      servers,
      'auth',
      `NATS at ${where} rejected the credentials (${detail}): check user/pass, token, nkey or creds`,
      { cause: err },
    );
  }
  if (err instanceof ConnectionError && /refused/i.test(detail)) {
    return new BusConnectError(servers, 'refused', `cannot connect to NATS at ${where}: connection refused`, {
      cause: err,
    });
  }
  if (err instanceof TimeoutError || /timeout/i.test(detail)) {
    return new BusConnectError(servers, 'timeout', `cannot connect to NATS at ${where}: timed out`, {
      cause: err,
    });
  }
  return new BusConnectError(servers, 'other', `cannot connect to NATS at ${where}: ${detail}`, {
    cause: err,
  });
}
