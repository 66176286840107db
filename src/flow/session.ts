/**
 * `FlowSession`: what a running flow works with (seed item 9: "the session is created when the flow
 * starts; it keeps the flow's data and a preemption handler per user"). It holds the flow's data,
 * priority, signal, owned users, preemption handlers, undo stack, child tasks and mailbox, and is the
 * only way a flow operates on users: every operation checks ownership and runs under the user's
 * ownership lease, so a preemption stops it (the ctrl SDK then sends Stop / UnBridge to the node).
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock/index.js';
import type {
  BlockingOptions,
  Call,
  ConferenceOptions,
  MediaLike,
  ReadDtmfOptions,
  ReadDtmfResult,
  RecordOptions,
  RecordResult,
} from '../ctrl/index.js';
import { isCallGone } from './errors.js';
import { type Letter, Mailbox, type MailboxWaitOptions } from './mailbox.js';
import type { Meet } from './meet.js';
import { type SpawnOptions, type Task, TaskScope } from './task-scope.js';
import type { EndPolicy, PreemptionHandler } from './types.js';
import { type UndoStep, UndoStack } from './undo-stack.js';
import { kUser, type User } from './user.js';

/** Options of `session.call()`. */
export interface CallUserOptions {
  /** What to dial (default: the user's number as a destination number). A dial string contains `/`. */
  to?: string;
  /** Caller id number shown to the user. */
  from?: string;
  /** Caller id name shown to the user. */
  cidName?: string;
  /** Ring timeout (default 30 000 ms). */
  timeoutMs?: number;
  /** Channel variables for the leg. */
  variables?: Record<string, string>;
}

/** Options of `acquire`. */
export interface AcquireOptions {
  /**
   * Clear the user back to "just answered" even when nobody owned it (default false; a user taken from
   * another flow is always cleared).
   */
  clear?: boolean;
}

/** Options of `defer`/`compensate`. */
export interface UndoOptions {
  /** The step runs only if the flow still owns all of these users (default: none, always runs). */
  users?: readonly User[];
  /** For logs and the flow's undo report. */
  name?: string;
}

/** Options of `spawn`. */
export interface FlowSpawnOptions extends SpawnOptions {
  /** The task is cancelled as soon as any of these users is preempted (they must be owned). */
  users?: readonly User[];
}

/** The runtime's side of a session (implemented by the user manager). */
export interface SessionHost {
  readonly clock: Clock;
  acquire(session: AnySession, user: User, options: AcquireOptions): Promise<void>;
  release(session: AnySession, user: User, policy: EndPolicy): Promise<void>;
  operate<T>(
    session: AnySession,
    users: readonly User[],
    what: string,
    fn: (signal: AbortSignal, calls: Call[]) => Promise<T>,
  ): Promise<T>;
  callUser(session: AnySession, user: User, options: CallUserOptions): Promise<Call>;
  hangup(session: AnySession, user: User, cause: string): Promise<void>;
  /** Call-info bookkeeping. */
  noteAnswered(user: User): void;
  noteBridged(a: User, b: User): void;
  noteUnbridged(a: User, b: User | undefined): void;
  noteHeld(user: User, held: boolean): void;
  noteJoined(user: User, meet: Meet): void;
  noteLeft(user: User, meet: Meet): void;
  noteRecording(user: User, path: string | undefined): void;
  whenFree(user: User, signal: AbortSignal): Promise<void>;
  whenEnded(user: User, signal: AbortSignal): Promise<void>;
  bind(user: User, session: AnySession, done: Promise<unknown>): void;
  leaseOf(session: AnySession, user: User): AbortSignal;
}

/** Answer timeout of operations that last as long as a relation (bridge, meet membership): 24 h. */
const LONG_LIVED_MS = 24 * 3600_000;

// biome-ignore lint/suspicious/noExplicitAny: the host handles sessions of every data/message type.
export type AnySession = FlowSession<any, any, any>;

/** Internal access for the user manager. */
export const kSession: unique symbol = Symbol('openxcc.flow.session');

/** A session's internals, as the user manager sees them. */
export interface SessionInternals {
  readonly users: Set<User>;
  readonly handlers: Map<User, PreemptionHandler>;
  readonly policies: Map<User, EndPolicy>;
  readonly undo: UndoStack;
  readonly scope: TaskScope;
  readonly controller: AbortController;
  /** Operations are cancelled by this signal: the flow's while it runs, a separate one while it ends. */
  opSignal: AbortSignal;
  readonly ending: AbortController;
  readonly defaultPolicy: EndPolicy;
  /** The first failure of a child task or preemption handler (fails the flow). */
  childFailure: { error: unknown } | undefined;
  /** Preemption handlers running now (the flow's end waits for them). */
  readonly handlerRuns: Set<Promise<void>>;
}

/** What a session is created with. */
export interface SessionInit<D> {
  id: string;
  name: string;
  priority: number;
  data: D;
  endPolicy: EndPolicy;
  host: SessionHost;
}

/**
 * The session of one running flow.
 *
 * @example
 * manager.start(async (s) => {
 *   const a = await s.call(manager.user('1001'));       // rings 1001, owned by this flow
 *   s.onPreempted(manager.user('1001'), () => log('taken'));
 *   s.defer(() => s.play(manager.user('1001'), 'bye.wav'), { users: [manager.user('1001')] });
 *   await s.play(manager.user('1001'), 'hello.wav');
 * }, { name: 'greeter', priority: 1 });
 */
export class FlowSession<D = unknown, M = never, R = void> {
  readonly id: string;
  readonly name: string;
  /** Higher preempts lower. */
  readonly priority: number;
  /** The flow's own data, free for the flow to use. */
  data: D;
  /** Aborted when the flow must stop (cancelled, failed, or its body returned). */
  readonly signal: AbortSignal;
  /** Where the outside world's messages arrive. */
  readonly mailbox: Mailbox<M, R>;

  readonly #host: SessionHost;
  readonly #internals: SessionInternals;

  /** @internal Sessions are created by `UserManager.start`. */
  constructor(init: SessionInit<D>) {
    this.id = init.id;
    this.name = init.name;
    this.priority = init.priority;
    this.data = init.data;
    this.#host = init.host;
    const controller = new AbortController();
    // Every operation a flow runs at once listens here (a group call dialling a dozen users): that is
    // the design, not a leak — each listener is removed when its operation ends (ctrl/abort.ts).
    setMaxListeners(0, controller.signal);
    this.signal = controller.signal;
    this.mailbox = new Mailbox<M, R>(init.host.clock, `flow ${init.name}`);
    const internals: SessionInternals = {
      users: new Set(),
      handlers: new Map(),
      policies: new Map(),
      undo: new UndoStack(),
      scope: new TaskScope({
        parent: controller.signal,
        onFailure: (error) => {
          if (internals.childFailure === undefined) internals.childFailure = { error };
          if (!controller.signal.aborted) controller.abort(error);
        },
      }),
      controller,
      opSignal: controller.signal,
      ending: new AbortController(),
      defaultPolicy: init.endPolicy,
      childFailure: undefined,
      handlerRuns: new Set(),
    };
    this.#internals = internals;
  }

  /** Users this flow owns now. */
  get users(): ReadonlySet<User> {
    return this.#internals.users;
  }

  /** True while this flow owns `user`. */
  owns(user: User): boolean {
    return this.#internals.users.has(user);
  }

  // ---- ownership ------------------------------------------------------------------------------

  /**
   * Takes ownership of `user`. If another flow owns it, preempts it (seed item 9): that flow's
   * operations on the user are stopped first, the user is cleared back to "just answered", then it is
   * handed over and the old flow's preemption handler runs. Rejects with `PreemptionRefusedError` when
   * the owner's priority is not lower (nothing changes), with `PreemptionSupersededError` when a later
   * preemption of the same user wins.
   */
  acquire(user: User, options: AcquireOptions = {}): Promise<void> {
    return this.#host.acquire(this, user, options);
  }

  /** Lets go of `user` now, applying `policy` (default: this flow's end policy for it). */
  release(user: User, policy?: EndPolicy): Promise<void> {
    return this.#host.release(this, user, policy ?? this.#policyFor(user));
  }

  /** What to do with `user` if this flow still owns it when it ends. */
  setEndPolicy(user: User, policy: EndPolicy): void {
    this.#internals.policies.set(user, policy);
  }

  /** Runs when `user` is taken from this flow (replaces an earlier handler for that user). */
  onPreempted(user: User, handler: PreemptionHandler): void {
    this.#internals.handlers.set(user, handler);
  }

  /** Resolves when no flow owns `user` (at once if none does). */
  whenFree(user: User): Promise<void> {
    return this.#host.whenFree(user, this.signal);
  }

  /** Resolves when `user`'s current call ends (at once if it has none). */
  whenEnded(user: User): Promise<void> {
    return this.#host.whenEnded(user, this.signal);
  }

  // ---- structure ------------------------------------------------------------------------------

  /** Cleanup that runs when the flow ends, whatever the outcome, newest first. */
  defer(step: UndoStep, options: UndoOptions = {}): void {
    this.#internals.undo.push({
      kind: 'always',
      users: options.users ?? [],
      step,
      name: options.name ?? `defer-${this.#internals.undo.size + 1}`,
    });
  }

  /**
   * A compensation: runs only if the flow fails or is cancelled, newest first, and is skipped when the
   * flow no longer owns one of `users` (another flow took it meanwhile).
   */
  compensate(step: UndoStep, options: UndoOptions = {}): void {
    this.#internals.undo.push({
      kind: 'compensate',
      users: options.users ?? [],
      step,
      name: options.name ?? `compensate-${this.#internals.undo.size + 1}`,
    });
  }

  /**
   * Starts a child task. It is cancelled when the flow ends (and the flow's end waits for it), when
   * `task.cancel()` is called, or when one of `users` is preempted. A failure fails the flow.
   */
  spawn<T>(fn: (signal: AbortSignal) => Promise<T>, options: FlowSpawnOptions = {}): Task<T> {
    const users = options.users ?? [];
    const signals = [...(options.signals ?? []), ...users.map((u) => this.#host.leaseOf(this, u))];
    const spawnOptions: SpawnOptions = { signals };
    if (options.name !== undefined) spawnOptions.name = options.name;
    const task = this.#internals.scope.spawn(fn, spawnOptions);
    for (const user of users) this.#host.bind(user, this, task.result);
    return task;
  }

  /** Sleeps on the runtime's clock; rejects when the flow is cancelled. */
  sleep(ms: number): Promise<void> {
    return this.#host.clock.sleep(ms, this.signal);
  }

  /** The next message from the outside world (see `Mailbox`). Cancelled with the flow. */
  receive(options: MailboxWaitOptions = {}): Promise<Letter<M, R>> {
    const wait: MailboxWaitOptions = { signal: options.signal ?? this.signal };
    if (options.timeoutMs !== undefined) wait.timeoutMs = options.timeoutMs;
    return this.mailbox.receive(wait);
  }

  // ---- calls ----------------------------------------------------------------------------------

  /**
   * Makes sure `user` is on a call owned by this flow and returns the call: takes ownership (preempting
   * if needed); if the user is idle, calls it out as a task of its own (seed item 4); if a call-out to
   * it is already ringing — even one started by another flow — waits for that one instead of dialling
   * again; answers an inbound user. Rejects with ctrl's `CallFailedError` when the call-out fails.
   */
  call(user: User, options: CallUserOptions = {}): Promise<Call> {
    return this.#host.callUser(this, user, options);
  }

  /** Answers an inbound user. */
  async answer(user: User): Promise<void> {
    await this.#host.operate(this, [user], 'answer', (_signal, [call]) => need(call).answer());
    this.#host.noteAnswered(user);
  }

  /** Hangs up the user's call (stops the call-out if it is still ringing). Ownership is kept. */
  hangup(user: User, cause = 'NORMAL_CLEARING'): Promise<void> {
    return this.#host.hangup(this, user, cause);
  }

  // ---- media ----------------------------------------------------------------------------------

  /** Plays to the user; resolves when playback ends. Preemption or cancellation sends Stop. */
  play(user: User, media: MediaLike, options: Omit<BlockingOptions, 'signal'> = {}): Promise<void> {
    return this.#host.operate(this, [user], 'play', (signal, [call]) =>
      need(call).play(media, { ...options, signal }),
    );
  }

  /** Collects digits; preemption or cancellation sends Stop. */
  readDtmf(user: User, options: Omit<ReadDtmfOptions, 'signal'> = {}): Promise<ReadDtmfResult> {
    return this.#host.operate(this, [user], 'readDtmf', (signal, [call]) =>
      need(call).readDtmf({ ...options, signal }),
    );
  }

  /** Records until the recording ends (action RECORD); preemption or cancellation sends Stop. */
  record(user: User, options: Omit<RecordOptions, 'signal' | 'action'>): Promise<RecordResult> {
    return this.#host.operate(this, [user], 'record', (signal, [call]) =>
      need(call).record({ ...options, action: 'RECORD', signal }),
    );
  }

  /** Starts a background recording (Record START); a preemption stops it when it clears the user. */
  async startRecording(user: User, path: string): Promise<void> {
    await this.#host.operate(this, [user], 'startRecording', (_s, [call]) =>
      need(call).record({ path, action: 'START' }),
    );
    this.#host.noteRecording(user, path);
  }

  /** Stops the background recording started with `startRecording`. */
  async stopRecording(user: User): Promise<void> {
    const path = recordingOf(user);
    if (path === undefined) return;
    await this.#host.operate(this, [user], 'stopRecording', (_s, [call]) =>
      need(call).record({ path, action: 'STOP' }),
    );
    this.#host.noteRecording(user, undefined);
  }

  /** Puts the user on hold (or takes it off with `on = false`). */
  async hold(user: User, on = true): Promise<void> {
    await this.#host.operate(this, [user], 'hold', (_s, [call]) => need(call).hold(on ? 'ON' : 'OFF'));
    this.#host.noteHeld(user, on);
  }

  // ---- relations ------------------------------------------------------------------------------

  /**
   * Bridges `a` and `b` (both owned) and resolves when the bridge ends (the other side hung up, or an
   * unbridge). Preempting either user, or cancelling the flow, sends UnBridge.
   */
  async bridge(a: User, b: User, options: Omit<BlockingOptions, 'signal'> = {}): Promise<void> {
    await this.#host.operate(this, [a, b], 'bridge', async (signal, [ca, cb]) => {
      this.#host.noteBridged(a, b);
      try {
        // The bridge blocks for its whole life: the SDK's default answer timeout (5 s) does not fit.
        await need(ca).channelBridge(need(cb), { timeoutMs: LONG_LIVED_MS, ...options, signal });
      } finally {
        this.#host.noteUnbridged(a, b);
      }
    });
  }

  /**
   * Bridges `a` and `b` and returns at once (ChannelBridge2): a stable two-party relation that outlives
   * the flow (it is the relation a `p2p` call info records). Undo it with `unbridge`.
   */
  async link(a: User, b: User): Promise<void> {
    await this.#host.operate(this, [a, b], 'link', (_s, [ca, cb]) => need(ca).channelBridge2(need(cb)));
    this.#host.noteBridged(a, b);
  }

  /** Undoes a bridge the user is in. */
  async unbridge(user: User): Promise<void> {
    const info = user.callInfo;
    const peer = info?.kind === 'p2p' ? info.peer : undefined;
    await this.#host.operate(this, [user], 'unbridge', (_s, [call]) => need(call).unbridge());
    this.#host.noteUnbridged(user, peer);
  }

  /**
   * Puts `user` into `meet`; resolves when it leaves (410 from the node when stopped; preemption or
   * cancellation sends Stop and rejects with the interruption). Usually spawned as a task per member.
   */
  async joinMeet(user: User, meet: Meet, options: Omit<ConferenceOptions, 'signal'> = {}): Promise<void> {
    await this.#host.operate(this, [user], 'joinMeet', async (signal, [call]) => {
      this.#host.noteJoined(user, meet);
      try {
        await need(call).conference(meet.name, { timeoutMs: LONG_LIVED_MS, ...options, signal });
      } catch (err) {
        // Leaving because the member hung up is the normal end of membership.
        if (isCallGone(err) && need(call).isEnded) return;
        throw err;
      } finally {
        this.#host.noteLeft(user, meet);
      }
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  #policyFor(user: User): EndPolicy {
    return this.#internals.policies.get(user) ?? this.#internals.defaultPolicy;
  }

  /** @internal */
  get [kSession](): SessionInternals {
    return this.#internals;
  }
}

/** Path of the user's background recording. */
function recordingOf(user: User): string | undefined {
  return user[kUser].recording;
}

/** The user's call, which `operate` guarantees exists. */
function need(call: Call | undefined): Call {
  if (call === undefined) throw new Error('internal: operation without a call');
  return call;
}
