/**
 * In-process bus with NATS semantics: a `MemoryBroker` plays the server, each `broker.connect()` is a
 * `Bus` (a client connection). Used by the embedded mode, scenario tests and benchmarks, so it is kept
 * fast: exact subjects are found through a Map; only wildcard subscriptions are scanned.
 *
 * Delivery is asynchronous and FIFO across the whole broker (so per subscription it is publish order):
 * a publish only enqueues; a microtask drains the queue. Microtasks (not macrotasks) let a whole
 * request → reply → event chain settle inside one `VirtualClock.tick()`; a fairness guard hands over to
 * `setImmediate` after a long run so a ping-pong loop cannot starve I/O.
 */
import { type Logger, silentLogger } from '../protocol/logger.js';
import type { Bus, BusMsg, RequestOptions, SubscribeOptions, Subscription } from './bus.js';
import {
  BusClosedError,
  BusNoRespondersError,
  BusTimeoutError,
  InvalidSubjectError,
  PayloadTooLargeError,
} from './errors.js';
import { hasWildcard, isValidPattern, isValidSubject, matchTokens } from './subject-match.js';

/**
 * The part of a `Clock` the broker needs for request timeouts. Structural on purpose: the module
 * arrows keep `bus` from importing `clock`, yet any `Clock` (`RealClock`, `VirtualClock`) fits.
 */
export interface BusTimerSource {
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** Node's timers, `unref`'d so a pending request timeout never keeps a process alive. */
const realTimers: BusTimerSource = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Default largest payload: 1 MiB, NATS' default `max_payload`. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Deliveries processed in one microtask run before yielding to the event loop. */
const DELIVERIES_PER_TURN = 10_000;

export interface MemoryBrokerOptions {
  /** Timers for request timeouts: pass the system's `Clock` (a `VirtualClock` in tests). Default: Node's timers. */
  clock?: BusTimerSource;
  /** Largest payload in bytes; larger publishes throw `PayloadTooLargeError`. Default 1 MiB. */
  maxPayload?: number;
  /** Where throwing subscription callbacks are reported. Default: silent. */
  logger?: Logger;
}

/** Counters for leak checks and benchmarks. */
export interface MemoryBrokerStats {
  /** Messages published since the broker was created. */
  messages: number;
  /** Messages handed to subscribers (a message to three subscribers counts three). */
  delivered: number;
  /** Live subscriptions over all connections, request inboxes included. */
  subscriptions: number;
  /** Open connections. */
  connections: number;
  /** Deliveries queued and not yet made. */
  queued: number;
}

interface FlushWaiter {
  /** Resolve once this many deliveries have been processed. */
  target: number;
  resolve: () => void;
}

interface Delivery {
  sub: MemorySubscription;
  msg: BusMsg;
}

/**
 * The in-process "server". Create one per embedded system or test; connect every party to it.
 *
 * @example
 * const broker = new MemoryBroker({ clock });
 * const node = broker.connect('node');
 * const ctrl = broker.connect('ctrl');
 */
export class MemoryBroker {
  readonly clock: BusTimerSource;
  readonly maxPayload: number;
  readonly logger: Logger;

  /** Exact subject → subscriptions on it. */
  readonly #exact = new Map<string, Set<MemorySubscription>>();
  /** Subscriptions whose pattern holds a wildcard: scanned on every publish. */
  readonly #wild = new Set<MemorySubscription>();
  readonly #connections = new Set<MemoryBus>();
  /** Round-robin cursor per queue-group name. */
  readonly #rr = new Map<string, number>();
  #queue: Delivery[] = [];
  #head = 0;
  #scheduled = false;
  /** Sequence numbers: enqueued and processed deliveries, for `flush()`. */
  #enqueued = 0;
  #processed = 0;
  #flushWaiters: FlushWaiter[] = [];
  #messages = 0;
  #delivered = 0;
  #subscriptions = 0;
  #nextConn = 0;
  readonly #inboxPrefix = `_INBOX.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  #inboxSeq = 0;

  constructor(options: MemoryBrokerOptions = {}) {
    this.clock = options.clock ?? realTimers;
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.logger = options.logger ?? silentLogger;
  }

  /** Opens a client connection; `name` shows up in logs. */
  connect(name?: string): MemoryBus {
    const bus = new MemoryBus(this, name ?? `conn-${++this.#nextConn}`);
    this.#connections.add(bus);
    return bus;
  }

  stats(): MemoryBrokerStats {
    return {
      messages: this.#messages,
      delivered: this.#delivered,
      subscriptions: this.#subscriptions,
      connections: this.#connections.size,
      queued: this.#queue.length - this.#head,
    };
  }

  /** Closes every connection (their pending requests reject with `BusClosedError`). */
  async close(): Promise<void> {
    await Promise.all([...this.#connections].map((c) => c.close()));
  }

  /** @internal */
  nextInbox(): string {
    return `${this.#inboxPrefix}.${(++this.#inboxSeq).toString(36)}`;
  }

  /** @internal */
  forget(bus: MemoryBus): void {
    this.#connections.delete(bus);
  }

  /** @internal */
  add(sub: MemorySubscription): void {
    this.#subscriptions++;
    if (sub.wildcard) {
      this.#wild.add(sub);
      return;
    }
    let set = this.#exact.get(sub.subject);
    if (!set) {
      set = new Set();
      this.#exact.set(sub.subject, set);
    }
    set.add(sub);
  }

  /** @internal Stops routing new messages to `sub` (already queued deliveries are still made). */
  remove(sub: MemorySubscription): void {
    const removed = sub.wildcard ? this.#wild.delete(sub) : this.#removeExact(sub);
    if (removed) this.#subscriptions--;
  }

  #removeExact(sub: MemorySubscription): boolean {
    const set = this.#exact.get(sub.subject);
    if (!set?.delete(sub)) return false;
    if (set.size === 0) this.#exact.delete(sub.subject);
    return true;
  }

  /** @internal True when at least one subscription would receive a message on `subject`. */
  hasInterest(subject: string): boolean {
    if (this.#exact.has(subject)) return true;
    if (this.#wild.size === 0) return false;
    const tokens = subject.split('.');
    for (const sub of this.#wild) if (matchTokens(sub.tokens, tokens)) return true;
    return false;
  }

  /** @internal Routes one message: every plain subscriber, one member per queue group. */
  route(subject: string, data: Uint8Array, reply: string | undefined): void {
    this.#messages++;
    const exact = this.#exact.get(subject);
    let matched: MemorySubscription[] | undefined;
    if (this.#wild.size > 0) {
      const tokens = subject.split('.');
      for (const sub of this.#wild) {
        if (!matchTokens(sub.tokens, tokens)) continue;
        if (matched) matched.push(sub);
        else matched = [sub];
      }
    }
    if (!exact && !matched) return;
    const all = matched ? [...(exact ?? []), ...matched] : [...exact!];
    let groups: Map<string, MemorySubscription[]> | undefined;
    for (const sub of all) {
      if (sub.queue === undefined) {
        this.#enqueue(sub, subject, data, reply);
      } else {
        groups ??= new Map();
        const members = groups.get(sub.queue);
        if (members) members.push(sub);
        else groups.set(sub.queue, [sub]);
      }
    }
    if (groups) {
      for (const [queue, members] of groups) {
        const n = this.#rr.get(queue) ?? 0;
        this.#rr.set(queue, (n + 1) % 1_000_000_007);
        this.#enqueue(members[n % members.length]!, subject, data, reply);
      }
    }
  }

  #enqueue(sub: MemorySubscription, subject: string, data: Uint8Array, reply: string | undefined): void {
    const owner = sub.owner;
    const msg: BusMsg = {
      subject,
      data,
      reply,
      respond: (answer: Uint8Array): boolean => {
        if (reply === undefined) return false;
        owner.publish(reply, answer);
        return true;
      },
    };
    this.#queue.push({ sub, msg });
    this.#enqueued++;
    this.#schedule(false);
  }

  #schedule(yieldFirst: boolean): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (yieldFirst) setImmediate(() => this.#run());
    else queueMicrotask(() => this.#run());
  }

  #run(): void {
    this.#scheduled = false;
    let budget = DELIVERIES_PER_TURN;
    while (this.#head < this.#queue.length) {
      if (budget-- === 0) {
        this.#schedule(true);
        break;
      }
      const { sub, msg } = this.#queue[this.#head]!;
      this.#queue[this.#head] = undefined as unknown as Delivery;
      this.#head++;
      this.#processed++;
      if (sub.deliver(msg)) this.#delivered++;
    }
    if (this.#head >= this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096) {
      // Compact now and then so a long-lived busy broker does not keep a huge sparse array.
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#flushWaiters.length > 0) {
      const still: FlushWaiter[] = [];
      for (const w of this.#flushWaiters) {
        if (this.#processed >= w.target) w.resolve();
        else still.push(w);
      }
      this.#flushWaiters = still;
    }
  }

  /** @internal Resolves once every delivery queued so far has been made. */
  flush(): Promise<void> {
    const target = this.#enqueued;
    if (this.#processed >= target) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push({ target, resolve }));
  }
}

/** One subscription of a `MemoryBus`. */
class MemorySubscription implements Subscription {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly tokens: readonly string[];
  readonly wildcard: boolean;
  readonly owner: MemoryBus;
  readonly #callback: ((msg: BusMsg) => void) | undefined;
  readonly #onClose: (sub: MemorySubscription) => void;
  #closed = false;
  #buffer: BusMsg[] = [];
  #waiters: ((r: IteratorResult<BusMsg>) => void)[] = [];
  #iterating = false;

  constructor(
    owner: MemoryBus,
    subject: string,
    options: SubscribeOptions,
    onClose: (sub: MemorySubscription) => void,
  ) {
    this.owner = owner;
    this.subject = subject;
    this.queue = options.queue;
    this.tokens = subject.split('.');
    this.wildcard = hasWildcard(subject);
    this.#callback = options.callback;
    this.#onClose = onClose;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Returns true if the message was handed over (to the callback or the iterator buffer). */
  deliver(msg: BusMsg): boolean {
    if (this.#closed) return false;
    if (this.#callback) {
      try {
        this.#callback(msg);
      } catch (err) {
        // A throwing callback is the subscriber's bug; it must not stop the subscription (NATS does the same).
        this.owner.logger.error(
          { err, subject: msg.subject, sub: this.subject, conn: this.owner.name },
          'bus subscription callback threw',
        );
      }
      return true;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: msg, done: false });
    else this.#buffer.push(msg);
    return true;
  }

  unsubscribe(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer = [];
    this.#endWaiters();
    this.#onClose(this);
  }

  /**
   * @internal End of a drain: queued messages have arrived; close, but let an iterator read what is
   * still buffered (unlike `unsubscribe`, which drops it).
   */
  finishDrain(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endWaiters();
    this.#onClose(this);
  }

  #endWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<BusMsg> {
    if (this.#callback) throw new TypeError('a subscription with a callback is not iterable');
    if (this.#iterating) throw new TypeError('a subscription can be iterated only once');
    this.#iterating = true;
    return {
      next: (): Promise<IteratorResult<BusMsg>> => {
        const msg = this.#buffer.shift();
        if (msg) return Promise.resolve({ value: msg, done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      // Leaving a `for await` (break, return, throw) unsubscribes.
      return: (): Promise<IteratorResult<BusMsg>> => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

interface PendingRequest {
  reject: (err: unknown) => void;
}

/**
 * One connection to a `MemoryBroker`; implements the `Bus` contract. Closing it closes only its own
 * subscriptions and fails only its own pending requests.
 */
export class MemoryBus implements Bus {
  readonly name: string;
  readonly #broker: MemoryBroker;
  readonly #subs = new Set<MemorySubscription>();
  readonly #requests = new Set<PendingRequest>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;
  readonly closed: Promise<void>;

  /** Use `broker.connect()`. */
  constructor(broker: MemoryBroker, name: string) {
    this.#broker = broker;
    this.name = name;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get maxPayload(): number {
    return this.#broker.maxPayload;
  }

  get logger(): Logger {
    return this.#broker.logger;
  }

  get subscriptionCount(): number {
    return this.#subs.size;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  publish(subject: string, data: Uint8Array, options?: { reply?: string }): void {
    if (this.#closed) throw new BusClosedError();
    if (!isValidSubject(subject)) throw new InvalidSubjectError(subject);
    const reply = options?.reply;
    if (reply !== undefined && !isValidSubject(reply)) throw new InvalidSubjectError(reply);
    if (data.byteLength > this.#broker.maxPayload) {
      throw new PayloadTooLargeError(data.byteLength, this.#broker.maxPayload);
    }
    // Copy: like a socket write, the sender may reuse its buffer after publish returns.
    this.#broker.route(subject, data.slice(), reply);
  }

  subscribe(subject: string, options: SubscribeOptions = {}): Subscription {
    return this.#subscribe(subject, options, true);
  }

  #subscribe(subject: string, options: SubscribeOptions, counted: boolean): MemorySubscription {
    if (this.#closed) throw new BusClosedError();
    if (!isValidPattern(subject)) throw new InvalidSubjectError(subject);
    if (options.queue !== undefined && !isValidSubject(options.queue)) {
      throw new InvalidSubjectError(options.queue);
    }
    const sub = new MemorySubscription(this, subject, options, (s) => {
      this.#broker.remove(s);
      if (counted) this.#subs.delete(s);
    });
    this.#broker.add(sub);
    if (counted) this.#subs.add(sub);
    return sub;
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMsg> {
    if (this.#closed) return Promise.reject(new BusClosedError());
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!isValidSubject(subject)) return Promise.reject(new InvalidSubjectError(subject));
    if (data.byteLength > this.#broker.maxPayload) {
      return Promise.reject(new PayloadTooLargeError(data.byteLength, this.#broker.maxPayload));
    }
    // Like NATS with headers: nobody listening means an immediate no-responders status.
    if (!this.#broker.hasInterest(subject)) return Promise.reject(new BusNoRespondersError(subject));
    return new Promise<BusMsg>((resolve, reject) => {
      let timer: { cancel(): void } | undefined;
      const done = (): void => {
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        inbox.unsubscribe();
        this.#requests.delete(pending);
      };
      const pending: PendingRequest = {
        reject: (err) => {
          done();
          reject(err);
        },
      };
      const onAbort = (): void => pending.reject(signal?.reason);
      // The inbox is internal: it does not count in `subscriptionCount` (NATS muxes it too).
      const inbox = this.#subscribe(
        this.inbox(),
        {
          callback: (msg) => {
            done();
            resolve(msg);
          },
        },
        false,
      );
      this.#requests.add(pending);
      timer = this.#broker.clock.setTimeout(
        () => pending.reject(new BusTimeoutError(subject, timeoutMs)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#broker.route(subject, data.slice(), inbox.subject);
    });
  }

  inbox(): string {
    return this.#broker.nextInbox();
  }

  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(new BusClosedError());
    return this.#broker.flush();
  }

  drain(): Promise<void> {
    if (this.#closed) return Promise.reject(new BusClosedError());
    this.#closing ??= this.#drain();
    return this.#closing;
  }

  async #drain(): Promise<void> {
    const subs = [...this.#subs];
    // Stop routing new messages to our subscriptions; what is already queued is still delivered.
    for (const sub of subs) this.#broker.remove(sub);
    await this.#broker.flush();
    for (const sub of subs) sub.finishDrain();
    await this.close();
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const sub of [...this.#subs]) sub.unsubscribe();
    const err = new BusClosedError();
    for (const req of [...this.#requests]) req.reject(err);
    this.#broker.forget(this);
    this.#resolveClosed();
    return Promise.resolve();
  }

  onReconnect(_listener: () => void): () => void {
    // An in-process connection never drops, so it never reconnects.
    return () => {};
  }

  /** Listeners of `simulateDisconnect()`: an in-process connection only "drops" when a test says so. */
  readonly #disconnectListeners = new Set<() => void>();

  onDisconnect(listener: () => void): () => void {
    this.#disconnectListeners.add(listener);
    return () => {
      this.#disconnectListeners.delete(listener);
    };
  }

  /**
   * Test hook: tells the `onDisconnect` listeners the connection dropped (nothing else changes; pair
   * it with a lossy wrapper to lose traffic). A throwing listener does not stop the others.
   */
  simulateDisconnect(): void {
    for (const listener of [...this.#disconnectListeners]) {
      try {
        listener();
      } catch {
        // a listener's failure is its own; the others still hear about the disconnect
      }
    }
  }
}
