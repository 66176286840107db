/**
 * `UserManager`: the one door for call-out, hang-up and preemption (seed items 4, 8, 9). It keeps every
 * `User`, runs flows with their sessions, enforces ownership (a user is operated only by the flow that
 * holds it), preempts by priority (stop the owner's operations first, clear the user back to "just
 * answered", hand over, run the old flow's handler), lets a ringing call-out continue into the flow that
 * takes the user, tears users down, applies each flow's end policy and garbage-collects idle users on
 * the Clock.
 */
import type { Clock } from '../clock/index.js';
import { type Call, type Controller, type DialOptions, linkSignals } from '../ctrl/index.js';
import { aloneInfo, describeCallInfo } from './call-info.js';
import {
  FlowCancelledError,
  isCallGone,
  isFlowInterruption,
  NotOwnerError,
  PreemptedError,
  PreemptionRefusedError,
  PreemptionSupersededError,
  RuntimeClosedError,
  UserUnavailableError,
} from './errors.js';
import type { MailboxWaitOptions } from './mailbox.js';
import { kMeet, type Meet } from './meet.js';
import {
  type AcquireOptions,
  type AnySession,
  type CallUserOptions,
  FlowSession,
  kSession,
  type SessionHost,
} from './session.js';
import { type EndPolicy, type FlowLogger, silentFlowLogger } from './types.js';
import type { UndoReport } from './undo-stack.js';
import { kUser, User } from './user.js';

export interface UserManagerOptions {
  /** The controller every call-out and hang-up goes through. */
  controller: Controller;
  clock: Clock;
  /**
   * How long a user nobody owns and no call holds (not bridged, not in a meet, not kept) stays up before
   * the garbage collector hangs it up (default 30 000 ms; `Infinity` disables collection).
   */
  gcIdleMs?: number;
  /** Ring timeout of call-outs that do not set one (default 30 000 ms). */
  callTimeoutMs?: number;
  /** Default: silent. */
  logger?: FlowLogger;
}

/** How a flow is started. */
export interface StartOptions<D> {
  /** For logs and errors (default `flow`). */
  name?: string;
  /** Higher preempts lower (default 0). */
  priority?: number;
  /** The flow's data (`session.data`). */
  data?: D;
  /** What happens to users the flow still owns at its end (default `hangup`). */
  endPolicy?: EndPolicy;
  /** Users to acquire before the body runs (a refused preemption fails the flow). */
  users?: readonly User[];
  /** Cancels the flow when aborted. */
  signal?: AbortSignal;
}

/** How a flow ended, with what its undo stack did. */
export type FlowOutcome<T> =
  | { status: 'completed'; value: T; undo: UndoReport }
  | { status: 'failed'; error: unknown; undo: UndoReport }
  | { status: 'cancelled'; reason: unknown; undo: UndoReport };

/** A flow body: runs with its session; returning (or throwing) ends the flow. */
export type FlowFunction<T, D, M, R> = (session: FlowSession<D, M, R>) => Promise<T>;

/** The handle of a started flow. */
export interface FlowHandle<T, D = unknown, M = never, R = void> {
  readonly id: string;
  readonly name: string;
  readonly priority: number;
  readonly session: FlowSession<D, M, R>;
  /** Resolves (never rejects) when the flow and all of its teardown finished. */
  readonly done: Promise<FlowOutcome<T>>;
  /** The body's value; rejects with the failure or the cancellation. */
  readonly result: Promise<T>;
  /** True once `done` resolved. */
  readonly ended: boolean;
  /**
   * Cancels the flow and resolves after its teardown (children, compensations, end policy) finished.
   * Cancelling a flow that already ended is a harmless no-op (seed item 8's "kill" bug).
   */
  cancel(reason?: string): Promise<void>;
  /** Posts a message to the flow's mailbox (throws `MailboxClosedError` after it ended). */
  post(message: M): void;
  /** Sends a request to the flow and awaits its reply. */
  request(message: M, options?: MailboxWaitOptions): Promise<R>;
}

/** What the manager still holds (tests check these return to zero). */
export interface UserManagerLeaks {
  flows: number;
  ownedUsers: number;
  preemptions: number;
  callOuts: number;
  gcTimers: number;
  runningOps: number;
  tasks: number;
  waiters: number;
}

const DEFAULT_GC_IDLE_MS = 30_000;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;
const noop = (): void => {};

/**
 * The user manager and flow runtime.
 *
 * @example
 * const users = new UserManager({ controller: ctrl, clock });
 * users.serveInbound((user) => {
 *   users.start(async (s) => { await s.answer(user); await s.play(user, 'hello.wav'); }, { users: [user] });
 * });
 * const flow = users.start(async (s) => {
 *   const bob = users.user('1002');
 *   await s.call(bob);
 *   await s.play(bob, 'news.wav');
 * }, { name: 'news', priority: 1, endPolicy: 'hangup' });
 * await flow.done;
 */
export class UserManager {
  readonly #controller: Controller;
  readonly #clock: Clock;
  readonly #logger: FlowLogger;
  readonly #gcIdleMs: number;
  readonly #callTimeoutMs: number;
  readonly #users = new Map<string, User>();
  // biome-ignore lint/suspicious/noExplicitAny: handles of flows of every type.
  readonly #flows = new Set<FlowHandle<any, any, any, any>>();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #host: SessionHost;
  #seq = 0;
  #closed = false;

  constructor(options: UserManagerOptions) {
    this.#controller = options.controller;
    this.#clock = options.clock;
    this.#logger = options.logger ?? silentFlowLogger;
    this.#gcIdleMs = options.gcIdleMs ?? DEFAULT_GC_IDLE_MS;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#host = this.#makeHost();
  }

  /** The controller call-outs go through. */
  get controller(): Controller {
    return this.#controller;
  }

  /** The user with this number (created idle on first use). */
  user(number: string): User {
    let user = this.#users.get(number);
    if (!user) {
      user = new User(number);
      this.#users.set(number, user);
    }
    return user;
  }

  /** Every user known so far. */
  users(): User[] {
    return [...this.#users.values()];
  }

  /** Flows running now. */
  // biome-ignore lint/suspicious/noExplicitAny: handles of flows of every type.
  flows(): FlowHandle<any, any, any, any>[] {
    return [...this.#flows];
  }

  /**
   * Takes an inbound call under management: the user is its caller number (`number` overrides; a number
   * whose user already has a live call gets the call's uuid as its key instead). Nobody owns it yet.
   */
  adopt(call: Call, number?: string): User {
    const wanted = number ?? call.cidNumber ?? call.uuid;
    const existing = this.#users.get(wanted);
    const user =
      existing?.call !== undefined && !existing.call.isEnded && existing.call !== call
        ? this.user(call.uuid)
        : this.user(wanted);
    if (user.call === call) return user;
    this.#attach(user, call, call.answered ? 'talking' : 'inbound');
    return user;
  }

  /**
   * Registers `handler` for new inbound calls on the controller: each call is adopted and handed over as
   * a user; the controller's flow for the call then lasts as long as the call (so the call stays up
   * while flows of this runtime use it). Returns the unregister function.
   */
  serveInbound(handler: (user: User, call: Call) => void | Promise<void>): () => void {
    return this.#controller.onCall(async (call) => {
      const user = this.adopt(call);
      try {
        await handler(user, call);
      } catch (err) {
        this.#logger.error({ err, user: user.number }, 'inbound handler failed');
      }
      await call.ended;
    });
  }

  /** Starts a flow. See `FlowSession` for what the body can do. */
  start<T, D = undefined, M = never, R = void>(
    flow: FlowFunction<T, D, M, R>,
    options: StartOptions<D> = {},
  ): FlowHandle<T, D, M, R> {
    if (this.#closed) throw new RuntimeClosedError('start');
    const name = options.name ?? 'flow';
    const id = `${name}#${++this.#seq}`;
    const session = new FlowSession<D, M, R>({
      id,
      name,
      priority: options.priority ?? 0,
      data: options.data as D,
      endPolicy: options.endPolicy ?? 'hangup',
      host: this.#host,
    });
    const si = session[kSession];
    let cancelled: { reason: unknown } | undefined;
    let ended = false;
    const cancel = (reason: unknown): void => {
      if (ended || si.controller.signal.aborted) return;
      cancelled = { reason };
      si.controller.abort(reason);
    };
    const external = options.signal;
    const onExternal = (): void => cancel(new FlowCancelledError(name, 'signal aborted'));
    if (external?.aborted) onExternal();
    else external?.addEventListener('abort', onExternal, { once: true });

    const run = async (): Promise<FlowOutcome<T>> => {
      // The body starts on a microtask: `start` returns the handle first.
      await Promise.resolve();
      let body: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        if (si.controller.signal.aborted) throw si.controller.signal.reason;
        for (const user of options.users ?? []) await session.acquire(user);
        body = { ok: true, value: await flow(session) };
      } catch (error) {
        body = { ok: false, error };
      }
      // A preemption of one of our users that is under way finishes first, so its handler runs in
      // this flow (which may be ending because of that very preemption).
      for (const user of [...si.users]) await user[kUser].preemption?.done;
      if (!si.controller.signal.aborted) si.controller.abort(new FlowCancelledError(name, 'flow-ended'));
      // Children and preemption handlers never outlive the flow.
      while (si.scope.size > 0 || si.handlerRuns.size > 0) {
        await si.scope.close(si.controller.signal.reason);
        await settleAll(si.handlerRuns);
      }
      let verdict:
        | { status: 'completed'; value: T }
        | { status: 'failed'; error: unknown }
        | {
            status: 'cancelled';
            reason: unknown;
          };
      if (si.childFailure) verdict = { status: 'failed', error: si.childFailure.error };
      else if (!body.ok && !isFlowInterruption(body.error)) verdict = { status: 'failed', error: body.error };
      else if (cancelled) verdict = { status: 'cancelled', reason: cancelled.reason };
      else if (!body.ok) verdict = { status: 'failed', error: body.error };
      else verdict = { status: 'completed', value: body.value };
      // Operations in undo steps run under a signal of their own (the flow's is aborted by now).
      si.opSignal = si.ending.signal;
      const undo = await si.undo.run({
        failed: verdict.status !== 'completed',
        owns: (u) => this.#ownsLive(session, u),
      });
      if (undo.errors.length > 0)
        this.#logger.error({ flow: id, errors: undo.errors }, `${undo.errors.length} undo step(s) failed`);
      session.mailbox.close();
      for (const user of [...si.users]) {
        await this.#release(session, user, si.policies.get(user) ?? si.defaultPolicy);
      }
      external?.removeEventListener('abort', onExternal);
      ended = true;
      this.#flows.delete(handle);
      this.#logger.debug({ flow: id, status: verdict.status }, 'flow ended');
      return { ...verdict, undo };
    };

    const done = run();
    const result = done.then((o) => {
      switch (o.status) {
        case 'completed':
          return o.value;
        case 'failed':
          throw o.error;
        case 'cancelled':
          throw o.reason;
      }
    });
    // `result` is for callers who want it; an unawaited failure is reported through `done`.
    void result.catch(noop);
    const handle: FlowHandle<T, D, M, R> = {
      id,
      name,
      priority: session.priority,
      session,
      done,
      result,
      get ended() {
        return ended;
      },
      cancel: async (reason = 'cancelled') => {
        if (ended) return;
        cancel(new FlowCancelledError(name, reason));
        await done;
      },
      post: (message) => session.mailbox.post(message),
      request: (message, opts) => session.mailbox.request(message, opts),
    };
    this.#flows.add(handle);
    return handle;
  }

  /**
   * Tears a user down (seed item 6): first preempts it out of its flow (whose handler runs), then hangs
   * it up if it is on a call, or stops the call-out if it is still ringing.
   */
  async tearDown(user: User, options: { cause?: string } = {}): Promise<void> {
    await this.#takeOver(user, undefined, false, undefined);
    await this.#hangUp(user, options.cause ?? 'NORMAL_CLEARING');
  }

  /** What the manager still holds. */
  leaks(): UserManagerLeaks {
    let owned = 0;
    let preemptions = 0;
    let callOuts = 0;
    let gcTimers = 0;
    let runningOps = 0;
    let waiters = 0;
    for (const user of this.#users.values()) {
      const slot = user[kUser];
      if (slot.owner) owned++;
      if (slot.preemption) preemptions++;
      if (slot.callOut) callOuts++;
      if (slot.gcTimer) gcTimers++;
      runningOps += slot.running.size;
      waiters += slot.freeWaiters.size + slot.endWaiters.size;
    }
    return {
      flows: this.#flows.size,
      ownedUsers: owned,
      preemptions,
      callOuts,
      gcTimers,
      runningOps,
      tasks: this.#tasks.size,
      waiters,
    };
  }

  /**
   * Cancels every flow (their teardown runs), stops call-outs and garbage-collection timers, and waits
   * for background work. Users kept up stay up (the controller hangs its legs up when it closes).
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.flows().map((f) => f.cancel('runtime closed')));
    for (const user of this.#users.values()) {
      const slot = user[kUser];
      slot.gcTimer?.cancel();
      slot.gcTimer = undefined;
      slot.callOut?.controller.abort(new RuntimeClosedError('call-out'));
    }
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  // ---- ownership and preemption -------------------------------------------------------------------

  /** True while `session` owns `user` and no preemption has started taking it. */
  #ownsLive(session: AnySession, user: User): boolean {
    const slot = user[kUser];
    return slot.owner === session && slot.lease !== undefined && !slot.lease.signal.aborted;
  }

  /**
   * Moves `user` to `to` (undefined: to nobody, for a tear-down). Seed item 9, in order: refuse a
   * preemption that does not outrank the owner (nothing changes); stop an earlier preemption of the
   * same user (the later wins); stop the owner's operations and bound tasks on the user and wait until
   * they ended (the ctrl SDK sends Stop / UnBridge as they are cancelled); clear the user back to "just
   * answered"; hand it over and run the old owner's preemption handler.
   */
  async #takeOver(
    user: User,
    to: AnySession | undefined,
    clear: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const slot = user[kUser];
    const by = to?.name;
    const refuse = (): void => {
      const current = slot.owner as AnySession | undefined;
      if (to && current && current !== to && current.priority >= to.priority) {
        throw new PreemptionRefusedError(user.number, to.name, to.priority, current.name, current.priority);
      }
    };
    refuse();
    if (signal?.aborted) throw signal.reason;
    const earlier = slot.preemption;
    const controller = new AbortController();
    let finish: () => void = noop;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    slot.preemption = { by, controller, done };
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const checkpoint = (): void => {
      if (controller.signal.aborted) throw controller.signal.reason;
    };
    try {
      if (earlier) {
        earlier.controller.abort(new PreemptionSupersededError(user.number, earlier.by ?? 'tear-down', by));
        await earlier.done;
      }
      checkpoint();
      refuse();
      const from = slot.owner as AnySession | undefined;
      const taking = from !== undefined && from !== to;
      if (taking) {
        this.#logger.debug({ user: user.number, from: from.id, to: to?.id }, 'preempting');
        // Step 1: stop the owner's operation first — a cancelled operation could undo what comes next.
        if (slot.lease && !slot.lease.signal.aborted) slot.lease.abort(new PreemptedError(user.number, by));
        await settleAll(slot.running);
        checkpoint();
      }
      // Step 2: back to "just answered".
      if (to !== undefined && (taking || clear)) await this.#clear(user, checkpoint);
      checkpoint();
      // Step 3: hand over.
      this.#handOver(user, to);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (slot.preemption?.controller === controller) slot.preemption = undefined;
      finish();
      this.#review(user);
    }
  }

  /** Clears a talking user: stop recording, leave the meet, unbridge, take off hold. */
  async #clear(user: User, checkpoint: () => void): Promise<void> {
    const slot = user[kUser];
    const call = slot.call;
    if (!call || call.isEnded || slot.state !== 'talking') return;
    const info = slot.info;
    const steps: [string, () => Promise<void>][] = [];
    const recording = slot.recording;
    if (recording !== undefined) {
      steps.push([
        'stop recording',
        async () => {
          await call.record({ path: recording, action: 'STOP' });
          slot.recording = undefined;
        },
      ]);
    }
    if (info?.kind === 'meet') {
      steps.push([
        'leave meet',
        async () => {
          await call.stop();
          this.#noteLeft(user, info.meet);
        },
      ]);
    }
    const peer = info?.kind === 'p2p' ? info.peer : undefined;
    if (call.bridged || peer !== undefined) {
      steps.push([
        'unbridge',
        async () => {
          if (call.bridged) await call.unbridge();
          this.#noteUnbridged(user, peer);
        },
      ]);
    }
    if (call.held || (info?.kind === 'p2p' && info.held)) {
      steps.push([
        'unhold',
        async () => {
          await call.hold('OFF');
          this.#noteHeld(user, false);
        },
      ]);
    }
    for (const [what, step] of steps) {
      checkpoint();
      try {
        await step();
      } catch (err) {
        if (call.isEnded) return;
        this.#logger.warn({ user: user.number, err }, `clearing the user: ${what} failed`);
      }
    }
    if (slot.state === 'talking') slot.info = aloneInfo();
  }

  /** Moves ownership; the old owner's lease ends and its preemption handler runs as one of its tasks. */
  #handOver(user: User, to: AnySession | undefined): void {
    const slot = user[kUser];
    const old = slot.owner as AnySession | undefined;
    if (old === to) return;
    if (old) {
      const oi = old[kSession];
      if (slot.lease && !slot.lease.signal.aborted)
        slot.lease.abort(new PreemptedError(user.number, to?.name));
      oi.users.delete(user);
      oi.policies.delete(user);
      const handler = oi.handlers.get(user);
      oi.handlers.delete(user);
      if (handler) {
        // Runs beside the flow's body, which is told by its interrupted operation; the flow's end waits
        // for it (it may be ending right now because of this very preemption).
        const event = { user, by: to?.name };
        const run = (async () => {
          await handler(event);
        })().catch((error: unknown) => {
          if (isFlowInterruption(error)) return;
          this.#logger.error({ flow: old.id, user: user.number, err: error }, 'preemption handler failed');
          if (oi.childFailure === undefined) oi.childFailure = { error };
          if (!oi.controller.signal.aborted) oi.controller.abort(error);
        });
        oi.handlerRuns.add(run);
        void run.finally(() => oi.handlerRuns.delete(run));
      }
      this.#logger.info({ user: user.number, from: old.id, to: to?.id }, 'user handed over');
    }
    slot.owner = to;
    slot.lease = to ? new AbortController() : undefined;
    slot.parked = false;
    if (to) to[kSession].users.add(user);
    else wake(slot.freeWaiters);
  }

  /** Lets go of a user the session owns, applying `policy`. */
  async #release(session: AnySession, user: User, policy: EndPolicy): Promise<void> {
    const slot = user[kUser];
    if (slot.owner !== session) return;
    if (slot.lease && !slot.lease.signal.aborted) {
      slot.lease.abort(new FlowCancelledError(session.name, `released user ${user.number}`));
    }
    await settleAll(slot.running);
    if (slot.owner !== session) return;
    // A preemption in progress takes the user: the end policy must not hang up what another flow takes.
    const effective: EndPolicy = slot.preemption ? 'gc' : policy;
    switch (effective) {
      case 'hangup':
        await this.#hangUp(user, 'NORMAL_CLEARING');
        break;
      case 'keep':
        slot.parked = true;
        break;
      case 'gc':
        break;
    }
    if (slot.owner !== session) return;
    const si = session[kSession];
    si.users.delete(user);
    si.handlers.delete(user);
    si.policies.delete(user);
    slot.owner = undefined;
    slot.lease = undefined;
    wake(slot.freeWaiters);
    this.#review(user);
  }

  // ---- calls ------------------------------------------------------------------------------------

  #startCallOut(user: User, options: CallUserOptions): void {
    const slot = user[kUser];
    const controller = new AbortController();
    const dial: DialOptions = {
      to: options.to ?? user.number,
      signal: controller.signal,
      // The user is "talking" only once answered: early media does not count.
      ignoreEarlyMedia: true,
      timeoutMs: options.timeoutMs ?? this.#callTimeoutMs,
    };
    if (options.from !== undefined) dial.from = options.from;
    if (options.cidName !== undefined) dial.cidName = options.cidName;
    if (options.variables !== undefined) dial.variables = options.variables;
    slot.state = 'calling';
    slot.info = undefined;
    const promise = this.#controller.dial(dial).then(
      (call) => {
        if (slot.callOut?.promise === promise) {
          slot.callOut = undefined;
          this.#attach(user, call, 'talking');
        }
        return call;
      },
      (err: unknown) => {
        if (slot.callOut?.promise === promise) {
          slot.callOut = undefined;
          slot.state = 'idle';
          this.#review(user);
        }
        throw err;
      },
    );
    slot.callOut = { promise, controller };
    this.#track(promise);
    this.#review(user);
  }

  /** A user now has `call`: watch its end. */
  #attach(user: User, call: Call, state: 'talking' | 'inbound'): void {
    const slot = user[kUser];
    slot.call = call;
    slot.state = state;
    slot.info = state === 'talking' ? aloneInfo() : undefined;
    slot.recording = undefined;
    this.#track(call.ended.then(() => this.#onEnded(user, call)));
    this.#review(user);
  }

  #onEnded(user: User, call: Call): void {
    const slot = user[kUser];
    if (slot.call !== call) return;
    const info = slot.info;
    if (info?.kind === 'meet') info.meet[kMeet].delete(user);
    if (info?.kind === 'p2p' && info.peer) this.#noteUnbridged(info.peer, user);
    slot.call = undefined;
    slot.state = 'idle';
    slot.info = undefined;
    slot.recording = undefined;
    slot.parked = false;
    wake(slot.endWaiters);
    this.#review(user);
  }

  /** Hangs up a user's call, or stops its call-out if it still rings. Never rejects. */
  async #hangUp(user: User, cause: string): Promise<void> {
    const slot = user[kUser];
    const callOut = slot.callOut;
    if (callOut) {
      callOut.controller.abort(new FlowCancelledError('tear-down', `stop ringing ${user.number}`));
      await callOut.promise.then(noop, noop);
    }
    const call = slot.call;
    if (call && !call.isEnded) {
      try {
        await call.hangup({ cause });
      } catch (err) {
        this.#logger.warn({ user: user.number, err }, 'hangup failed');
      }
    }
  }

  async #callUser(session: AnySession, user: User, options: CallUserOptions): Promise<Call> {
    await this.#acquire(session, user, {});
    const slot = user[kUser];
    switch (slot.state) {
      case 'talking':
        return slot.call as Call;
      case 'inbound':
        await session.answer(user);
        return slot.call as Call;
      case 'idle':
        this.#startCallOut(user, options);
        break;
      case 'calling':
        // Seed item 4: a call-out already ringing (possibly started by the flow this user was taken
        // from) continues into this flow; no second dial.
        break;
    }
    const callOut = slot.callOut;
    if (!callOut) throw new UserUnavailableError(user.number, slot.state, 'call');
    const lease = this.#leaseOf(session, user);
    const linked = linkSignals(session[kSession].opSignal, lease);
    const wait = untilAborted(callOut.promise, linked.signal).finally(() => linked.dispose());
    this.#bind(user, session, wait);
    return wait;
  }

  // ---- operations ---------------------------------------------------------------------------------

  async #acquire(session: AnySession, user: User, options: AcquireOptions): Promise<void> {
    const slot = user[kUser];
    const si = session[kSession];
    if (slot.owner === session) {
      if (slot.lease?.signal.aborted) throw slot.lease.signal.reason;
      if (options.clear) await this.#clear(user, noop);
      return;
    }
    if (si.controller.signal.aborted && si.opSignal === si.controller.signal) {
      throw si.controller.signal.reason;
    }
    await this.#takeOver(user, session, options.clear ?? false, si.opSignal);
  }

  #operate<T>(
    session: AnySession,
    users: readonly User[],
    what: string,
    fn: (signal: AbortSignal, calls: Call[]) => Promise<T>,
  ): Promise<T> {
    const leases: AbortSignal[] = [];
    const calls: Call[] = [];
    for (const user of users) {
      leases.push(this.#leaseOf(session, user));
      const call = user.call;
      if (!call || call.isEnded)
        return Promise.reject(new UserUnavailableError(user.number, user.state, what));
      calls.push(call);
    }
    const linked = linkSignals(session[kSession].opSignal, ...leases);
    if (linked.signal.aborted) return Promise.reject(linked.signal.reason);
    const run = async (): Promise<T> => {
      try {
        return await fn(linked.signal, calls);
      } catch (err) {
        // Preempted or cancelled: reject with the reason (PreemptedError, FlowCancelledError), not with
        // the SDK's generic CancelledError or the node's 410 for the Stop we caused.
        if (linked.signal.aborted && (isFlowInterruption(err) || isCallGone(err))) throw linked.signal.reason;
        throw err;
      } finally {
        linked.dispose();
      }
    };
    const op = run();
    for (const user of users) this.#bind(user, session, op);
    return op;
  }

  #leaseOf(session: AnySession, user: User): AbortSignal {
    const slot = user[kUser];
    if (slot.owner !== session || !slot.lease) {
      throw new NotOwnerError(user.number, session.name, (slot.owner as AnySession | undefined)?.name);
    }
    return slot.lease.signal;
  }

  /** Tracks an operation or task of the owner on the user, so a preemption can wait for it. */
  #bind(user: User, session: AnySession, promise: Promise<unknown>): void {
    const slot = user[kUser];
    if (slot.owner !== session) return;
    const settled = promise.then(noop, noop);
    slot.running.add(settled);
    void settled.then(() => slot.running.delete(settled));
  }

  // ---- call-info bookkeeping ----------------------------------------------------------------------

  #noteBridged(a: User, b: User): void {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const slot = x[kUser];
      if (slot.state !== 'talking') continue;
      const held = slot.info?.kind === 'p2p' ? slot.info.held : false;
      slot.info = { kind: 'p2p', peer: y, held };
      this.#review(x);
    }
  }

  #noteUnbridged(a: User, b: User | undefined): void {
    const reset = (x: User, peer: User | undefined): void => {
      const slot = x[kUser];
      const info = slot.info;
      if (slot.state !== 'talking' || info?.kind !== 'p2p') return;
      if (peer !== undefined && info.peer !== peer) return;
      slot.info = { kind: 'p2p', peer: undefined, held: info.held };
      this.#review(x);
    };
    reset(a, b);
    if (b) reset(b, a);
  }

  #noteHeld(user: User, held: boolean): void {
    const slot = user[kUser];
    if (slot.info?.kind === 'p2p') slot.info = { ...slot.info, held };
  }

  #noteJoined(user: User, meet: Meet): void {
    const slot = user[kUser];
    meet[kMeet].add(user);
    slot.info = { kind: 'meet', meet };
    this.#review(user);
  }

  #noteLeft(user: User, meet: Meet): void {
    const slot = user[kUser];
    meet[kMeet].delete(user);
    if (slot.info?.kind === 'meet' && slot.info.meet === meet) {
      slot.info = slot.state === 'talking' ? aloneInfo() : undefined;
    }
    this.#review(user);
  }

  // ---- garbage collection -------------------------------------------------------------------------

  /**
   * A user is collectable when it is on a call, nobody owns it, nobody is taking it, it is not kept for
   * an operator, no call-out runs for it and no call holds it (no peer, no meet). Collectable users are
   * hung up after `gcIdleMs` of staying so; anything that changes that cancels the timer.
   */
  #review(user: User): void {
    const slot = user[kUser];
    const info = slot.info;
    const held = info?.kind === 'meet' || (info?.kind === 'p2p' && info.peer !== undefined);
    const collectable =
      slot.call !== undefined &&
      !slot.call.isEnded &&
      slot.owner === undefined &&
      slot.preemption === undefined &&
      !slot.parked &&
      slot.callOut === undefined &&
      !held &&
      Number.isFinite(this.#gcIdleMs);
    if (collectable && !slot.gcTimer && !this.#closed) {
      slot.gcTimer = this.#clock.setTimeout(() => {
        slot.gcTimer = undefined;
        this.#logger.info(
          { user: user.number, info: describeCallInfo(slot.info) },
          'garbage collector: hanging up an idle user',
        );
        this.#track(this.#hangUp(user, 'NORMAL_CLEARING'));
      }, this.#gcIdleMs);
    } else if (!collectable && slot.gcTimer) {
      slot.gcTimer.cancel();
      slot.gcTimer = undefined;
    }
  }

  // ---- plumbing -----------------------------------------------------------------------------------

  #track(promise: Promise<unknown>): void {
    const settled = promise.then(noop, noop);
    this.#tasks.add(settled);
    void settled.then(() => this.#tasks.delete(settled));
  }

  #whenFree(user: User, signal: AbortSignal): Promise<void> {
    const slot = user[kUser];
    return waitOn(slot.freeWaiters, () => slot.owner === undefined, signal);
  }

  #whenEnded(user: User, signal: AbortSignal): Promise<void> {
    const slot = user[kUser];
    return waitOn(slot.endWaiters, () => slot.call === undefined, signal);
  }

  #makeHost(): SessionHost {
    return {
      clock: this.#clock,
      acquire: (session, user, options) => this.#acquire(session, user, options),
      release: (session, user, policy) => this.#release(session, user, policy),
      operate: (session, users, what, fn) => this.#operate(session, users, what, fn),
      callUser: (session, user, options) => this.#callUser(session, user, options),
      hangup: async (session, user, cause) => {
        this.#leaseOf(session, user);
        await this.#hangUp(user, cause);
      },
      noteAnswered: (user) => {
        const slot = user[kUser];
        if (slot.call && !slot.call.isEnded && slot.state === 'inbound') {
          slot.state = 'talking';
          slot.info = aloneInfo();
          this.#review(user);
        }
      },
      noteBridged: (a, b) => this.#noteBridged(a, b),
      noteUnbridged: (a, b) => this.#noteUnbridged(a, b),
      noteHeld: (user, held) => this.#noteHeld(user, held),
      noteJoined: (user, meet) => this.#noteJoined(user, meet),
      noteLeft: (user, meet) => this.#noteLeft(user, meet),
      noteRecording: (user, path) => {
        user[kUser].recording = path;
      },
      whenFree: (user, signal) => this.#whenFree(user, signal),
      whenEnded: (user, signal) => this.#whenEnded(user, signal),
      bind: (user, session, done) => this.#bind(user, session, done),
      leaseOf: (session, user) => this.#leaseOf(session, user),
    };
  }
}

/** Waits until every promise in `set` (including ones added meanwhile) settled. */
async function settleAll(set: Set<Promise<unknown>>): Promise<void> {
  while (set.size > 0) await Promise.allSettled([...set]);
}

function wake(waiters: Set<() => void>): void {
  for (const w of [...waiters]) w();
}

/** Resolves when `ready()` holds (checked at once and on every wake); rejects when `signal` aborts. */
function waitOn(waiters: Set<() => void>, ready: () => boolean, signal: AbortSignal): Promise<void> {
  if (ready()) return Promise.resolve();
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const finish = (): void => {
      waiters.delete(waiter);
      signal.removeEventListener('abort', onAbort);
    };
    const waiter = (): void => {
      if (!ready()) return;
      finish();
      resolve();
    };
    const onAbort = (): void => {
      finish();
      reject(signal.reason);
    };
    waiters.add(waiter);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or a rejection with the signal's reason when it aborts first (the promise goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
