/**
 * `Controller`: one XCtrl. Receives new calls on the `cn.xswitch.ctrl` queue group, takes them over,
 * runs each call's flow under the call's AbortSignal, routes events from its own subject to `Call`s,
 * dials out, keeps the node registry from status events, and reaps calls whose node went silent or
 * that outlived their maximum lifetime. `close()` resolves only after every flow and its cleanup ended.
 */
import type { Bus, Subscription } from '../bus/index.js';
import type { Clock, Timer } from '../clock/index.js';
import {
  BadRequestError,
  type CallParamInput,
  type ChannelEvent,
  ConflictError,
  type DestinationInput,
  decode,
  encode,
  errorForResult,
  errorResponse,
  type Logger,
  type NodeInfo,
  type ParamsOf,
  QueueGroup,
  RpcErrorCode,
  RpcTimeoutError,
  type SubjectOptions,
  type Subjects,
  silentLogger,
  subjects,
  validateEvent,
  validateParams,
} from '../protocol/index.js';
import { type OriginatorReliability, RpcClient } from '../rpc/index.js';
import type { ResultObject } from '../rpc/types.js';
import { cancellationOf } from './abort.js';
import { AsyncQueue } from './async-queue.js';
import { Call, type CallHost, kCall } from './call.js';
import {
  type ControllerLivenessOptions,
  CtrlHeartbeat,
  isOrphanEvent,
  livenessSettings,
} from './ctrl-heartbeat.js';
import { toCallParams } from './destination.js';
import { ControllerStateError } from './errors.js';
import { NodeRegistry } from './node-registry.js';

/** A call flow: runs with the call's signal; returning (or throwing) ends it. */
export type CallHandler = (call: Call) => Promise<void>;

export interface ControllerOptions {
  bus: Bus;
  clock: Clock;
  /** This controller's id (default: a random UUID). Must be one subject token. */
  ctrlUuid?: string;
  /** Tenant prefix and subject overrides (default: the plain `cn.xswitch.*` subjects). */
  subjectOptions?: SubjectOptions;
  /** Queue group on `cn.xswitch.ctrl` (default `"xctrl"`). */
  queue?: string;
  /** Default: silent. */
  logger?: Logger;
  /** Calls older than this are reaped (default 4 h, the Go SDK's). */
  maxChannelLifetimeMs?: number;
  /** A node not heard from (NodeRegister/NodeUpdate) for this long is expired and its calls reaped (default 60 s). */
  nodeExpiryMs?: number;
  /** How often expiry and lifetime are checked (default 10 s). */
  sweepIntervalMs?: number;
  /**
   * Accept each new call before handing it to the flow (default true). A 419 drops the call silently; a
   * timed-out Accept (it may have run on the node) drops it and sends a best-effort Hangup.
   */
  autoAccept?: boolean;
  /** Accept with `takeover: true` (default false). */
  takeover?: boolean;
  /**
   * Hang the call up when its flow ends and the call is still up (default true): `NORMAL_CLEARING`
   * after a normal return or a cancellation, `NORMAL_TEMPORARY_FAILURE` after a thrown error.
   */
  hangupAfterFlow?: boolean;
  /**
   * Controller liveness (docs/protocol.md "Controller liveness"): heartbeat on the status subject,
   * `Event.CtrlUnregister` on close, and adoption of calls nodes re-announce as orphaned. `true` =
   * defaults (heartbeat 5 s, adopt orphans). Default false (off). With liveness on, `close()` hands the
   * calls over instead of hanging them up: nodes re-announce them to the queue group at once.
   */
  liveness?: boolean | ControllerLivenessOptions;
  /**
   * The seed-004 transaction layer (docs/reliability.md): requests carry transaction ids
   * `<ctrl_uuid>:<epoch>:<serial>`, are resent with the same bytes until answered, and switch to the
   * long timer on a provisional answer; a lost answer ends in `RpcTimeoutError` ("outcome unknown").
   * `true` = the §3.2 timers. Run the nodes with `reliability` too: their reply cache is what stops a
   * resend from executing twice. Default false (off).
   */
  reliability?: boolean | Omit<OriginatorReliability, 'originator'>;
}

export interface DialOptions {
  /** A dial string (contains `/`, e.g. `user/1000`), a number, or full call params (one per leg). */
  to: string | CallParamInput[];
  /** Caller id number for legs that do not set one. */
  from?: string;
  /** Caller id name for legs that do not set one. */
  cidName?: string;
  /** Dial on this node (default: any node, through the `cn.xswitch.node` queue group). */
  nodeUuid?: string;
  /** Ring all legs at once (default false: one after the other). */
  ringall?: boolean;
  /**
   * Ring timeout per leg (default 30 000 ms; sent as CallParam `timeout` in seconds where a leg sets
   * none). The controller waits this long per leg (all legs at once with `ringall`) plus 10 s for the
   * node's answer before giving up: the legs are hung up and `RpcTimeoutError` rejects.
   */
  timeoutMs?: number;
  /** Return only on answer, not on early media (global `ignore_early_media`). Default: node's (false). */
  ignoreEarlyMedia?: boolean;
  /** Channel variables for every leg (Destination `global_params`; values are strings). */
  variables?: Record<string, string>;
  /** Variables to subscribe to on every leg (Destination `channel_params`). */
  channelParams?: string[];
  /** Ringback tone for the caller, e.g. `%(1000,4000,450)`. */
  ringback?: string;
  /**
   * Owner of the leg: aborting it while ringing hangs the legs up (XNode.Hangup) and rejects with
   * `CancelledError`; aborting it later hangs the answered leg up. Pass `call.signal` so a leg never
   * outlives the flow that dialled it.
   */
  signal?: AbortSignal;
}

/** Counters since start. */
export interface ControllerStats {
  offered: number;
  accepted: number;
  lostRace: number;
  flowsFailed: number;
  dialled: number;
  reaped: number;
}

/** What the controller still holds (tests check these return to their baseline). */
export interface ControllerLeaks {
  calls: number;
  flows: number;
  tasks: number;
  timers: number;
  subscriptions: number;
  rpcPending: number;
}

const DIAL_GRACE_MS = 10_000;
const DEFAULT_DIAL_TIMEOUT_MS = 30_000;
/** How long an abandoned dial leg we never heard of is kept to hang it up if it shows up. */
const DOOMED_LEG_GRACE_MS = 60_000;

type Consumer = { kind: 'handler'; handler: CallHandler } | { kind: 'iterator'; queue: AsyncQueue<Call> };

/**
 * One XCtrl.
 *
 * @example
 * const ctrl = new Controller({ bus, clock: new RealClock() });
 * ctrl.onCall(async (call) => {
 *   await call.answer();
 *   await call.play('welcome.wav');
 * });
 * await ctrl.start();
 * const leg = await ctrl.dial({ to: 'user/1000', from: '100', signal: AbortSignal.timeout(60_000) });
 * await ctrl.close();
 */
export class Controller {
  readonly ctrlUuid: string;
  /** Known switch nodes (from status events). */
  readonly nodes: NodeRegistry;
  readonly subjects: Subjects;

  readonly #bus: Bus;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #queue: string;
  readonly #maxLifetimeMs: number;
  readonly #nodeExpiryMs: number;
  readonly #sweepMs: number;
  readonly #autoAccept: boolean;
  readonly #takeover: boolean;
  readonly #hangupAfterFlow: boolean;
  readonly #host: CallHost;
  readonly #liveness: Required<ControllerLivenessOptions> | undefined;
  readonly #reliability: NonNullable<ControllerOptions['reliability']>;
  #heartbeat: CtrlHeartbeat | undefined;

  #state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | undefined;
  #rpc: RpcClient | undefined;
  #queueSub: Subscription | undefined;
  #statusSub: Subscription | undefined;
  #sweep: Timer | undefined;
  #offReconnect: (() => void) | undefined;
  #calls = new Map<string, Call>();
  #doomed = new Map<string, Timer>();
  #tasks = new Set<Promise<unknown>>();
  #consumers: Consumer[] = [];
  #next = 0;
  #stats: ControllerStats = { offered: 0, accepted: 0, lostRace: 0, flowsFailed: 0, dialled: 0, reaped: 0 };

  constructor(options: ControllerOptions) {
    this.#bus = options.bus;
    this.#clock = options.clock;
    this.#logger = options.logger ?? silentLogger;
    this.ctrlUuid = options.ctrlUuid ?? globalThis.crypto.randomUUID();
    this.subjects = subjects(options.subjectOptions);
    // Validates ctrlUuid as a subject token now rather than at start().
    this.subjects.ctrlOf(this.ctrlUuid);
    this.#queue = options.queue ?? QueueGroup.ctrl;
    this.#maxLifetimeMs = options.maxChannelLifetimeMs ?? 4 * 3600_000;
    this.#nodeExpiryMs = options.nodeExpiryMs ?? 60_000;
    this.#sweepMs = options.sweepIntervalMs ?? 10_000;
    this.#autoAccept = options.autoAccept ?? true;
    this.#takeover = options.takeover ?? false;
    this.#hangupAfterFlow = options.hangupAfterFlow ?? true;
    this.#liveness = livenessSettings(options.liveness);
    this.#reliability = options.reliability ?? false;
    this.nodes = new NodeRegistry((err) => this.#logger.error({ err }, 'node change listener threw'));
    this.#host = {
      clock: this.#clock,
      logger: this.#logger,
      request: (call, method, params, opts) => this.#request(call.nodeUuid, method, params, opts),
      release: (call) => {
        if (this.#calls.get(call.uuid) === call) this.#calls.delete(call.uuid);
      },
    };
  }

  /**
   * Subscribes (own subject through the RpcClient, the `cn.xswitch.ctrl` queue group, the status
   * subject), starts the expiry sweep and announces `XNode.CtrlStartUp`. After a reconnect the NATS
   * client restores subscriptions by itself (NatsBus keeps them); the controller only announces itself
   * again so nodes know it is back.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new ControllerStateError(`controller is ${this.#state}; start() runs once`);
    this.#state = 'running';
    const s = this.subjects;
    this.#rpc = new RpcClient(this.#bus, this.#clock, {
      ctrlUuid: this.ctrlUuid,
      ownSubject: s.ctrlOf(this.ctrlUuid),
      onMessage: (m) => this.#onOwnMessage(m),
      onUnexpected: (response) =>
        this.#logger.debug({ id: response.id }, 'late response for a finished request ignored'),
      logger: this.#logger,
      ...reliabilityOption(this.ctrlUuid, this.#reliability),
    });
    this.#rpc.start();
    this.#queueSub = this.#bus.subscribe(s.ctrl, {
      queue: this.#queue,
      callback: (msg) => this.#onQueueMessage(msg.data, msg.reply),
    });
    this.#statusSub = this.#bus.subscribe(s.status, { callback: (msg) => this.#onStatusMessage(msg.data) });
    this.#sweep = this.#clock.setInterval(() => this.#sweepNow(), this.#sweepMs);
    this.#offReconnect = this.#bus.onReconnect(() => {
      this.#announce();
      this.#heartbeat?.beat();
    });
    if (this.#liveness) {
      this.#heartbeat = new CtrlHeartbeat({
        bus: this.#bus,
        clock: this.#clock,
        subject: s.status,
        ctrlUuid: this.ctrlUuid,
        heartbeatMs: this.#liveness.heartbeatMs,
        calls: () => this.#calls.size,
        logger: this.#logger,
      });
    }
    await this.#bus.flush();
    this.#announce();
    this.#heartbeat?.start();
  }

  /**
   * Registers the flow for new inbound calls; returns the unregister function. With several
   * consumers (handlers and `calls()` iterators) new calls are shared round-robin.
   */
  onCall(handler: CallHandler): () => void {
    const consumer: Consumer = { kind: 'handler', handler };
    this.#consumers.push(consumer);
    return () => this.#removeConsumer(consumer);
  }

  /**
   * New inbound calls as an async iterable. Each call's "flow" lasts until the call ends (or the
   * controller closes); leaving the loop stops delivery, and calls not yet taken are hung up.
   */
  calls(): AsyncIterable<Call> {
    const queue: AsyncQueue<Call> = new AsyncQueue((dropped) => {
      this.#removeConsumer(consumer);
      for (const call of dropped) this.#track(this.#hangupQuietly(call, 'calls() consumer left'));
    });
    const consumer: Consumer = { kind: 'iterator', queue };
    this.#consumers.push(consumer);
    return queue;
  }

  /** A call this controller tracks, by uuid. */
  getCall(uuid: string): Call | undefined {
    return this.#calls.get(uuid);
  }

  /**
   * Dials out (XNode.Dial, synchronous: answers when the leg is READY or failed). Leg uuids are
   * pre-assigned so events are matched before the answer. Resolves with the READY leg; rejects with
   * `CallFailedError` (480 + `hangupCause`), `NodeUnavailableError` (603), `BadRequestError`,
   * `RpcTimeoutError`, `NoRespondersError`, or `CancelledError` when `signal` aborts.
   */
  async dial(options: DialOptions): Promise<Call> {
    this.#assertRunning('dial');
    const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    const legs = toCallParams(options.to).map((leg) => {
      const out: CallParamInput = { ...leg, uuid: leg.uuid ?? globalThis.crypto.randomUUID() };
      if (out.cid_number === undefined && options.from !== undefined) out.cid_number = options.from;
      if (out.cid_name === undefined && options.cidName !== undefined) out.cid_name = options.cidName;
      if (out.timeout === undefined) out.timeout = Math.max(1, Math.ceil(timeoutMs / 1000));
      return out;
    });
    const destination: DestinationInput = { call_params: legs };
    if (options.ringall !== undefined) destination.ringall = options.ringall;
    const globals: Record<string, string> = { ...options.variables };
    if (options.ignoreEarlyMedia !== undefined) globals.ignore_early_media = String(options.ignoreEarlyMedia);
    if (Object.keys(globals).length > 0) destination.global_params = globals;
    if (options.channelParams) destination.channel_params = options.channelParams;
    const params: ParamsOf<'XNode.Dial'> = { destination };
    if (options.ringback !== undefined) params.ringback = options.ringback;
    const valid = validateParams('XNode.Dial', params);
    if (!valid.ok) throw new BadRequestError(400, `XNode.Dial: ${valid.message}`, { method: 'XNode.Dial' });
    if (legs.length === 0)
      throw new BadRequestError(400, 'XNode.Dial: no destination', { method: 'XNode.Dial' });

    const { signal } = options;
    if (signal?.aborted) throw cancellationOf(signal, 'XNode.Dial');
    const calls: Call[] = [];
    for (const leg of legs) {
      const uuid = leg.uuid as string;
      if (this.#calls.has(uuid)) throw new BadRequestError(400, `XNode.Dial: uuid ${uuid} is already in use`);
      const init =
        options.nodeUuid === undefined
          ? { uuid, direction: 'outbound' as const }
          : { uuid, direction: 'outbound' as const, nodeUuid: options.nodeUuid };
      const call = new Call(this.#host, init);
      call[kCall].controlled = true;
      calls.push(call);
    }
    for (const call of calls) this.#calls.set(call.uuid, call);
    this.#stats.dialled++;

    const waitMs = timeoutMs * (options.ringall ? 1 : legs.length) + DIAL_GRACE_MS;
    let result: ResultObject;
    try {
      const callOptions = signal ? { timeoutMs: waitMs, signal } : { timeoutMs: waitMs };
      result = await this.#request(options.nodeUuid, 'XNode.Dial', params, callOptions);
    } catch (err) {
      if (signal?.aborted) {
        const cancel = cancellationOf(signal, 'XNode.Dial');
        await this.#abandonLegs(calls, 'ORIGINATOR_CANCEL');
        throw cancel;
      }
      if (err instanceof RpcTimeoutError) await this.#abandonLegs(calls, 'ORIGINATOR_CANCEL');
      else this.#dropUnseen(calls, undefined);
      throw err;
    }
    const error = errorForResult('XNode.Dial', result);
    if (error) {
      // The node destroys failed legs (their DESTROY ends them); legs it never created are dropped.
      this.#dropUnseen(calls, undefined);
      throw error;
    }
    const uuid = typeof result.uuid === 'string' ? result.uuid : calls[0]?.uuid;
    let winner = calls.find((c) => c.uuid === uuid);
    if (!winner && uuid !== undefined) {
      // The node chose its own uuid (it ignored ours): track that one.
      winner = new Call(this.#host, { uuid, direction: 'outbound' });
      winner[kCall].controlled = true;
      this.#calls.set(uuid, winner);
    }
    if (!winner)
      throw new BadRequestError(400, 'XNode.Dial: answer without a leg uuid', { method: 'XNode.Dial' });
    if (typeof result.node_uuid === 'string') winner[kCall].setNodeUuid(result.node_uuid);
    this.#dropUnseen(calls, winner);
    if (signal) this.#bindOwner(winner, signal);
    return winner;
  }

  /**
   * Stops taking calls, cancels every flow (primitives tell the node to stop), waits for flows and their
   * cleanup (flows hang their calls up), then closes the RpcClient and unsubscribes. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Counters since start. */
  stats(): ControllerStats {
    return { ...this.#stats };
  }

  /** What the controller still holds: live calls, flows, background tasks, clock timers, bus subscriptions, rpc pending. */
  leaks(): ControllerLeaks {
    let flows = 0;
    for (const call of this.#calls.values()) if (call[kCall].flowRunning) flows++;
    return {
      calls: this.#calls.size,
      flows,
      tasks: this.#tasks.size,
      timers: this.#clock.pending,
      subscriptions: this.#bus.subscriptionCount,
      rpcPending: this.#rpc?.pending ?? 0,
    };
  }

  // ---- inbound -----------------------------------------------------------------------------------

  #onQueueMessage(data: Uint8Array, reply: string | undefined): void {
    const decoded = decode(data);
    switch (decoded.kind) {
      case 'notification':
      case 'request': {
        const { method, params = {} } = decoded.message;
        if (method === 'Event.Channel' || method === 'XNode.Channel') {
          this.#onChannelEvent(params);
        } else {
          this.#refuse(method, decoded.kind === 'request' ? decoded.message.id : undefined, reply);
        }
        return;
      }
      case 'batch':
      case 'response':
      case 'invalid':
        this.#logger.warn({ kind: decoded.kind }, 'unexpected message on the ctrl queue subject ignored');
        return;
    }
  }

  #onOwnMessage(m: { method: string; params: Record<string, unknown>; id?: string; reply?: string }): void {
    switch (m.method) {
      case 'Event.Channel':
      case 'XNode.Channel':
        this.#onChannelEvent(m.params);
        return;
      case 'Event.NodeRegister':
      case 'Event.NodeUpdate':
      case 'Event.NodeUnregister':
        this.#onNodeEvent(m.method, m.params);
        return;
      case 'Event.CDR':
        this.#logger.debug({ uuid: m.params.uuid }, 'Event.CDR on the ctrl subject ignored');
        return;
      default:
        if (m.method.startsWith('Event.')) {
          this.#onOtherEvent(m.method, m.params);
        } else {
          this.#refuse(m.method, m.id, m.reply);
        }
    }
  }

  /** Node→ctrl requests (XCtrl.Dialplan, FetchXML) are not served by this SDK: -32601 if a reply is wanted. */
  #refuse(method: string, id: string | undefined, reply: string | undefined): void {
    this.#logger.debug({ method }, 'request not served by the controller');
    if (reply === undefined) return;
    const response = errorResponse(id ?? null, {
      code: RpcErrorCode.MethodNotFound,
      message: `method not found: ${method}`,
    });
    try {
      this.#bus.publish(reply, encode(response));
    } catch (err) {
      this.#logger.warn({ err, method }, 'could not answer a node request');
    }
  }

  #onChannelEvent(params: Record<string, unknown>): void {
    const v = validateEvent('Event.Channel', params);
    if (!v.ok) {
      this.#logger.warn({ message: v.message }, 'invalid Event.Channel ignored');
      return;
    }
    const ev = v.params as ChannelEvent;
    const orphan = this.#liveness?.adoptOrphans === true && isOrphanEvent(ev);
    const call = this.#calls.get(ev.uuid);
    if (call) {
      call[kCall].event(ev);
      this.#hangupIfDoomed(call);
      // The node thought we were gone (a late heartbeat): take the call back before it is hung up.
      if (orphan && this.#state === 'running') this.#track(this.#reclaim(call));
      return;
    }
    if (ev.state === 'START' || orphan) {
      this.#offer(ev, orphan);
      return;
    }
    this.#logger.debug({ uuid: ev.uuid, state: ev.state }, 'event for an unknown channel dropped');
  }

  #onOtherEvent(method: string, params: Record<string, unknown>): void {
    const v = validateEvent(method, params);
    if (!v.ok) {
      this.#logger.warn({ method, message: v.message }, 'invalid event ignored');
      return;
    }
    const uuid = v.params.uuid;
    const call = typeof uuid === 'string' ? this.#calls.get(uuid) : undefined;
    if (!call) {
      this.#logger.debug({ method, uuid }, 'event for an unknown channel dropped');
      return;
    }
    call[kCall].notify({ method, params: v.params });
  }

  /** `resumed`: an orphaned call re-announced by its node, taken over with `takeover: true`. */
  #offer(ev: ChannelEvent, resumed = false): void {
    if (this.#state !== 'running') {
      this.#logger.debug({ uuid: ev.uuid }, 'new call while not running: left to the node');
      return;
    }
    if (this.#consumers.length === 0) {
      this.#logger.warn(
        { uuid: ev.uuid },
        'new call but no onCall handler or calls() consumer: left to the node',
      );
      return;
    }
    const init = {
      uuid: ev.uuid,
      direction: ev.direction ?? ('inbound' as const),
      nodeUuid: ev.node_uuid,
      event: ev,
    };
    const call = new Call(this.#host, init);
    this.#calls.set(call.uuid, call);
    this.#stats.offered++;
    this.#track(this.#adopt(call, resumed));
  }

  async #reclaim(call: Call): Promise<void> {
    try {
      await call.accept({ takeover: true });
    } catch (err) {
      this.#logger.debug({ uuid: call.uuid, err }, 'could not take an orphaned call back');
    }
  }

  async #adopt(call: Call, resumed: boolean): Promise<void> {
    // An orphan must be accepted whatever autoAccept says: the node hangs it up otherwise.
    if (this.#autoAccept || resumed) {
      try {
        await call.accept({ takeover: this.#takeover || resumed });
      } catch (err) {
        if (err instanceof ConflictError) {
          this.#stats.lostRace++;
          this.#logger.debug({ uuid: call.uuid }, 'another controller took the call (419): dropped');
        } else {
          this.#logger.warn({ uuid: call.uuid, err }, 'accept failed: call dropped');
          // why: a timed-out Accept may have run on the node (answers lost): the channel is then ours and
          // the node's takeover rule no longer ends it. A Hangup from a non-owner gets 400/419, so it is safe.
          if (err instanceof RpcTimeoutError)
            await this.#hangupQuietly(call, 'accept outcome unknown', 'NORMAL_TEMPORARY_FAILURE');
        }
        call[kCall].terminate('dropped');
        return;
      }
      this.#stats.accepted++;
    }
    if (call.isEnded) return;
    const consumer = this.#state === 'running' ? this.#nextConsumer() : undefined;
    const flow: CallHandler = consumer ? this.#flowFor(consumer) : async () => {};
    // Returned, not awaited: run() never rejects (it logs its own bugs), and a held call then keeps
    // one suspended async function fewer (heap per held call).
    return call[kCall].run(flow, { hangupAfterFlow: this.#hangupAfterFlow, onCrash: this.#countCrash });
  }

  /** One function for every call (not a closure per call): counts a flow that failed. */
  readonly #countCrash = (): void => {
    this.#stats.flowsFailed++;
  };

  #flowFor(consumer: Consumer): CallHandler {
    switch (consumer.kind) {
      case 'handler':
        return consumer.handler;
      case 'iterator':
        // The consumer owns the call until it ends (or the controller closes).
        return (call) => {
          consumer.queue.push(call);
          return new Promise<void>((resolve) => {
            if (call.signal.aborted) resolve();
            else call.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        };
    }
  }

  #nextConsumer(): Consumer | undefined {
    if (this.#consumers.length === 0) return undefined;
    const consumer = this.#consumers[this.#next % this.#consumers.length];
    this.#next = (this.#next + 1) % this.#consumers.length;
    return consumer;
  }

  #removeConsumer(consumer: Consumer): void {
    const i = this.#consumers.indexOf(consumer);
    if (i >= 0) this.#consumers.splice(i, 1);
  }

  // ---- nodes and reaping ---------------------------------------------------------------------------

  #onStatusMessage(data: Uint8Array): void {
    const decoded = decode(data);
    if (decoded.kind !== 'notification' && decoded.kind !== 'request') {
      this.#logger.warn({ kind: decoded.kind }, 'unexpected message on the status subject ignored');
      return;
    }
    this.#onNodeEvent(decoded.message.method, decoded.message.params ?? {});
  }

  #onNodeEvent(method: string, params: Record<string, unknown>): void {
    if (
      method !== 'Event.NodeRegister' &&
      method !== 'Event.NodeUpdate' &&
      method !== 'Event.NodeUnregister'
    ) {
      this.#logger.debug({ method }, 'status message ignored');
      return;
    }
    const v = validateEvent(method, params);
    if (!v.ok) {
      this.#logger.warn({ method, message: v.message }, 'invalid node status ignored');
      return;
    }
    const info = v.params as NodeInfo;
    const change = this.nodes.apply(
      method === 'Event.NodeUnregister' ? 'gone' : 'seen',
      info,
      this.#clock.now(),
    );
    if (change?.kind === 'unregistered') this.#reapNode(info.uuid);
  }

  #sweepNow(): void {
    const now = this.#clock.now();
    for (const node of this.nodes.expire(now - this.#nodeExpiryMs)) {
      this.#logger.warn({ node_uuid: node.uuid }, 'node expired: its calls are reaped');
      this.#reapNode(node.uuid);
    }
    for (const call of [...this.#calls.values()]) {
      if (call.isEnded || now - call[kCall].createdAt <= this.#maxLifetimeMs) continue;
      this.#logger.warn({ uuid: call.uuid }, 'call outlived maxChannelLifetimeMs: reaped');
      this.#stats.reaped++;
      // Best effort, fire and forget: if the node still has the channel, end it too.
      this.#track(
        this.#request(
          call.nodeUuid,
          'XNode.Hangup',
          { uuid: call.uuid, cause: 'ALLOTTED_TIMEOUT' },
          { timeoutMs: 0, notify: true },
        ).catch((err: unknown) => this.#logger.debug({ uuid: call.uuid, err }, 'reap hangup not sent')),
      );
      call[kCall].terminate('max-lifetime');
    }
  }

  #reapNode(nodeUuid: string): void {
    for (const call of [...this.#calls.values()]) {
      if (call.nodeUuid !== nodeUuid || call.isEnded) continue;
      this.#stats.reaped++;
      call[kCall].terminate('node-lost');
    }
  }

  // ---- dial helpers ----------------------------------------------------------------------------------

  /** Legs never heard of are forgotten (except `keep`); legs with events live until their DESTROY. */
  #dropUnseen(calls: Call[], keep: Call | undefined): void {
    for (const call of calls) {
      if (call !== keep && !call[kCall].seen) call[kCall].terminate('dropped');
    }
  }

  /**
   * Hangs up legs of a cancelled or timed-out Dial. Legs on a known node are hung up now; a leg whose
   * node is unknown (no event yet, Dial sent to the queue group) is hung up as soon as it shows up, or
   * forgotten after a grace period.
   */
  async #abandonLegs(calls: Call[], cause: string): Promise<void> {
    const hangups: Promise<void>[] = [];
    for (const call of calls) {
      if (call.isEnded) continue;
      if (call.nodeUuid !== undefined) {
        hangups.push(this.#hangupQuietly(call, 'dial cancelled', cause));
      } else {
        this.#doomed.set(
          call.uuid,
          this.#clock.setTimeout(() => {
            this.#doomed.delete(call.uuid);
            if (!call[kCall].seen) call[kCall].terminate('dropped');
          }, DOOMED_LEG_GRACE_MS),
        );
      }
    }
    await Promise.all(hangups);
  }

  #hangupIfDoomed(call: Call): void {
    const timer = this.#doomed.get(call.uuid);
    if (!timer) return;
    timer.cancel();
    this.#doomed.delete(call.uuid);
    this.#track(this.#hangupQuietly(call, 'cancelled dial leg showed up', 'ORIGINATOR_CANCEL'));
  }

  /** Aborting the dial's signal after the leg is up hangs the leg up. */
  #bindOwner(call: Call, signal: AbortSignal): void {
    const onAbort = (): void => {
      this.#track(this.#hangupQuietly(call, 'dial owner cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Released when the leg ends, so a long-lived owner signal does not collect listeners.
    void call.ended.then(() => signal.removeEventListener('abort', onAbort));
  }

  async #hangupQuietly(call: Call, why: string, cause?: string): Promise<void> {
    try {
      await call.hangup(cause === undefined ? {} : { cause });
    } catch (err) {
      this.#logger.debug({ uuid: call.uuid, err, why }, 'hangup failed');
    }
  }

  // ---- plumbing ------------------------------------------------------------------------------------

  #request(
    nodeUuid: string | undefined,
    method: string,
    params: Record<string, unknown>,
    options: { timeoutMs: number; signal?: AbortSignal; notify?: boolean },
  ): Promise<ResultObject> {
    const rpc = this.#rpc;
    if (!rpc || this.#state === 'closed') {
      return Promise.reject(new ControllerStateError(`${method}: controller is ${this.#state}`));
    }
    let subject: string;
    try {
      subject = nodeUuid === undefined ? this.subjects.node : this.subjects.nodeOf(nodeUuid);
    } catch (err) {
      return Promise.reject(err);
    }
    return rpc.call(subject, method, params, {
      timeoutMs: options.timeoutMs,
      mode: options.notify ? 'notify' : 'sync',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  #announce(): void {
    if (this.#state !== 'running') return;
    this.#track(
      this.#request(
        undefined,
        'XNode.CtrlStartUp',
        { ctrl_uuid: this.ctrlUuid },
        { timeoutMs: 0, notify: true },
      ).catch((err: unknown) => this.#logger.warn({ err }, 'XNode.CtrlStartUp not sent')),
    );
  }

  /** Keeps a background promise so `close()` can wait for it; it must not reject (callers catch). */
  #track(promise: Promise<unknown>): void {
    this.#tasks.add(promise);
    // Same as `promise.finally(forget)` (a rejection still surfaces as unhandled), with fewer objects
    // per task: finally() adds two internal closures and a context per held call.
    void promise.then(
      () => this.#tasks.delete(promise),
      (err: unknown) => {
        this.#tasks.delete(promise);
        throw err;
      },
    );
  }

  #assertRunning(what: string): void {
    if (this.#state !== 'running') throw new ControllerStateError(`${what}: controller is ${this.#state}`);
  }

  async #close(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closing';
    this.#queueSub?.unsubscribe();
    this.#offReconnect?.();
    // why: before the flows are cancelled, so nodes orphan our calls first and the hangups that the
    // cancelled flows send are refused: the calls go to a peer instead of ending.
    await this.#heartbeat?.unregister();
    for (const consumer of this.#consumers) if (consumer.kind === 'iterator') consumer.queue.end();
    this.#consumers = [];
    for (const call of this.#calls.values()) {
      call[kCall].cancel('controller-closed');
      // Calls without a flow (dialled legs) are ours too: hang them up.
      if (!call[kCall].flowRunning && !call.isEnded)
        this.#track(this.#hangupQuietly(call, 'controller closing'));
    }
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    const released: Promise<void>[] = [];
    for (const call of [...this.#calls.values()]) {
      call[kCall].terminate('controller-closed');
      released.push(call[kCall].released);
    }
    await Promise.all(released);
    for (const timer of this.#doomed.values()) timer.cancel();
    this.#doomed.clear();
    this.#sweep?.cancel();
    this.#statusSub?.unsubscribe();
    this.nodes.clear();
    await this.#rpc?.close();
    this.#state = 'closed';
  }
}

/**
 * The RpcClient option for `ControllerOptions.reliability`. A timed-out Dial needs nothing more here:
 * its legs have pre-assigned uuids and are hung up when they show up (`#abandonLegs`), so a late
 * answer to it only reaches `onUnexpected` for the log.
 */
function reliabilityOption(
  ctrlUuid: string,
  setting: NonNullable<ControllerOptions['reliability']>,
): { reliability?: OriginatorReliability } {
  if (setting === false) return {};
  return { reliability: { ...(setting === true ? {} : setting), originator: ctrlUuid } };
}
