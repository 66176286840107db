/**
 * Durable call records on JetStream. `ensureCdrStream` creates (or brings up to date) a stream that
 * captures the CDR subject, so the server stores every core publish of `Event.CDR` without any change
 * on the publishing side. `DurableConsumer` reads such a stream through a durable pull consumer with
 * explicit acks: a message is acknowledged only after its handler resolved (for `xcc cdr listen
 * --durable`: after the story holding the record was written to the store), a failed handler gets the
 * message redelivered, and a consumer that was down resumes where its acknowledgements left off.
 *
 * Only this file (with nats-bus.ts) knows JetStream; callers see plain options, `DurableMsg` and
 * `DurableStreamError`.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type JsMsg,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { type Logger, silentLogger } from '../protocol/logger.js';
import { BusError } from './errors.js';
import type { NatsBus } from './nats-bus.js';

/** Default stream name for call records. */
export const DEFAULT_CDR_STREAM = 'XCC_CDR';
/** Default retention of the CDR stream: 30 days. */
export const DEFAULT_CDR_MAX_AGE_MS = 30 * 86_400_000;

/** Why a durable-stream operation failed. */
export type DurableStreamFailure =
  /** The server has JetStream off (nats-server needs `-js` or a `jetstream {}` block). */
  | 'jetstream-unavailable'
  /** The stream or consumer exists with settings that cannot be changed in place. */
  | 'conflict'
  /** The stream does not exist. */
  | 'not-found'
  /** Any other JetStream API error (the cause has the server's code and text). */
  | 'api';

/** A JetStream stream or consumer could not be set up; `kind` says why, `cause` has the client error. */
export class DurableStreamError extends BusError {
  override readonly name = 'DurableStreamError';
  constructor(
    readonly kind: DurableStreamFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Options of {@link ensureCdrStream}. */
export interface CdrStreamOptions {
  /** Stream name. Default {@link DEFAULT_CDR_STREAM}. */
  name?: string;
  /** Subjects it captures, e.g. `['cn.xswitch.cdr']` (never the controller subjects: see the docs). */
  subjects: readonly string[];
  /** Records older than this are dropped, ms; 0 keeps them for ever. Default 30 days. */
  maxAgeMs?: number;
  /** Oldest records are dropped past this size, bytes; -1 means no limit. Default -1. */
  maxBytes?: number;
  /** Copies kept in a JetStream cluster. Default 1. */
  replicas?: number;
}

/** What {@link ensureCdrStream} found and did. */
export interface CdrStreamState {
  readonly name: string;
  readonly subjects: readonly string[];
  /** The stream did not exist and was created. */
  readonly created: boolean;
  /** The stream existed with other subjects or limits and was updated. */
  readonly updated: boolean;
  /** Records stored now. */
  readonly messages: number;
  /** Stream sequence of the newest record (0 when empty). */
  readonly lastSeq: number;
}

/**
 * Creates the CDR stream, or updates its subjects and limits when they differ; idempotent. Limits
 * retention, file storage, oldest records discarded first.
 *
 * @example
 * await ensureCdrStream(bus, { subjects: [subjects().cdr] });   // XCC_CDR on cn.xswitch.cdr
 * @throws DurableStreamError
 */
export async function ensureCdrStream(bus: NatsBus, options: CdrStreamOptions): Promise<CdrStreamState> {
  const name = options.name ?? DEFAULT_CDR_STREAM;
  const subjects = [...new Set(options.subjects)];
  if (subjects.length === 0) throw new DurableStreamError('api', `stream ${name}: no subjects given`);
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_CDR_MAX_AGE_MS;
  const want = {
    subjects,
    max_age: nanos(maxAgeMs),
    max_bytes: options.maxBytes ?? -1,
    num_replicas: options.replicas ?? 1,
  };
  const jsm = await manager(bus);
  const existing = await streamInfo(jsm, name);
  if (existing === undefined) {
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      ...want,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
    };
    const info = await api(`create stream ${name}`, () => jsm.streams.add(config));
    return state(name, subjects, true, false, info.state.messages, info.state.last_seq);
  }
  const have = existing.config;
  if (have.retention !== RetentionPolicy.Limits || have.storage !== StorageType.File)
    throw new DurableStreamError(
      'conflict',
      `stream ${name} exists with retention ${have.retention} and storage ${have.storage}; ` +
        'call records need limits retention on file storage (delete the stream or choose another name)',
    );
  const same =
    sameSet(have.subjects ?? [], subjects) &&
    have.max_age === want.max_age &&
    have.max_bytes === want.max_bytes &&
    have.num_replicas === want.num_replicas;
  if (same) return state(name, subjects, false, false, existing.state.messages, existing.state.last_seq);
  const info = await api(`update stream ${name}`, () => jsm.streams.update(name, { ...have, ...want }));
  return state(name, subjects, false, true, info.state.messages, info.state.last_seq);
}

/** One stored message as a {@link DurableConsumer} handler sees it. */
export interface DurableMsg {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Stream sequence: unique per stored message, the same on every redelivery. */
  readonly seq: number;
  /** 1 on the first delivery, then 2, 3… */
  readonly deliveryCount: number;
  /** When the server stored it (ms since the epoch). */
  readonly storedAtMs: number;
}

/** Resolve when the message is safely handled (it is then acked); reject to have it redelivered. */
export type DurableHandler = (msg: DurableMsg) => Promise<void>;

/** Options of {@link DurableConsumer.start}. */
export interface DurableConsumerOptions {
  stream: string;
  /** Durable consumer name: the server remembers its acknowledgements under this name. */
  durable: string;
  /** Only messages on this subject (default: the whole stream). Fixed when the consumer is created. */
  filterSubject?: string;
  /**
   * How long a delivered message may stay unacknowledged before the server redelivers it, ms. Must
   * exceed the longest handler (for CDRs: the story engine's quiet time + the store write).
   * Default 60 000.
   */
  ackWaitMs?: number;
  /** Most messages delivered and not yet acknowledged. Default 20 000. */
  maxAckPending?: number;
  /** Deliveries of one message before the server gives up on it; -1 never. Default -1. */
  maxDeliver?: number;
  /** Delay before a message whose handler failed is redelivered, ms. Default 2 000. */
  retryDelayMs?: number;
  /** Messages the client asks for at a time. Default 256. */
  batch?: number;
  /** How long to wait for the server to confirm an ack, ms. Default 5 000. */
  ackTimeoutMs?: number;
  logger?: Logger;
}

/** Counters of a {@link DurableConsumer}. */
export interface DurableConsumerStats {
  /** Handler calls (one per stream sequence per run). */
  handled: number;
  /** Acks the server confirmed. */
  acked: number;
  /** Handler failures (message nak'd for redelivery). */
  failed: number;
  /** Deliveries of a message whose handler was still running (acked with it, handler not re-run). */
  duplicates: number;
  /** Messages given back unhandled or unfinished at stop (nak'd, redelivered to the next run). */
  released: number;
  /** Acks the server did not confirm (the message may come again; handlers must be idempotent). */
  ackFailures: number;
}

interface InFlight {
  readonly msgs: JsMsg[];
}

/**
 * A durable pull consumer with explicit acks. Handlers run concurrently, one per stream sequence, in
 * delivery order; each message is acked when its handler resolved and nak'd (redelivered after
 * `retryDelayMs`) when it rejected. The first start delivers the whole stream; later starts resume
 * after the last acknowledged message.
 *
 * @example
 * const consumer = await DurableConsumer.start(bus, { stream: 'XCC_CDR', durable: 'cdr-db' },
 *   async (msg) => { await store.write(msg.data); });
 * // … Ctrl-C
 * await consumer.close();
 */
export class DurableConsumer {
  readonly stats: DurableConsumerStats = {
    handled: 0,
    acked: 0,
    failed: 0,
    duplicates: 0,
    released: 0,
    ackFailures: 0,
  };
  /** Settles when the pull loop ended (after `stopFetching`/`close`, or when the connection closed). */
  readonly done: Promise<void>;
  readonly #messages: ConsumerMessages;
  readonly #handler: DurableHandler;
  readonly #logger: Logger;
  readonly #retryDelayMs: number;
  readonly #ackTimeoutMs: number;
  readonly #inFlight = new Map<number, InFlight>();
  readonly #acks = new Set<Promise<void>>();
  #stopping = false;
  #closed: Promise<void> | undefined;

  private constructor(messages: ConsumerMessages, handler: DurableHandler, options: DurableConsumerOptions) {
    this.#messages = messages;
    this.#handler = handler;
    this.#logger = options.logger ?? silentLogger;
    this.#retryDelayMs = options.retryDelayMs ?? 2_000;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.done = this.#run();
    // why: the status stream ends when the messages iterator stops, so this loop cannot outlive it.
    void this.#watchStatus(options);
  }

  /**
   * Creates the durable consumer if it does not exist (deliver all, explicit acks), or updates its
   * ack wait / max ack pending / max deliver when they differ, then starts pulling.
   *
   * @throws DurableStreamError when JetStream is off, the stream is missing, or the existing consumer
   *   filters another subject.
   */
  static async start(
    bus: NatsBus,
    options: DurableConsumerOptions,
    handler: DurableHandler,
  ): Promise<DurableConsumer> {
    const { stream, durable } = options;
    const editable = {
      ack_wait: nanos(options.ackWaitMs ?? 60_000),
      max_ack_pending: options.maxAckPending ?? 20_000,
      max_deliver: options.maxDeliver ?? -1,
    };
    const jsm = await manager(bus);
    if ((await streamInfo(jsm, stream)) === undefined)
      throw new DurableStreamError('not-found', `no JetStream stream ${stream} (create it first)`);
    const existing = await consumerInfo(jsm, stream, durable);
    if (existing === undefined) {
      const config: Partial<ConsumerConfig> = {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        replay_policy: ReplayPolicy.Instant,
        ...editable,
        ...(options.filterSubject === undefined ? {} : { filter_subject: options.filterSubject }),
      };
      await api(`create consumer ${durable} on ${stream}`, () => jsm.consumers.add(stream, config));
    } else {
      const have = existing.config;
      if ((have.filter_subject ?? '') !== (options.filterSubject ?? have.filter_subject ?? ''))
        throw new DurableStreamError(
          'conflict',
          `consumer ${durable} on ${stream} filters ${have.filter_subject ?? 'nothing'}, not ${options.filterSubject}`,
        );
      if (have.ack_policy !== AckPolicy.Explicit || have.deliver_subject !== undefined)
        throw new DurableStreamError(
          'conflict',
          `consumer ${durable} on ${stream} is not a pull consumer with explicit acks; choose another name`,
        );
      if (
        have.ack_wait !== editable.ack_wait ||
        have.max_ack_pending !== editable.max_ack_pending ||
        (have.max_deliver ?? -1) !== editable.max_deliver
      )
        await api(`update consumer ${durable} on ${stream}`, () =>
          jsm.consumers.update(stream, durable, editable),
        );
    }
    const messages = await api(`consume ${durable} on ${stream}`, async () => {
      const consumer = await bus.jetstream().consumers.get(stream, durable);
      return consumer.consume({ max_messages: options.batch ?? 256 });
    });
    return new DurableConsumer(messages, handler, options);
  }

  /** Messages whose handler has not settled yet. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Stops asking for messages. Messages already delivered to the client but not handed to the
   * handler are nak'd (the next run gets them at once); handlers already running go on and are acked
   * when they resolve.
   */
  async stopFetching(): Promise<void> {
    this.#stopping = true;
    await this.#messages.close();
    await this.done;
  }

  /**
   * `stopFetching()`, then gives back every message whose handler is still running (nak'd: a
   * restarted consumer gets it without waiting for the ack wait) and waits for pending ack
   * confirmations. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    await this.stopFetching();
    for (const [seq, entry] of [...this.#inFlight]) {
      this.#inFlight.delete(seq);
      for (const m of entry.msgs) this.#release(m);
    }
    while (this.#acks.size > 0) await Promise.all([...this.#acks]);
  }

  async #run(): Promise<void> {
    try {
      for await (const m of this.#messages) {
        if (this.#stopping) this.#release(m);
        else this.#dispatch(m);
      }
    } catch (err) {
      this.#logger.error({ err }, 'durable consumer stopped');
    }
  }

  #dispatch(m: JsMsg): void {
    const seq = m.seq;
    const running = this.#inFlight.get(seq);
    if (running !== undefined) {
      // Redelivered while its handler still runs (ack wait shorter than the handler): ack it with
      // the first delivery instead of running the handler twice.
      this.stats.duplicates++;
      running.msgs.push(m);
      return;
    }
    const entry: InFlight = { msgs: [m] };
    this.#inFlight.set(seq, entry);
    this.stats.handled++;
    const msg: DurableMsg = {
      subject: m.subject,
      data: m.data,
      seq,
      deliveryCount: m.info.deliveryCount,
      storedAtMs: Math.floor(m.info.timestampNanos / 1e6),
    };
    let result: Promise<void>;
    try {
      result = this.#handler(msg);
    } catch (err) {
      result = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // why: settled through #settle, which never throws; close() hands back entries still running.
    void result.then(
      () => this.#settle(seq, entry, undefined),
      (err: unknown) => this.#settle(seq, entry, err ?? new Error('handler rejected')),
    );
  }

  #settle(seq: number, entry: InFlight, err: unknown): void {
    // Not ours any more: released at close (the next run gets the message again).
    if (this.#inFlight.get(seq) !== entry) return;
    this.#inFlight.delete(seq);
    if (err !== undefined) {
      this.stats.failed++;
      this.#logger.warn(
        { err, seq, retryInMs: this.#retryDelayMs },
        'durable message handler failed; redelivery asked',
      );
      for (const m of entry.msgs) this.#nak(m, this.#retryDelayMs);
      return;
    }
    for (const m of entry.msgs) this.#ack(m);
  }

  #ack(m: JsMsg): void {
    const done = m.ackAck({ timeout: this.#ackTimeoutMs }).then(
      (ok) => {
        if (ok) this.stats.acked++;
        else this.#ackFailed(m, undefined);
      },
      (err: unknown) => this.#ackFailed(m, err),
    );
    this.#acks.add(done);
    // why: tracked in #acks so close() waits for it; the chain above never rejects.
    void done.finally(() => this.#acks.delete(done));
  }

  #ackFailed(m: JsMsg, err: unknown): void {
    this.stats.ackFailures++;
    this.#logger.warn({ err, seq: m.seq }, 'ack not confirmed; the message may be delivered again');
  }

  #release(m: JsMsg): void {
    this.stats.released++;
    this.#nak(m, 0);
  }

  #nak(m: JsMsg, delayMs: number): void {
    try {
      // why: always with a delay. nats-server 2.9 "rewinds" a delay-less nak of the last delivered
      // message and then delivers it twice (once as new, once as a redelivery) and can strand others.
      m.nak(Math.max(1, delayMs));
    } catch (err) {
      // connection closed: the server redelivers after the ack wait anyway
      this.#logger.warn({ err, seq: m.seq }, 'nak not sent');
    }
  }

  async #watchStatus(options: DurableConsumerOptions): Promise<void> {
    const where = { stream: options.stream, durable: options.durable };
    try {
      for await (const s of this.#messages.status()) {
        switch (s.type) {
          case 'heartbeats_missed':
            this.#logger.warn({ ...where, count: s.count }, 'durable consumer missed server heartbeats');
            break;
          case 'consumer_not_found':
          case 'stream_not_found':
          case 'consumer_deleted':
            this.#logger.error({ ...where, status: s.type }, 'durable consumer lost its stream or consumer');
            break;
          default:
            break;
        }
      }
    } catch (err) {
      this.#logger.error({ ...where, err }, 'durable consumer status stream failed');
    }
  }
}

/** Consumer info, or undefined when there is none by that name. */
async function consumerInfo(jsm: JetStreamManager, stream: string, durable: string) {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
    throw apiError(`consumer ${durable} on ${stream}`, err);
  }
}

async function streamInfo(jsm: JetStreamManager, name: string) {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw apiError(`stream ${name}`, err);
  }
}

async function manager(bus: NatsBus): Promise<JetStreamManager> {
  try {
    return await bus.jetstreamManager();
  } catch (err) {
    if (err instanceof BusError) throw err;
    throw new DurableStreamError(
      'jetstream-unavailable',
      `JetStream is not available on this NATS server (start nats-server with -js): ${message(err)}`,
      { cause: err },
    );
  }
}

async function api<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw apiError(what, err);
  }
}

function apiError(what: string, err: unknown): DurableStreamError {
  if (err instanceof DurableStreamError) return err;
  return new DurableStreamError('api', `${what}: ${message(err)}`, { cause: err });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}

function state(
  name: string,
  subjects: readonly string[],
  created: boolean,
  updated: boolean,
  messages: number,
  lastSeq: number,
): CdrStreamState {
  return { name, subjects, created, updated, messages, lastSeq };
}
