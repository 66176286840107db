/**
 * `Call`: the typed handle of one channel. Owns the channel's state as seen from events, the AbortSignal
 * of the call's flow, the flow's cleanup stack, and one method per channel API. Every blocking method
 * inherits the call's signal; cancelling it tells the node to stop first (Stop / UnBridge), then
 * rejects with the one cancellation error. Nothing here outlives the call: listeners, iterators and
 * waiters are released when the call ends.
 */
import {
  BadRequestError,
  CallGoneError,
  type ChannelEvent,
  CHANNEL_STATES,
  type ChannelState,
  ConflictError,
  type DetectedData,
  type Direction,
  defaultTimeoutMs,
  effectiveTimeoutMs,
  errorForResult,
  isCancellation,
  type Logger,
  NotFoundError,
  type MediaInput,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  RpcTimeoutError,
  validateParams,
  validateResult,
  XccError,
} from '../protocol/index.js';
import type { ResultObject } from '../rpc/types.js';
import { cancellationOf, linkSignals } from './abort.js';
import { AsyncQueue } from './async-queue.js';
import type {
  AcceptOptions,
  AnswerOptions,
  BlockingOptions,
  BridgeOptions,
  BridgeResult,
  BroadcastOptions,
  CallNotification,
  ChannelBridgeOptions,
  CommandOptions,
  ConferenceOptions,
  DestroyInfo,
  DetectSpeechOptions,
  EndReason,
  HangupOptions,
  HoldAction,
  HoldOptions,
  MediaLike,
  MuteOptions,
  ReadDtmfOptions,
  ReadDtmfResult,
  ReadReason,
  RecordOptions,
  RecordResult,
  SetVarOptions,
  WaitForOptions,
} from './call-options.js';
import { CleanupStack, type CleanupStep } from './cleanup-stack.js';
import { type CancelReason, FlowCancelledError } from './errors.js';
import { toCallParams } from './destination.js';
import type { Clock, Timer } from '../clock/index.js';

/** What a Call needs from its controller (internal seam; the controller implements it). */
export interface CallHost {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Sends a request about `call` to the node that holds it; resolves with the raw result. */
  request(
    call: Call,
    method: string,
    params: Record<string, unknown>,
    options: { timeoutMs: number; signal?: AbortSignal; notify?: boolean },
  ): Promise<ResultObject>;
  /** The call ended and its flow (if any) finished: forget it. */
  release(call: Call): void;
}

/** How a Call starts. */
export interface CallInit {
  uuid: string;
  direction: Direction;
  nodeUuid?: string;
  /** The first event (START of an inbound call). */
  event?: ChannelEvent;
}

/** How the controller runs a call's flow (`CallInternals.run`). */
export interface RunOptions {
  /** Hang the call up when the flow returns and the call is still up. */
  hangupAfterFlow: boolean;
  /** Called once, right when a flow failed with an error that is not a routine end (`isRoutineEnd`). */
  onCrash?: () => void;
}

/** Internal access for the controller; not part of the public API. */
export const kCall: unique symbol = Symbol('openxcc.call.internal');

/** The controller's handle on a Call's internals. */
export interface CallInternals {
  /** Applies an `Event.Channel` for this uuid. */
  event(ev: ChannelEvent): void;
  /** Routes another event (DTMF, DetectedData, Record, ...) to `notifications()`. */
  notify(n: CallNotification): void;
  /**
   * Runs `flow` as the call's flow: cleanup and auto-hangup follow it; resolves when all that is done
   * (never rejects). `onCrash` is told when the flow failed with something other than a routine end.
   */
  run(flow: (call: Call) => Promise<void>, options: RunOptions): Promise<void>;
  /** Ends tracking without a DESTROY (reap, takeover, controller close): aborts and releases. */
  terminate(reason: Exclude<EndReason, 'destroyed'>): void;
  /** Aborts the flow's signal without ending the call (controller close: the flow then hangs up). */
  cancel(reason: CancelReason): void;
  /** True once any event was seen for this uuid. */
  readonly seen: boolean;
  /** Millisecond time the call was created on the controller. */
  readonly createdAt: number;
  /** True while a flow runs. */
  readonly flowRunning: boolean;
  /** Marks a call we took over (Accept/Answer succeeded or dialled by us): a later 419 means takeover. */
  controlled: boolean;
  /** Resolves when the controller may forget the call. */
  readonly released: Promise<void>;
  setNodeUuid(nodeUuid: string): void;
}

/** What running an empty (never created) cleanup stack resolves with. */
const NO_CLEANUP_FAILURE: Promise<AggregateError | undefined> = Promise.resolve(undefined);

/** Reasons that mean the call itself is gone (not merely a cancelled flow). */
const GONE_REASONS: ReadonlySet<CancelReason> = new Set(['destroyed', 'node-lost', 'max-lifetime']);

/**
 * True when a 404 says the node has no such channel (common decision 7: "cannot locate session by
 * uuid"), not that some other resource is missing (Play of a missing file is also 404). A 404 to Hangup
 * can only be about the channel. ChannelBridge's 404 may be about the peer, so its message must say so.
 */
function channelUnknown(method: string, raw: ResultObject): boolean {
  if (method === 'XNode.Hangup') return true;
  return (
    typeof raw.message === 'string' && /cannot locate session/i.test(raw.message) && !PEER_METHODS.has(method)
  );
}

/** Methods whose 404 may be about the peer channel rather than this one. */
const PEER_METHODS: ReadonlySet<string> = new Set(['XNode.ChannelBridge', 'XNode.ChannelBridge2']);

const TERMINAL_REASONS: ReadonlySet<CancelReason> = new Set([
  'destroyed',
  'node-lost',
  'max-lifetime',
  'taken-over',
]);

/**
 * One channel under this controller's control.
 *
 * @example
 * ctrl.onCall(async (call) => {
 *   call.defer(() => log.info({ uuid: call.uuid }, 'flow done'));
 *   await call.answer();
 *   const { digits } = await call.readDtmf({ prompt: 'menu.wav', max: 1, timeoutMs: 5000 });
 *   await call.play(digits === '1' ? 'sales.wav' : 'bye.wav');
 * });
 */
export class Call {
  /** Channel uuid. */
  readonly uuid: string;
  readonly direction: Direction;

  #host: CallHost;
  #nodeUuid: string | undefined;
  #state: ChannelState;
  #lastEvent: ChannelEvent | undefined;
  #variables: Record<string, string> = {};
  #answered = false;
  #held = false;
  #bridged = false;
  #peerUuid: string | undefined;
  #cidNumber: string | undefined;
  #cidName: string | undefined;
  #destNumber: string | undefined;
  #seen = false;
  #ended = false;
  #endInfo: DestroyInfo | undefined;
  // Per held call every object counts (docs/benchmarks.md): the `ended` and `released` promises, the
  // AbortController behind `signal` and the cleanup stack are created on first use. Until then the
  // outcome is kept in a plain field and handed over when they are created.
  /** What `ended` resolves (resolved) with, once settled. */
  #endedWith: DestroyInfo | undefined;
  #endedPromise: Promise<DestroyInfo> | undefined;
  #resolveEnded: ((info: DestroyInfo) => void) | undefined;
  #ac: AbortController | undefined;
  /** The reason `signal` is (or will be, once created) aborted with. */
  #abortReason: FlowCancelledError | undefined;
  #cleanup: CleanupStack | undefined;
  #cleanupRan = false;
  #flowRunning = false;
  #releasedFlag = false;
  #resolveReleased: (() => void) | undefined;
  #released: Promise<void> | undefined;
  // Created on first use: most calls never iterate events or wait for a state (heap per held call).
  #eventQueues: Set<AsyncQueue<ChannelEvent>> | undefined;
  #notificationQueues: Set<AsyncQueue<CallNotification>> | undefined;
  #stateWaiters: Set<(ev: ChannelEvent | undefined) => void> | undefined;
  /** States the call has been in, one bit each (in `CHANNEL_STATES` order): `waitFor` of a past state resolves. */
  #reached = 0;
  #createdAt: number;
  #controlled = false;

  /** @internal Calls are created by the Controller (inbound offers and `dial`). */
  constructor(host: CallHost, init: CallInit) {
    this.#host = host;
    this.uuid = init.uuid;
    this.direction = init.direction;
    this.#nodeUuid = init.nodeUuid;
    this.#state = init.direction === 'inbound' ? 'START' : 'CALLING';
    this.#createdAt = host.clock.now();
    if (init.event) this.#apply(init.event);
  }

  /** Aborted when the call's flow must stop: DESTROY, reap, takeover, controller close, flow end. */
  get signal(): AbortSignal {
    if (this.#ac === undefined) {
      this.#ac = new AbortController();
      if (this.#abortReason !== undefined) this.#ac.abort(this.#abortReason);
    }
    return this.#ac.signal;
  }

  /** Resolves when the controller stops tracking the call (normally: the DESTROY event). */
  get ended(): Promise<DestroyInfo> {
    if (this.#endedPromise === undefined) {
      const settled = this.#endedWith;
      this.#endedPromise =
        settled !== undefined
          ? Promise.resolve(settled)
          : new Promise<DestroyInfo>((resolve) => {
              this.#resolveEnded = resolve;
            });
    }
    return this.#endedPromise;
  }

  /** The node that holds the channel (known from the first event or the Dial result). */
  get nodeUuid(): string | undefined {
    return this.#nodeUuid;
  }
  /** Latest channel state from events. */
  get state(): ChannelState {
    return this.#state;
  }
  get cidNumber(): string | undefined {
    return this.#cidNumber;
  }
  get cidName(): string | undefined {
    return this.#cidName;
  }
  get destNumber(): string | undefined {
    return this.#destNumber;
  }
  /** Subscribed channel variables, merged from the `params` of every event so far. */
  get variables(): Readonly<Record<string, string>> {
    return this.#variables;
  }
  get answered(): boolean {
    return this.#answered;
  }
  get held(): boolean {
    return this.#held;
  }
  get bridged(): boolean {
    return this.#bridged;
  }
  /** The bridged peer's uuid from the last BRIDGE event. */
  get peerUuid(): string | undefined {
    return this.#peerUuid;
  }
  get lastEvent(): ChannelEvent | undefined {
    return this.#lastEvent;
  }
  /** True once the call ended (DESTROY or reaped). */
  get isEnded(): boolean {
    return this.#ended;
  }

  // ---- flow lifecycle -------------------------------------------------------------------------

  /**
   * Registers cleanup for the call's flow: run when the flow ends (or, for a call without a flow such
   * as a dialled leg, when the call ends), newest first; every step runs even if one throws; failures
   * are logged together as an `AggregateError`. Registered after cleanup already ran, the step runs at once.
   */
  defer(step: CleanupStep): void {
    if (this.#cleanup === undefined) {
      this.#cleanup = new CleanupStack((err) => this.#logCleanup(err));
      // A stack created after the cleanup ran is run (empty) at once, so this late step runs now, as
      // `CleanupStack.defer` does for a stack that has run.
      if (this.#cleanupRan) void this.#cleanup.run();
    }
    this.#cleanup.defer(step);
  }

  /** Runs the cleanup stack (once; later `defer`s run at once). */
  #runCleanup(): Promise<AggregateError | undefined> {
    this.#cleanupRan = true;
    return this.#cleanup === undefined ? NO_CLEANUP_FAILURE : this.#cleanup.run();
  }

  /** Channel events from now on; leaving the loop unsubscribes. Ends after DESTROY. */
  events(): AsyncIterable<ChannelEvent> {
    const queue: AsyncQueue<ChannelEvent> = new AsyncQueue(() => this.#eventQueues?.delete(queue));
    if (this.#ended) queue.end();
    else {
      this.#eventQueues ??= new Set();
      this.#eventQueues.add(queue);
    }
    return queue;
  }

  /** Other events for this call (`Event.DTMF`, `Event.DetectedData`, `Event.Record`, ...). */
  notifications(): AsyncIterable<CallNotification> {
    const queue: AsyncQueue<CallNotification> = new AsyncQueue(() => this.#notificationQueues?.delete(queue));
    if (this.#ended) queue.end();
    else {
      this.#notificationQueues ??= new Set();
      this.#notificationQueues.add(queue);
    }
    return queue;
  }

  /**
   * Resolves with the event that brings the call to `state`; if the call is there or has already been
   * there (e.g. waiting for ANSWERED on a dialled leg that is now READY), at once with the latest event.
   * Rejects with `CallGoneError` if the call ends first (unless waiting for DESTROY), with
   * `RpcTimeoutError` after `timeoutMs`, or with the cancellation if `signal` or the call's signal aborts.
   */
  waitFor(state: ChannelState, options: WaitForOptions = {}): Promise<ChannelEvent> {
    if (this.#lastEvent && (this.#state === state || (this.#reached & stateBit(state)) !== 0)) {
      return Promise.resolve(this.#lastEvent);
    }
    if (this.#ended) {
      return Promise.reject(new CallGoneError(410, `waitFor ${state}: call ended`, { uuid: this.uuid }));
    }
    const linked = linkSignals(options.signal, this.signal);
    if (linked.signal.aborted) return Promise.reject(this.#interruption(linked.signal, `waitFor ${state}`));
    return new Promise<ChannelEvent>((resolve, reject) => {
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : this.#host.clock.setTimeout(() => {
              finish();
              reject(new RpcTimeoutError(`waitFor ${state}`, options.timeoutMs ?? 0, { uuid: this.uuid }));
            }, options.timeoutMs);
      const waiter = (ev: ChannelEvent | undefined): void => {
        if (ev?.state === state) {
          finish();
          resolve(ev);
        } else if (ev === undefined) {
          finish();
          reject(new CallGoneError(410, `waitFor ${state}: call ended`, { uuid: this.uuid }));
        }
      };
      const onAbort = (): void => {
        finish();
        reject(this.#interruption(linked.signal, `waitFor ${state}`));
      };
      const finish = (): void => {
        timer?.cancel();
        this.#stateWaiters?.delete(waiter);
        linked.signal.removeEventListener('abort', onAbort);
        linked.dispose();
      };
      this.#stateWaiters ??= new Set();
      this.#stateWaiters.add(waiter);
      linked.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ---- channel APIs ---------------------------------------------------------------------------

  /** Takes the call over (XNode.Accept). 419 → `ConflictError` unless `takeover`. */
  async accept(options: AcceptOptions = {}): Promise<void> {
    const params: Omit<ParamsOf<'XNode.Accept'>, 'uuid'> = {};
    if (options.takeover !== undefined) params.takeover = options.takeover;
    if (options.channelParams) params.channel_params = options.channelParams;
    await this.#command('XNode.Accept', params, options);
    this.#controlled = true;
  }

  /** Answers (XNode.Answer; implies Accept). */
  async answer(options: AnswerOptions = {}): Promise<void> {
    const params: Omit<ParamsOf<'XNode.Answer'>, 'uuid'> = {};
    if (options.channelParams) params.channel_params = options.channelParams;
    await this.#command('XNode.Answer', params, options);
    this.#controlled = true;
  }

  /** Hangs up (XNode.Hangup). A no-op on a call that already ended. */
  async hangup(options: HangupOptions = {}): Promise<void> {
    if (this.#ended) return;
    const params: Omit<ParamsOf<'XNode.Hangup'>, 'uuid'> = { cause: options.cause ?? 'NORMAL_CLEARING' };
    if (options.flag !== undefined) params.flag = options.flag;
    if (options.variables) params.data = options.variables;
    try {
      await this.#command('XNode.Hangup', params, options);
    } catch (err) {
      // The channel went away while we asked: that is what we wanted.
      if (err instanceof XccError && err.code === 404 && this.#ended) return;
      throw err;
    }
  }

  /**
   * Plays media and resolves when playback ends (XNode.Play). Aborting (own or the call's signal) or
   * `timeoutMs` sends XNode.Stop first. 410 (stopped or hung up) → `CallGoneError`.
   */
  async play(media: MediaLike, options: BlockingOptions = {}): Promise<void> {
    await this.#blocking('XNode.Play', { media: toMedia(media) }, options, 'XNode.Stop');
  }

  /** Stops the API running on the channel (XNode.Stop). */
  async stop(options: CommandOptions = {}): Promise<void> {
    await this.#command('XNode.Stop', {}, options);
  }

  /** Plays media to a bridged call's parties (XNode.Broadcast). */
  async broadcast(media: MediaLike, options: BroadcastOptions = {}): Promise<void> {
    const params: Omit<ParamsOf<'XNode.Broadcast'>, 'uuid'> = { media: toMedia(media) };
    if (options.option !== undefined) params.option = options.option;
    await this.#command('XNode.Broadcast', params, options);
  }

  /**
   * Records (XNode.Record). `action: 'RECORD'` (default) blocks until the recording ends and is
   * cancellable (Stop is sent); START/STOP/MASK/UNMASK are quick commands.
   */
  async record(options: RecordOptions): Promise<RecordResult> {
    const action = options.action ?? 'RECORD';
    const params: Omit<ParamsOf<'XNode.Record'>, 'uuid'> = { path: options.path, action };
    if (options.limitSec !== undefined) params.limit = options.limitSec;
    if (options.beep !== undefined) params.beep = options.beep;
    if (options.terminators !== undefined) params.terminators = options.terminators;
    if (options.silenceSec !== undefined) params.silence_seconds = options.silenceSec;
    if (options.thresh !== undefined) params.thresh = options.thresh;
    if (options.rate !== undefined) params.rate = options.rate;
    // A blocking RECORD lasts as long as the recording: wait for the limit plus a margin (else 1 h).
    const blocking: BlockingOptions = {
      ...options,
      timeoutMs:
        options.timeoutMs ?? (options.limitSec === undefined ? 3_600_000 : options.limitSec * 1000 + 10_000),
    };
    const result =
      action === 'RECORD'
        ? await this.#blocking('XNode.Record', params, blocking, 'XNode.Stop')
        : await this.#command('XNode.Record', params, options);
    return { path: result.path ?? options.path, terminator: result.terminator };
  }

  /** Collects DTMF (XNode.ReadDTMF). Success is 200 or 202 with `dtmf` (both seen on the wire). */
  readDtmf(options: ReadDtmfOptions = {}): Promise<ReadDtmfResult> {
    return this.#read('XNode.ReadDTMF', options);
  }

  /** Collects digits (XNode.ReadDigits), same options and result as `readDtmf`. */
  readDigits(options: ReadDtmfOptions = {}): Promise<ReadDtmfResult> {
    return this.#read('XNode.ReadDigits', options);
  }

  /** Speech (and optionally DTMF) recognition (XNode.DetectSpeech) → the DetectedData. */
  async detectSpeech(options: DetectSpeechOptions = {}): Promise<DetectedData> {
    const params: Omit<ParamsOf<'XNode.DetectSpeech'>, 'uuid'> = { speech: options.speech ?? {} };
    if (options.prompt !== undefined) params.media = toMedia(options.prompt);
    if (options.dtmf !== undefined) params.dtmf = options.dtmf;
    const result = await this.#blocking('XNode.DetectSpeech', params, options, 'XNode.Stop');
    if (!result.data) {
      throw new XccError(502, 'XNode.DetectSpeech: success without data', {
        method: 'XNode.DetectSpeech',
        uuid: this.uuid,
        result,
      });
    }
    return result.data;
  }

  /** Sends DTMF to the channel (XNode.SendDTMF). */
  async sendDtmf(digits: string, options: CommandOptions = {}): Promise<void> {
    await this.#command('XNode.SendDTMF', { dtmf: digits }, options);
  }

  /**
   * Calls a new b-leg and bridges it (XNode.Bridge); resolves when the bridge ends. Aborting sends
   * XNode.UnBridge first. A failed attempt → `CallFailedError` (480) with the cause.
   */
  async bridge(options: BridgeOptions): Promise<BridgeResult> {
    const destination =
      options.destination ?? (options.to === undefined ? undefined : toDestination(options.to));
    if (!destination) {
      throw new BadRequestError(400, 'XNode.Bridge: `to` or `destination` is required', {
        method: 'XNode.Bridge',
        uuid: this.uuid,
      });
    }
    const params: Omit<ParamsOf<'XNode.Bridge'>, 'uuid'> = { destination };
    if (options.flowControl !== undefined) params.flow_control = options.flowControl;
    if (options.ringback !== undefined) params.ringback = options.ringback;
    if (options.continueOnFail !== undefined) {
      params.continue_on_fail = Array.isArray(options.continueOnFail)
        ? options.continueOnFail.join(',')
        : String(options.continueOnFail);
    }
    const result = await this.#blocking('XNode.Bridge', params, options, 'XNode.UnBridge');
    return { cause: result.cause };
  }

  /** Bridges this call with an existing one (XNode.ChannelBridge); resolves when the bridge ends. */
  async channelBridge(peer: Call | string, options: ChannelBridgeOptions = {}): Promise<void> {
    const params: Omit<ParamsOf<'XNode.ChannelBridge'>, 'uuid'> = { peer_uuid: peerId(peer) };
    if (options.flowControl !== undefined) params.flow_control = options.flowControl;
    if (options.bridgeDelay !== undefined) params.bridge_delay = options.bridgeDelay;
    await this.#blocking('XNode.ChannelBridge', params, options, 'XNode.UnBridge');
  }

  /** Bridges with an existing call and resolves as soon as the bridge is up (XNode.ChannelBridge2). */
  async channelBridge2(
    peer: Call | string,
    options: CommandOptions & { flowControl?: BridgeOptions['flowControl'] } = {},
  ): Promise<void> {
    const params: Omit<ParamsOf<'XNode.ChannelBridge2'>, 'uuid'> = { peer_uuid: peerId(peer) };
    if (options.flowControl !== undefined) params.flow_control = options.flowControl;
    await this.#command('XNode.ChannelBridge2', params, options);
  }

  /** Separates a bridged call (XNode.UnBridge). */
  async unbridge(options: CommandOptions = {}): Promise<void> {
    await this.#command('XNode.UnBridge', {}, options);
  }

  /** Hold ON/OFF/TOGGLE (XNode.Hold). */
  async hold(action: HoldAction = 'ON', options: HoldOptions = {}): Promise<void> {
    const params: Omit<ParamsOf<'XNode.Hold'>, 'uuid'> = { action };
    if (options.display !== undefined) params.display = options.display;
    await this.#command('XNode.Hold', params, options);
  }

  /** Mutes (XNode.Mute). */
  async mute(options: MuteOptions = {}): Promise<void> {
    const params: Omit<ParamsOf<'XNode.Mute'>, 'uuid'> = {};
    if (options.direction !== undefined) params.direction = options.direction;
    if (options.level !== undefined) params.level = options.level;
    if (options.flag !== undefined) params.flag = options.flag;
    await this.#command('XNode.Mute', params, options);
  }

  /** Sets channel variables (XNode.SetVar); values must be strings. */
  async setVar(variables: Record<string, string>, options: SetVarOptions = {}): Promise<void> {
    const params: Omit<ParamsOf<'XNode.SetVar'>, 'uuid'> = { data: variables };
    if (options.channelParams) params.channel_params = options.channelParams;
    await this.#command('XNode.SetVar', params, options);
  }

  /** Reads channel variables (XNode.GetVar) → name → value (missing names are absent). */
  async getVar(names: string[], options: CommandOptions = {}): Promise<Record<string, string>> {
    const result = await this.#command('XNode.GetVar', { data: names }, options);
    return result.data ?? {};
  }

  /** The channel's state on the node (XNode.GetState). */
  getState(options: CommandOptions = {}): Promise<ResultOf<'XNode.GetState'>> {
    return this.#command('XNode.GetState', {}, options);
  }

  /** Joins a conference room (XNode.Conference); resolves when the member leaves. Abort sends Stop. */
  async conference(name: string, options: ConferenceOptions = {}): Promise<void> {
    const params: Omit<ParamsOf<'XNode.Conference'>, 'uuid'> = { name };
    if (options.profile !== undefined) params.profile = options.profile;
    if (options.flags !== undefined) params.flags = options.flags;
    await this.#blocking('XNode.Conference', params, options, 'XNode.Stop');
  }

  // ---- request plumbing -----------------------------------------------------------------------

  async #read(
    method: 'XNode.ReadDTMF' | 'XNode.ReadDigits',
    options: ReadDtmfOptions,
  ): Promise<ReadDtmfResult> {
    const params: Omit<ParamsOf<'XNode.ReadDTMF'>, 'uuid'> = {};
    if (options.min !== undefined) params.min_digits = options.min;
    if (options.max !== undefined) params.max_digits = options.max;
    if (options.timeoutMs !== undefined) params.timeout = options.timeoutMs;
    if (options.digitTimeoutMs !== undefined) params.digit_timeout = options.digitTimeoutMs;
    if (options.terminators !== undefined) params.terminators = options.terminators;
    if (options.prompt !== undefined) params.media = toMedia(options.prompt);
    if (options.regex !== undefined) params.regex = options.regex;
    if (options.invalidPrompt !== undefined) params.media_invalid = toMedia(options.invalidPrompt);
    const inputMs =
      (options.timeoutMs ?? 5000) + (options.max ?? 1) * (options.digitTimeoutMs ?? 2000) + 10_000;
    const rpcTimeoutMs = options.rpcTimeoutMs ?? Math.max(defaultTimeoutMs(method), inputMs);
    const blocking: BlockingOptions = { timeoutMs: rpcTimeoutMs };
    if (options.signal) blocking.signal = options.signal;
    const result = await this.#blocking(method, params, blocking, 'XNode.Stop');
    const digits = result.dtmf ?? '';
    const reason: ReadReason = result.reason ?? (digits.length === 0 ? 'timeout' : 'ok');
    return { digits, terminator: result.terminator || undefined, reason };
  }

  /** A quick command: its own signal only (so cleanup can still talk to the node), no stop on abort. */
  #command<M extends MethodName>(
    method: M,
    params: Omit<ParamsOf<M>, 'uuid'>,
    options: CommandOptions,
  ): Promise<ResultOf<M>> {
    return this.#invoke(method, params, options, false, undefined);
  }

  /** A blocking primitive: inherits the call's signal; abort/timeout sends `stop` to the node first. */
  #blocking<M extends MethodName>(
    method: M,
    params: Omit<ParamsOf<M>, 'uuid'>,
    options: BlockingOptions,
    stop: 'XNode.Stop' | 'XNode.UnBridge',
  ): Promise<ResultOf<M>> {
    return this.#invoke(method, params, options, true, stop);
  }

  async #invoke<M extends MethodName>(
    method: M,
    params: Omit<ParamsOf<M>, 'uuid'>,
    options: CommandOptions,
    inherit: boolean,
    stop: 'XNode.Stop' | 'XNode.UnBridge' | undefined,
  ): Promise<ResultOf<M>> {
    const wire: Record<string, unknown> = { ...(params as Record<string, unknown>), uuid: this.uuid };
    // Client-side validation: a bad option is a BadRequestError before anything is sent.
    const valid = validateParams(method, wire);
    if (!valid.ok) throw new BadRequestError(400, `${method}: ${valid.message}`, { method, uuid: this.uuid });
    if (this.#ended && !inherit) {
      throw new CallGoneError(410, `${method}: call ended`, { method, uuid: this.uuid });
    }
    // Link signals only when there are two: one signal is used as is, none means not cancellable
    // (an AbortController per request was a measurable share of the controller's CPU and garbage).
    const parent = inherit ? this.signal : undefined;
    const own = options.signal;
    const linked = own !== undefined && parent !== undefined ? linkSignals(own, parent) : undefined;
    const signal = linked?.signal ?? own ?? parent;
    try {
      if (signal?.aborted) throw this.#interruption(signal, method);
      // A blocking API's default timeout follows what it waits for (a ChannelBridge lasts the whole bridge).
      const timeoutMs = options.timeoutMs ?? effectiveTimeoutMs(method, wire);
      let raw: ResultObject;
      try {
        raw = await this.#host.request(
          this,
          method,
          wire,
          signal === undefined ? { timeoutMs } : { timeoutMs, signal },
        );
      } catch (err) {
        if (signal?.aborted) {
          const cancel = cancellationOf(signal, method);
          if (stop) await this.#sendStop(stop, method, cancel);
          throw this.#interruption(signal, method);
        }
        if (stop && err instanceof RpcTimeoutError) await this.#sendStop(stop, method, err);
        throw err;
      }
      return this.#check(method, raw);
    } finally {
      linked?.dispose();
    }
  }

  /**
   * The error for an operation interrupted by `signal`. When the call itself ended (DESTROY, node lost,
   * max lifetime) it is a `CallGoneError` (410, `cause`: the FlowCancelledError naming the reason), the
   * same error the node's own 410 gives — so the outcome does not depend on whether the node's 410 or
   * the DESTROY event arrived first. Every other abort is a `CancelledError`.
   */
  #interruption(signal: AbortSignal, method: string): XccError {
    const cancel = cancellationOf(signal, method);
    if (cancel instanceof FlowCancelledError && GONE_REASONS.has(cancel.reason)) {
      return new CallGoneError(410, `${method}: call ended (${cancel.reason})`, {
        method,
        uuid: this.uuid,
        cause: cancel,
      });
    }
    return cancel;
  }

  #check<M extends MethodName>(method: M, raw: ResultObject): ResultOf<M> {
    const error = errorForResult(method, raw);
    if (error) {
      if (error instanceof NotFoundError && !this.#ended && channelUnknown(method, raw)) {
        // 404 "cannot locate session by uuid": the node no longer has the channel (we missed its
        // DESTROY, e.g. after a takeover). Let go of the call instead of keeping it until the reaper.
        this.#host.logger.debug({ uuid: this.uuid, method }, 'node does not know the channel: call ended');
        this.#end('destroyed', undefined);
      }
      if (
        error instanceof ConflictError &&
        this.#controlled &&
        method !== 'XNode.Accept' &&
        method !== 'XNode.Answer'
      ) {
        // We controlled the call and the node says someone else does now: it was taken over.
        this.#host.logger.info({ uuid: this.uuid, method }, 'call taken over by another controller');
        this.#end('taken-over', undefined);
      }
      throw error;
    }
    const valid = validateResult(method, raw);
    if (!valid.ok) {
      throw new XccError(502, `${method}: malformed result: ${valid.message}`, {
        method,
        uuid: this.uuid,
        result: raw,
      });
    }
    return valid.params as ResultOf<M>;
  }

  /** Tells the node to stop what `method` started — unless there is no one left to tell. */
  async #sendStop(stop: 'XNode.Stop' | 'XNode.UnBridge', method: string, why: unknown): Promise<void> {
    if (this.#ended) return;
    if (why instanceof FlowCancelledError && TERMINAL_REASONS.has(why.reason)) return;
    try {
      const raw = await this.#host.request(
        this,
        stop,
        { uuid: this.uuid },
        { timeoutMs: defaultTimeoutMs(stop) },
      );
      const error = errorForResult(stop, raw);
      if (error)
        this.#host.logger.debug({ uuid: this.uuid, method, err: error }, `${stop} after cancel refused`);
    } catch (err) {
      this.#host.logger.debug({ uuid: this.uuid, method, err }, `${stop} after cancel failed`);
    }
  }

  // ---- event handling (controller side) ---------------------------------------------------------

  #apply(ev: ChannelEvent): void {
    this.#seen = true;
    this.#lastEvent = ev;
    this.#state = ev.state;
    this.#reached |= stateBit(ev.state);
    if (ev.node_uuid) this.#nodeUuid = ev.node_uuid;
    if (ev.cid_number !== undefined) this.#cidNumber = ev.cid_number;
    if (ev.cid_name !== undefined) this.#cidName = ev.cid_name;
    if (ev.dest_number !== undefined) this.#destNumber = ev.dest_number;
    if (ev.params) this.#variables = { ...this.#variables, ...ev.params };
    if (ev.answered !== undefined) this.#answered = ev.answered;
    if (ev.held !== undefined) this.#held = ev.held;
    if (ev.bridged !== undefined) this.#bridged = ev.bridged;
    switch (ev.state) {
      case 'ANSWERED':
        this.#answered = true;
        break;
      case 'BRIDGE':
        this.#bridged = true;
        if (ev.peer_uuid) this.#peerUuid = ev.peer_uuid;
        break;
      case 'UNBRIDGE':
        this.#bridged = false;
        break;
      case 'START':
      case 'CALLING':
      case 'RINGING':
      case 'MEDIA':
      case 'READY':
      case 'DESTROY':
        break;
    }
  }

  #onEvent(ev: ChannelEvent): void {
    if (this.#ended) {
      this.#host.logger.debug({ uuid: this.uuid, state: ev.state }, 'event after the call ended: ignored');
      return;
    }
    this.#apply(ev);
    if (this.#eventQueues) for (const q of this.#eventQueues) q.push(ev);
    if (this.#stateWaiters) for (const w of [...this.#stateWaiters]) w(ev);
    if (ev.state === 'DESTROY') this.#end('destroyed', ev);
  }

  #end(reason: EndReason, ev: ChannelEvent | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    const info = endInfo(reason, ev);
    this.#endInfo = info;
    this.#settleEnded(info);
    // Abort first: pending primitives and waiters reject with the reason (destroyed, node-lost, ...).
    this.#abort(reason === 'dropped' ? 'flow-ended' : reason);
    if (this.#stateWaiters) for (const w of [...this.#stateWaiters]) w(undefined);
    if (this.#eventQueues) for (const q of this.#eventQueues) q.end();
    if (this.#notificationQueues) for (const q of this.#notificationQueues) q.end();
    this.#eventQueues?.clear();
    this.#notificationQueues?.clear();
    if (!this.#flowRunning) void this.#finishWithoutFlow();
  }

  /** A call without a running flow: its cleanup runs at its end, then it is released. */
  async #finishWithoutFlow(): Promise<void> {
    if (!this.#cleanupRan) this.#logCleanup(await this.#runCleanup());
    this.#release();
  }

  #release(): void {
    if (this.#releasedFlag) return;
    this.#releasedFlag = true;
    this.#host.release(this);
    this.#resolveReleased?.();
  }

  /** Resolves `ended` (first outcome wins, as with a promise). */
  #settleEnded(info: DestroyInfo): void {
    if (this.#endedWith !== undefined) return;
    this.#endedWith = info;
    this.#resolveEnded?.(info);
    this.#resolveEnded = undefined;
  }

  /** Aborts the call's signal with `reason` unless it is already aborted. */
  #abort(reason: CancelReason): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = new FlowCancelledError(reason, { uuid: this.uuid });
    this.#ac?.abort(this.#abortReason);
  }

  #logCleanup(err: AggregateError | undefined): void {
    if (err) this.#host.logger.error({ uuid: this.uuid, err, errors: err.errors }, 'call cleanup failed');
  }

  async #run(flow: (call: Call) => Promise<void>, options: RunOptions): Promise<void> {
    try {
      this.#flowRunning = true;
      let failure: unknown;
      let failed = false;
      try {
        await flow(this);
      } catch (err) {
        failed = true;
        failure = err;
      }
      const crashed = failed && !isRoutineEnd(failure);
      if (crashed) {
        options.onCrash?.();
        this.#host.logger.error({ uuid: this.uuid, err: failure }, 'call flow failed');
      } else if (failed) this.#host.logger.debug({ uuid: this.uuid, err: failure }, 'call flow cancelled');
      // Children of the flow (dialled legs, waits started with call.signal) stop with it.
      this.#abort('flow-ended');
      this.#logCleanup(await this.#runCleanup());
      if (options.hangupAfterFlow && !this.#ended) {
        try {
          await this.hangup({ cause: crashed ? 'NORMAL_TEMPORARY_FAILURE' : 'NORMAL_CLEARING' });
          if (!this.#ended) await this.#confirmGone();
        } catch (err) {
          this.#host.logger.warn({ uuid: this.uuid, err }, 'hangup after the flow failed');
        }
      }
      this.#flowRunning = false;
      if (this.#ended) this.#release();
    } catch (err) {
      // run() never rejects by design (the controller returns its promise as is): anything caught here
      // is a bug worth a loud log line.
      this.#host.logger.error({ uuid: this.uuid, err }, 'call flow runner failed');
    }
  }

  /**
   * The node took the hangup but its DESTROY has not come (lost on the way): wait a grace period for it,
   * then ask the node once. A 404 means the channel is gone, so the record is released now instead of at
   * the max-lifetime sweep hours later; any other answer leaves the call to that sweep.
   */
  async #confirmGone(): Promise<void> {
    let timer: Timer | undefined;
    await Promise.race([
      this.ended.then(noop, noop),
      new Promise<void>((resolve) => {
        timer = this.#host.clock.setTimeout(resolve, DESTROY_GRACE_MS);
      }),
    ]);
    timer?.cancel();
    if (this.#ended) return;
    try {
      await this.#command('XNode.GetState', {}, {});
    } catch (err) {
      if (err instanceof XccError && err.code === 404 && !this.#ended) {
        this.#host.logger.debug(
          { uuid: this.uuid },
          'DESTROY never came; the node no longer has the channel',
        );
        this.#end('destroyed', undefined);
        return;
      }
      throw err;
    }
  }

  /** @internal */
  get [kCall](): CallInternals {
    const self = this;
    return {
      event: (ev) => this.#onEvent(ev),
      notify: (n) => {
        if (this.#ended) return;
        if (this.#notificationQueues) for (const q of this.#notificationQueues) q.push(n);
      },
      run: (flow, options) => this.#run(flow, options),
      terminate: (reason) => this.#end(reason, undefined),
      cancel: (reason) => {
        this.#abort(reason);
        // The controller stops tracking every call when it closes: `ended` settles now, so a flow
        // holding its call with `await call.ended` ends too (and its hangup still goes out).
        if (reason === 'controller-closed') this.#settleEnded(endInfo('controller-closed', undefined));
      },
      get seen() {
        return self.#seen;
      },
      get createdAt() {
        return self.#createdAt;
      },
      get flowRunning() {
        return self.#flowRunning;
      },
      get controlled() {
        return self.#controlled;
      },
      set controlled(v: boolean) {
        self.#controlled = v;
      },
      get released() {
        if (self.#releasedFlag) return Promise.resolve();
        self.#released ??= new Promise<void>((resolve) => {
          self.#resolveReleased = resolve;
        });
        return self.#released;
      },
      setNodeUuid: (nodeUuid) => {
        this.#nodeUuid = nodeUuid;
      },
    };
  }

  /** For logs and tests. */
  toJSON(): Record<string, unknown> {
    return {
      uuid: this.uuid,
      nodeUuid: this.#nodeUuid,
      direction: this.direction,
      state: this.#state,
      answered: this.#answered,
      ended: this.#endInfo?.reason,
    };
  }
}

/**
 * True for the ways a flow normally stops early: a cancellation, or a `CallGoneError` (410: the far
 * end hung up or the call ended). Anything else escaping a flow is a bug and is logged as an error.
 */
export function isRoutineEnd(err: unknown): boolean {
  return isCancellation(err) || err instanceof CallGoneError;
}

/** A string is a FILE path/URL/stream; a Media object is sent as is. */
export function toMedia(media: MediaLike): MediaInput {
  return typeof media === 'string' ? { type: 'FILE', data: media } : media;
}

function toDestination(to: NonNullable<BridgeOptions['to']>): ParamsOf<'XNode.Bridge'>['destination'] {
  return { call_params: toCallParams(to) };
}

function peerId(peer: Call | string): string {
  return typeof peer === 'string' ? peer : peer.uuid;
}

function endInfo(reason: EndReason, ev: ChannelEvent | undefined): DestroyInfo {
  return {
    reason,
    cause: ev?.cause,
    durationSec: num(ev?.duration),
    billsec: num(ev?.billsec),
    billmsec: num(ev?.billmsec),
    event: ev,
  };
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function stateBit(state: ChannelState): number {
  return 1 << CHANNEL_STATES.indexOf(state);
}

/** How long after an answered Hangup the DESTROY may take before the controller asks the node. */
const DESTROY_GRACE_MS = 5_000;

function noop(): void {}
