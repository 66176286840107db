/**
 * `FaultBus`: a `Bus` wrapper for chaos tests. It sits in front of one connection (any `Bus`) and, per
 * subject pattern, drops, duplicates, delays or reorders what passes through it, or cuts a subject off
 * completely (a partition) until healed. Randomness comes from a seeded PRNG and time from an injected
 * timer source, so a chaos run on a `VirtualClock` is reproducible message by message. Counters say
 * what it did.
 *
 * Traffic kinds a rule can target (all by default):
 * - `publish`  — messages this connection publishes;
 * - `request`  — requests this connection sends (a dropped request makes the caller time out);
 * - `response` — replies this connection receives to its own requests (dropped → the caller times out);
 * - `reply`    — replies this connection sends through `msg.respond()` (matched against the subject of
 *   the request being answered, not the inbox);
 * - `deliver`  — messages delivered to this connection's subscriptions.
 */
import type { Bus, BusMsg, RequestOptions, SubscribeOptions, Subscription } from './bus.js';
import {
  BusClosedError,
  BusError,
  BusTimeoutError,
  InvalidSubjectError,
  PayloadTooLargeError,
} from './errors.js';
import type { BusTimerSource } from './memory-bus.js';
import { isValidPattern, isValidSubject, matchTokens } from './subject-match.js';
import { WrappedBus } from './wrapped-bus.js';

/** Which traffic a rule applies to (see the file header). */
export type FaultTraffic = 'publish' | 'request' | 'response' | 'reply' | 'deliver';

/** Every traffic kind: the default of `FaultRule.traffic`. */
export const ALL_TRAFFIC: readonly FaultTraffic[] = ['publish', 'request', 'response', 'reply', 'deliver'];

/**
 * One fault rule. The first rule (in insertion order) whose pattern and traffic match a message decides
 * what happens to it; the faults of that rule are applied in this order: drop, duplicate, delay, reorder.
 */
export interface FaultRule {
  /** NATS subject pattern (`*`, `>` wildcards). For `reply` traffic it is matched against the request subject. */
  subject: string;
  /** Traffic kinds the rule applies to. Default: all (`ALL_TRAFFIC`). */
  traffic?: readonly FaultTraffic[];
  /** Probability (0..1) that a message is dropped. Default 0. */
  drop?: number;
  /** Probability (0..1) that a message is sent twice. Default 0. */
  duplicate?: number;
  /** Fixed delay in ms before the message goes on. Default 0. */
  delayMs?: number;
  /** Extra random delay, uniform in [0, jitterMs). Default 0. */
  jitterMs?: number;
  /**
   * Reorder window in ms: matching messages are held from the first one for this long, then released
   * together in a shuffled order (never the original order when more than one is held). Default 0 (off).
   */
  reorderWindowMs?: number;
}

/** Counters of what the FaultBus did, per message decision (a duplicate counts once in `duplicated`). */
export interface FaultStats {
  /** Messages that went through the rule engine (all traffic kinds). */
  seen: number;
  /** Messages that went on untouched. */
  passed: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  reordered: number;
  /** Messages dropped because their subject was partitioned. */
  partitioned: number;
  /** Deferred sends that failed (e.g. the inner bus closed meanwhile). */
  failed: number;
}

export interface FaultBusOptions {
  /** Seed of the PRNG (same seed + same traffic = same faults). Default 1. */
  seed?: number;
  /** Timers for delays, reorder windows and request timeouts: pass the `Clock`. Default: Node's timers (unref'd). */
  timers?: BusTimerSource;
  /** Initial rules. Default: none (the bus passes everything through). */
  rules?: readonly FaultRule[];
}

/** A rule that cannot work: bad pattern, probability outside 0..1, negative time. */
export class InvalidFaultRuleError extends BusError {
  override readonly name = 'InvalidFaultRuleError';
  constructor(readonly reason: string) {
    super(`invalid fault rule: ${reason}`);
  }
}

const realTimers: BusTimerSource = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * mulberry32: tiny, fast, good enough for fault decisions, and fully determined by the seed. Also the
 * seeded PRNG of the property tests (test/support/prng.ts).
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface CompiledRule {
  readonly rule: FaultRule;
  readonly tokens: readonly string[];
  readonly traffic: ReadonlySet<FaultTraffic>;
  /** Messages held for the current reorder window. */
  held: (() => void)[];
  window: { cancel(): void } | undefined;
}

function checkProbability(name: string, p: number | undefined): void {
  if (p === undefined) return;
  if (!Number.isFinite(p) || p < 0 || p > 1)
    throw new InvalidFaultRuleError(`${name} must be within 0..1, got ${p}`);
}

function checkMs(name: string, ms: number | undefined): void {
  if (ms === undefined) return;
  if (!Number.isFinite(ms) || ms < 0)
    throw new InvalidFaultRuleError(`${name} must be a non-negative number, got ${ms}`);
}

function compile(rule: FaultRule): CompiledRule {
  if (!isValidPattern(rule.subject))
    throw new InvalidFaultRuleError(`bad subject pattern ${JSON.stringify(rule.subject)}`);
  checkProbability('drop', rule.drop);
  checkProbability('duplicate', rule.duplicate);
  checkMs('delayMs', rule.delayMs);
  checkMs('jitterMs', rule.jitterMs);
  checkMs('reorderWindowMs', rule.reorderWindowMs);
  const traffic = rule.traffic ?? ALL_TRAFFIC;
  for (const t of traffic) {
    if (!ALL_TRAFFIC.includes(t))
      throw new InvalidFaultRuleError(`unknown traffic kind ${JSON.stringify(t)}`);
  }
  return {
    rule: { ...rule },
    tokens: rule.subject.split('.'),
    traffic: new Set(traffic),
    held: [],
    window: undefined,
  };
}

function emptyStats(): FaultStats {
  return {
    seen: 0,
    passed: 0,
    dropped: 0,
    duplicated: 0,
    delayed: 0,
    reordered: 0,
    partitioned: 0,
    failed: 0,
  };
}

/**
 * A fault-injecting `Bus` in front of another `Bus` connection.
 *
 * @example
 * const clock = new VirtualClock();
 * const broker = new MemoryBroker({ clock });
 * const bus = new FaultBus(broker.connect('node'), {
 *   seed: 42,
 *   timers: clock,
 *   rules: [{ subject: 'cn.xswitch.ctrl.>', traffic: ['publish'], drop: 0.01, duplicate: 0.01 }],
 * });
 * const heal = bus.partition('cn.xswitch.node.>'); // nothing in or out on that subject...
 * heal(); // ...until healed
 * bus.stats; // { seen, passed, dropped, duplicated, delayed, reordered, partitioned, failed }
 *
 * `flush()`, `inbox()` and `onReconnect()` go straight to the inner bus: a flush does not wait for
 * messages still delayed or held by a rule.
 */
export class FaultBus extends WrappedBus implements Bus {
  readonly #timers: BusTimerSource;
  readonly #random: () => number;
  #rules: CompiledRule[] = [];
  readonly #partitions = new Map<number, readonly string[]>();
  #partitionSeq = 0;
  #stats: FaultStats = emptyStats();
  /** Pending delay timers, cancelled on close so nothing outlives the bus. */
  readonly #timersPending = new Set<{ cancel(): void }>();
  readonly #subs = new Set<FaultSubscription>();
  /** Requests in flight: closing rejects them with `BusClosedError` even if the inner request was dropped. */
  readonly #requests = new Set<(err: unknown) => void>();
  #closed = false;
  #draining: Promise<void> | undefined;

  constructor(inner: Bus, options: FaultBusOptions = {}) {
    super(inner);
    this.#timers = options.timers ?? realTimers;
    this.#random = prng(options.seed ?? 1);
    for (const rule of options.rules ?? []) this.addRule(rule);
    // The inner connection may close under us (server gone for good, someone closed it): end our iterators.
    inner.closed.then(
      () => this.#shutdown(),
      () => this.#shutdown(),
    );
  }

  /** Adds a rule after the existing ones; returns a function that removes it (releasing held messages). */
  addRule(rule: FaultRule): () => void {
    const compiled = compile(rule);
    this.#rules.push(compiled);
    return () => {
      const i = this.#rules.indexOf(compiled);
      if (i < 0) return;
      this.#rules.splice(i, 1);
      this.#releaseHeld(compiled);
    };
  }

  /** Removes every rule; messages held for reordering are released at once. Partitions stay. */
  clearRules(): void {
    const rules = this.#rules;
    this.#rules = [];
    for (const r of rules) this.#releaseHeld(r);
  }

  /**
   * Cuts `pattern` off: every message on a matching subject, any traffic kind, is dropped until the
   * returned function (or `heal()`) is called.
   */
  partition(pattern: string): () => void {
    if (!isValidPattern(pattern))
      throw new InvalidFaultRuleError(`bad subject pattern ${JSON.stringify(pattern)}`);
    const id = ++this.#partitionSeq;
    this.#partitions.set(id, pattern.split('.'));
    return () => {
      this.#partitions.delete(id);
    };
  }

  /** Heals every partition. */
  heal(): void {
    this.#partitions.clear();
  }

  /** A snapshot of the counters. */
  get stats(): FaultStats {
    return { ...this.#stats };
  }

  resetStats(): void {
    this.#stats = emptyStats();
  }

  /** Delayed or held sends not yet made (leak checks: 0 once traffic settled). */
  get pendingFaults(): number {
    let held = 0;
    for (const r of this.#rules) held += r.held.length;
    return this.#timersPending.size + held;
  }

  override publish(subject: string, data: Uint8Array, options?: { reply?: string }): void {
    this.#check(subject, data);
    const reply = options?.reply;
    if (reply !== undefined && !isValidSubject(reply)) throw new InvalidSubjectError(reply);
    // Copy now: the caller may reuse its buffer, and a delayed send happens later.
    const copy = data.slice();
    this.#dispatch('publish', subject, () =>
      this.inner.publish(subject, copy, reply === undefined ? undefined : { reply }),
    );
  }

  override subscribe(subject: string, options: SubscribeOptions = {}): Subscription {
    if (this.#closed) throw new BusClosedError();
    const sub = new FaultSubscription(subject, options.queue, options.callback, (s) => this.#subs.delete(s));
    const inner = this.inner.subscribe(subject, {
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      callback: (msg) => {
        const wrapped = this.#wrapIncoming(msg);
        this.#dispatch('deliver', msg.subject, () => sub.deliver(wrapped));
      },
    });
    sub.attach(inner);
    this.#subs.add(sub);
    return sub;
  }

  override request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMsg> {
    try {
      this.#check(subject, data);
    } catch (err) {
      return Promise.reject(err);
    }
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const copy = data.slice();
    return new Promise<BusMsg>((resolve, reject) => {
      let settled = false;
      const innerAbort = new AbortController();
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        this.#requests.delete(fail);
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        // Ends the inner request (and its own timer) if it is still waiting.
        innerAbort.abort(new BusTimeoutError(subject, timeoutMs));
        settle();
      };
      const onAbort = (): void => finish(() => reject(signal?.reason));
      const fail = (err: unknown): void => finish(() => reject(err));
      this.#requests.add(fail);
      // Our own timer: a dropped request or response must end in a timeout, as on a lossy network.
      const timer = this.#timers.setTimeout(
        () => finish(() => reject(new BusTimeoutError(subject, timeoutMs))),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      const send = (): void => {
        if (settled) return;
        this.inner.request(subject, copy, { timeoutMs, signal: innerAbort.signal }).then(
          (msg) => {
            if (settled) return;
            this.#dispatch('response', subject, () => finish(() => resolve(msg)));
          },
          (err: unknown) => finish(() => reject(err)),
        );
      };
      // A duplicated request reaches the responder twice; the copy's answer goes to an inbox nobody reads.
      const duplicate = (): void => {
        if (!settled) this.inner.publish(subject, copy, { reply: this.inner.inbox() });
      };
      this.#dispatch('request', subject, send, duplicate);
    });
  }

  /** Drains the inner bus; delayed or held messages are discarded. Concurrent calls share one drain. */
  override drain(): Promise<void> {
    if (this.#closed) return Promise.reject(new BusClosedError());
    this.#draining ??= this.#drain();
    return this.#draining;
  }

  async #drain(): Promise<void> {
    this.#cancelPending();
    await this.inner.drain();
    this.#shutdown();
  }

  /** Closes the inner bus; delayed or held messages are discarded. Idempotent. */
  override async close(): Promise<void> {
    this.#shutdown();
    await this.inner.close();
  }

  /** Delegates to the inner bus; a bus that reports no disconnects gives a no-op disposer. */
  onDisconnect(listener: () => void): () => void {
    return this.inner.onDisconnect?.(listener) ?? (() => {});
  }

  #check(subject: string, data: Uint8Array): void {
    if (this.#closed) throw new BusClosedError();
    if (!isValidSubject(subject)) throw new InvalidSubjectError(subject);
    if (data.byteLength > this.inner.maxPayload)
      throw new PayloadTooLargeError(data.byteLength, this.inner.maxPayload);
  }

  /** Wraps an incoming message so that answers sent through `respond` pass the `reply` rules. */
  #wrapIncoming(msg: BusMsg): BusMsg {
    const reply = msg.reply;
    if (reply === undefined) return msg;
    return {
      subject: msg.subject,
      data: msg.data,
      reply,
      respond: (answer: Uint8Array): boolean => {
        if (this.#closed) return false;
        const copy = answer.slice();
        // Matched against the request subject: "drop the node's answers to XNode.* requests" is the useful rule.
        this.#dispatch('reply', msg.subject, () => {
          msg.respond(copy);
        });
        return true;
      },
    };
  }

  #isPartitioned(subject: string): boolean {
    if (this.#partitions.size === 0) return false;
    const tokens = subject.split('.');
    for (const p of this.#partitions.values()) if (matchTokens(p, tokens)) return true;
    return false;
  }

  #ruleFor(traffic: FaultTraffic, subject: string): CompiledRule | undefined {
    if (this.#rules.length === 0) return undefined;
    const tokens = subject.split('.');
    return this.#rules.find((r) => r.traffic.has(traffic) && matchTokens(r.tokens, tokens));
  }

  #chance(p: number | undefined): boolean {
    // Only draw when the rule asks for it, so adding a 0-probability field does not shift the sequence.
    return p !== undefined && p > 0 && this.#random() < p;
  }

  /** The rule engine: decides the fate of one message and runs `send` (and `duplicate`) accordingly. */
  #dispatch(traffic: FaultTraffic, subject: string, send: () => void, duplicate: () => void = send): void {
    this.#stats.seen++;
    if (this.#isPartitioned(subject)) {
      this.#stats.partitioned++;
      return;
    }
    const rule = this.#ruleFor(traffic, subject);
    if (rule === undefined) {
      this.#stats.passed++;
      send();
      return;
    }
    const r = rule.rule;
    if (this.#chance(r.drop)) {
      this.#stats.dropped++;
      return;
    }
    const sends = [send];
    if (this.#chance(r.duplicate)) {
      this.#stats.duplicated++;
      sends.push(duplicate);
    }
    let delay = r.delayMs ?? 0;
    if (r.jitterMs !== undefined && r.jitterMs > 0) delay += Math.floor(this.#random() * r.jitterMs);
    const reorder = r.reorderWindowMs !== undefined && r.reorderWindowMs > 0;
    if (delay === 0 && !reorder && sends.length === 1) this.#stats.passed++;
    if (delay > 0) this.#stats.delayed++;
    for (const s of sends) {
      const go = reorder ? (): void => this.#hold(rule, s) : s;
      if (delay > 0) this.#later(go, delay);
      else this.#safely(go);
    }
  }

  #hold(rule: CompiledRule, send: () => void): void {
    // A removed rule no longer holds anything.
    if (!this.#rules.includes(rule)) {
      this.#safely(send);
      return;
    }
    this.#stats.reordered++;
    rule.held.push(send);
    if (rule.window !== undefined) return;
    const window = this.#timers.setTimeout(() => {
      this.#timersPending.delete(window);
      rule.window = undefined;
      this.#releaseHeld(rule, true);
    }, rule.rule.reorderWindowMs ?? 0);
    rule.window = window;
    this.#timersPending.add(window);
  }

  #releaseHeld(rule: CompiledRule, shuffle = false): void {
    if (rule.window !== undefined) {
      rule.window.cancel();
      this.#timersPending.delete(rule.window);
      rule.window = undefined;
    }
    const held = rule.held;
    rule.held = [];
    if (shuffle && held.length > 1) {
      const order = held.slice();
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      // "Out of order" must really be out of order: an identity shuffle becomes a rotation.
      if (order.every((s, i) => s === held[i])) order.push(order.shift()!);
      for (const s of order) this.#safely(s);
      return;
    }
    for (const s of held) this.#safely(s);
  }

  #later(fn: () => void, ms: number): void {
    const handle = this.#timers.setTimeout(() => {
      this.#timersPending.delete(handle);
      this.#safely(fn);
    }, ms);
    this.#timersPending.add(handle);
  }

  /** Runs a (possibly deferred) send; a failure there has no caller to throw to, so it is counted. */
  #safely(fn: () => void): void {
    if (this.#closed) {
      this.#stats.failed++;
      return;
    }
    try {
      fn();
    } catch {
      this.#stats.failed++;
    }
  }

  #cancelPending(): void {
    for (const t of this.#timersPending) t.cancel();
    this.#timersPending.clear();
    for (const r of this.#rules) {
      r.window = undefined;
      r.held = [];
    }
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelPending();
    for (const sub of [...this.#subs]) sub.end();
    const err = new BusClosedError();
    for (const fail of [...this.#requests]) fail(err);
  }
}

/** A subscription of a `FaultBus`: the inner one always has a callback; this one re-exposes the contract. */
class FaultSubscription implements Subscription {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly #callback: ((msg: BusMsg) => void) | undefined;
  readonly #onClose: (sub: FaultSubscription) => void;
  #inner: Subscription | undefined;
  #closed = false;
  #buffer: BusMsg[] = [];
  #waiters: ((r: IteratorResult<BusMsg>) => void)[] = [];
  #iterating = false;

  constructor(
    subject: string,
    queue: string | undefined,
    callback: ((msg: BusMsg) => void) | undefined,
    onClose: (sub: FaultSubscription) => void,
  ) {
    this.subject = subject;
    this.queue = queue;
    this.#callback = callback;
    this.#onClose = onClose;
  }

  attach(inner: Subscription): void {
    this.#inner = inner;
  }

  get isClosed(): boolean {
    return this.#closed || (this.#inner?.isClosed ?? false);
  }

  deliver(msg: BusMsg): void {
    if (this.#closed) return;
    if (this.#callback) {
      // Same rule as the inner bus: a throwing callback is the subscriber's bug and must not stop delivery.
      try {
        this.#callback(msg);
      } catch {
        // swallowed on purpose (the inner bus would log it; we have no logger of our own)
      }
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: msg, done: false });
    else this.#buffer.push(msg);
  }

  unsubscribe(): void {
    if (this.#closed) return;
    this.#inner?.unsubscribe();
    this.#buffer = [];
    this.end();
  }

  /** Ends delivery (buffered messages can still be read by an iterator). */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w({ value: undefined, done: true });
    this.#onClose(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<BusMsg> {
    if (this.#callback) throw new TypeError('a subscription with a callback is not iterable');
    if (this.#iterating) throw new TypeError('a subscription can be iterated only once');
    this.#iterating = true;
    return {
      next: (): Promise<IteratorResult<BusMsg>> => {
        const msg = this.#buffer.shift();
        if (msg) return Promise.resolve({ value: msg, done: false });
        if (this.isClosed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<BusMsg>> => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
