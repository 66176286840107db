/**
 * XNode: a switch node on the bus. Serves every `XNode.*` method (RpcServer on `cn.xswitch.node`, queue
 * "xnode", and `cn.xswitch.node.<uuid>`), turns media-backend calls into channels (START, the 10 s
 * takeover rule), reports status (NodeRegister / NodeUpdate heartbeat / NodeUnregister) and shuts down
 * gracefully. Channel behaviour lives in runtime.ts; the methods live in one file per area.
 */
import type { Bus } from '../bus/bus.js';
import type { Clock, Timer } from '../clock/clock.js';
import { Cause, Code } from '../protocol/codes.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/envelope.js';
import { NodeUnavailableError } from '../protocol/errors.js';
import { type Logger, silentLogger } from '../protocol/logger.js';
import { isMethod, METHOD_NAMES, usesTrying, validateParams } from '../protocol/schemas/index.js';
import { QueueGroup, type SubjectOptions, type Subjects, subjects } from '../protocol/subjects.js';
import type { ResponderReliability } from '../rpc/reliability.js';
import { RpcServer } from '../rpc/server.js';
import type { MethodHandler } from '../rpc/types.js';
import { bridgeHandlers } from './bridge.js';
import { CtrlLiveness, type CtrlLivenessOptions, type CtrlLivenessStats } from './ctrl-liveness.js';
import { callControlHandlers } from './call-control.js';
import { conferenceHandlers } from './conference.js';
import type { HandlerMap, NodeHooks, NodeStats } from './handlers.js';
import type { InboundOffer, MediaBackend } from './media.js';
import { mediaHandlers } from './media-api.js';
import { nativeHandlers } from './native.js';
import { NOT_IMPLEMENTED, result } from './results.js';
import { NodeRuntime } from './runtime.js';
import { nodeInfo } from './status.js';
import { varsHandlers } from './vars.js';

export interface XNodeOptions {
  bus: Bus;
  clock: Clock;
  media: MediaBackend;
  /** Default: a random UUID. Must be one subject token. */
  nodeUuid?: string;
  /** Default: `openxcc-<first 8 chars of the uuid>`. */
  name?: string;
  /** Reported as `node_ip` / `ip`. Default `127.0.0.1`. */
  ip?: string;
  /** Tenant prefix and status/CDR subject overrides. */
  subjectOptions?: SubjectOptions;
  /** An inbound call not taken over within this time is hung up (reference §3). Default 10 000. */
  takeoverTimeoutMs?: number;
  /** Event.NodeUpdate interval. Default 20 000. */
  heartbeatMs?: number;
  /** Statically subscribed channel variables (xcc.conf), merged into every channel's subscription. */
  channelParams?: string[];
  /** Where START of inbound calls goes. Default: `cn.xswitch.ctrl` (controllers' queue group). */
  announceSubject?: string;
  /** Largest accepted request in bytes. Default 1 MiB. */
  maxMessageBytes?: number;
  /** How long shutdown() waits for calls to end before stop(). Default 600 000 (10 min). */
  shutdownGraceMs?: number;
  /** Reported as `sessions_max`; 0 (default) = no limit. */
  sessionsMax?: number;
  /** Reported version. Default `openxcc-sim`. */
  version?: string;
  /** Channel uuids (tests pass a deterministic generator). Default: random UUIDs. */
  newUuid?: () => string;
  logger?: Logger;
  /**
   * Controller liveness (docs/protocol.md "Controller liveness"): track `Event.CtrlHeartbeat` of the
   * controllers that own channels here and re-announce the channels of one that unregistered or went
   * silent. `true` = defaults (owner timeout 15 s, adopt within 10 s). Default false (off).
   */
  ctrlLiveness?: boolean | CtrlLivenessOptions;
  /**
   * The seed-004 responder (docs/reliability.md): a reply cache keyed by transaction id answers a
   * resend with 100 Trying while the method runs and with the cached answer, byte for byte, after it;
   * a resend never executes twice on this node. `true` = the §3.2 defaults. Default false (off).
   */
  reliability?: boolean | ResponderReliability;
}

/** What tests compare before and after a run to prove nothing leaked. */
export interface NodeLeaks {
  channels: number;
  reservedUuids: number;
  conferences: number;
  backgroundTasks: number;
  /** `clock.pending` (includes the heartbeat while started, and timers of others on the same clock). */
  timers: number;
  /** `bus.subscriptionCount`. */
  subscriptions: number;
  rpcInflight: number;
}

/** A read-only view of one channel (CLI, console, tests). */
export interface ChannelSnapshot {
  uuid: string;
  direction: 'inbound' | 'outbound';
  state: string | undefined;
  owner: string | undefined;
  answered: boolean;
  bridgedTo: string | undefined;
  conference: string | undefined;
  cidNumber: string;
  destNumber: string;
}

const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/**
 * A switch node.
 *
 * @example
 * const broker = new MemoryBroker({ clock });
 * const node = new XNode({ bus: broker.connect(), clock, media: new SimMedia({ clock }) });
 * await node.start();
 * const uuid = node.inject({ cid_name: 'Alice', cid_number: '1000', dest_number: '9196' });
 * // … a controller Accepts/Answers `uuid` within 10 s …
 * await node.stop();
 */
export class XNode implements NodeHooks {
  readonly uuid: string;
  readonly name: string;
  readonly version: string;
  readonly #options: XNodeOptions;
  readonly #subjects: Subjects;
  readonly #rt: NodeRuntime;
  readonly #logger: Logger;
  #server: RpcServer | undefined;
  #heartbeat: Timer | undefined;
  #startedAt = 0;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #shuttingDown = false;
  #stopping: Promise<void> | undefined;
  #shutdown: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  readonly #liveness: CtrlLiveness | undefined;

  constructor(options: XNodeOptions) {
    this.#options = options;
    this.uuid = options.nodeUuid ?? crypto.randomUUID();
    this.#subjects = subjects(options.subjectOptions);
    this.#subjects.nodeOf(this.uuid); // throws early on a uuid that is not a subject token
    if (options.announceSubject !== undefined && !SUBJECT.test(options.announceSubject)) {
      throw new Error(`announceSubject is not a valid subject: ${JSON.stringify(options.announceSubject)}`);
    }
    this.name = options.name ?? `openxcc-${this.uuid.slice(0, 8)}`;
    this.version = options.version ?? 'openxcc-sim';
    this.#logger = options.logger ?? silentLogger;
    this.#rt = new NodeRuntime({
      nodeUuid: this.uuid,
      nodeIp: options.ip ?? '127.0.0.1',
      bus: options.bus,
      clock: options.clock,
      media: options.media,
      subjects: this.#subjects,
      logger: this.#logger,
      channelParams: options.channelParams ?? [],
      newUuid: options.newUuid ?? (() => crypto.randomUUID()),
    });
    const liveness = options.ctrlLiveness;
    if (liveness !== undefined && liveness !== false) {
      this.#liveness = new CtrlLiveness(this.#rt, liveness === true ? {} : liveness);
    }
    this.#rt.onChannelGone = () => {
      if (this.#rt.channels.size === 0) this.#drained?.();
    };
  }

  /** Live channels. */
  get channelCount(): number {
    return this.#rt.channels.size;
  }

  /** True once shutdown() or stop() began: new calls get 603. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Subscribes the node subjects, starts the media backend, sends NodeRegister, starts the heartbeat. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`XNode ${this.uuid} cannot start: it is ${this.#state}`);
    this.#state = 'running';
    this.#startedAt = this.#options.clock.now();
    const s = this.#subjects;
    this.#server = new RpcServer(this.#options.bus, this.#options.clock, {
      subjects: [{ subject: s.node, queue: QueueGroup.node }, { subject: s.nodeOf(this.uuid) }],
      handlers: this.#handlers(),
      validate: validateParams,
      ctrlSubject: (ctrlUuid) => s.ctrlOf(ctrlUuid),
      trying: usesTrying,
      maxMessageBytes: this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      logger: this.#logger,
      ...responderOption(this.#options.reliability),
    });
    this.#server.start();
    this.#options.media.start({ inbound: (offer) => this.inject(offer) });
    this.#liveness?.start();
    this.#status('Event.NodeRegister');
    this.#heartbeat = this.#options.clock.setInterval(
      () => this.#status('Event.NodeUpdate'),
      this.#options.heartbeatMs ?? 20_000,
    );
    this.#logger.info({ node_uuid: this.uuid, name: this.name }, 'node started');
  }

  /**
   * Stops now: refuses new calls, hangs up remaining calls with SYSTEM_SHUTDOWN (each gets its CDR and
   * DESTROY), waits for background work, stops serving, stops the backend, sends NodeUnregister.
   * Idempotent; resolves when everything is released.
   */
  stop(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'stopped';
      return Promise.resolve();
    }
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    this.#shuttingDown = true;
    this.#heartbeat?.cancel();
    this.#heartbeat = undefined;
    // Before the hangups: a node going away orphans nothing.
    this.#liveness?.stop();
    for (const ch of [...this.#rt.channels.values()]) this.#rt.hangup(ch, Cause.SystemShutdown);
    await this.#rt.settle();
    await this.#server?.stop();
    // Handlers that finished during the server's stop may have started background work.
    await this.#rt.settle();
    try {
      await this.#options.media.stop();
    } catch (err) {
      this.#logger.error({ err }, 'media backend failed to stop');
    }
    this.#status('Event.NodeUnregister');
    try {
      await this.#options.bus.flush();
    } catch (err) {
      this.#logger.warn({ err }, 'bus flush failed at stop');
    }
    this.#drained?.();
    this.#state = 'stopped';
    this.#logger.info({ node_uuid: this.uuid }, 'node stopped');
  }

  /**
   * Graceful shutdown (XNode.Shutdown): refuse new calls with 603, tell controllers (NodeUpdate with
   * `shutdown: true`), wait until every call ended or `graceMs` passed, then stop().
   */
  shutdown(graceMs = this.#options.shutdownGraceMs ?? 600_000): Promise<void> {
    if (this.#state === 'new' || this.#state === 'stopped') return this.stop();
    this.#shutdown ??= this.#gracefully(graceMs);
    return this.#shutdown;
  }

  async #gracefully(graceMs: number): Promise<void> {
    this.#shuttingDown = true;
    this.#status('Event.NodeUpdate');
    if (this.#rt.channels.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#options.clock.setTimeout(() => done(), graceMs);
        const done = (): void => {
          timer.cancel();
          this.#drained = undefined;
          resolve();
        };
        this.#drained = done;
      });
    }
    await this.stop();
  }

  beginShutdown(): void {
    // Not tracked with the runtime's tasks: stop() awaits those, and this task awaits stop().
    this.shutdown().catch((err: unknown) => this.#logger.error({ err }, 'shutdown failed'));
  }

  /**
   * Creates an inbound call (the media backend's sink, `XNode.SimCall`, the CLI): parks it, sends
   * Event.Channel START, and arms the takeover rule. Returns the channel uuid. Throws
   * `NodeUnavailableError` (603) while shutting down, and an Error for a bad offer.
   */
  inject(offer: InboundOffer): string {
    if (this.#state !== 'running' || this.#shuttingDown) {
      throw new NodeUnavailableError(Code.ShuttingDown, 'node shutting down');
    }
    const subject = offer.subject ?? this.#options.announceSubject ?? this.#subjects.ctrl;
    if (!SUBJECT.test(subject)) throw new Error(`subject: not a valid subject: ${JSON.stringify(subject)}`);
    const rt = this.#rt;
    const ch = rt.createChannel({
      uuid: rt.newUuid(),
      direction: 'inbound',
      cidName: offer.cid_name,
      cidNumber: offer.cid_number,
      destNumber: offer.dest_number,
      domain: offer.domain ?? '',
      context: offer.context ?? 'default',
      createdAt: this.#options.clock.now(),
      announceSubject: subject,
    });
    for (const [k, v] of Object.entries(offer.variables ?? {})) ch.setVariable(k, v);
    let media: { live(): void };
    try {
      media = rt.openMedia(ch, offer.script);
    } catch (err) {
      rt.discard(ch);
      throw err;
    }
    ch.takeoverTimer = rt.addTimer(ch, this.#options.takeoverTimeoutMs ?? 10_000, () => {
      this.#logger.info({ uuid: ch.uuid }, 'not taken over in time: hanging up');
      rt.hangup(ch, Cause.RecoveryOnTimerExpire);
    });
    rt.emitChannel(ch, 'START');
    media.live();
    return ch.uuid;
  }

  stats(): NodeStats {
    return {
      sessions: this.#rt.channels.size,
      sessionsSinceStartup: this.#rt.sessionsSinceStartup,
      sessionPeak: this.#rt.sessionPeak,
      sessionsMax: this.#options.sessionsMax ?? 0,
      uptimeMs: this.#state === 'new' ? 0 : this.#options.clock.now() - this.#startedAt,
      shuttingDown: this.#shuttingDown,
    };
  }

  /** Controller liveness counters; undefined when `ctrlLiveness` is off. */
  ctrlLivenessStats(): CtrlLivenessStats | undefined {
    return this.#liveness?.stats();
  }

  leaks(): NodeLeaks {
    return {
      channels: this.#rt.channels.size,
      reservedUuids: this.#rt.reserved.size,
      conferences: this.#rt.rooms.size,
      backgroundTasks: this.#rt.taskCount,
      timers: this.#options.clock.pending,
      subscriptions: this.#options.bus.subscriptionCount,
      rpcInflight: this.#server?.inflight ?? 0,
    };
  }

  /** Snapshots of the live channels. */
  channels(): ChannelSnapshot[] {
    return [...this.#rt.channels.values()].map((ch) => {
      const link = ch.link;
      return {
        uuid: ch.uuid,
        direction: ch.direction,
        state: ch.state,
        owner: ch.owner,
        answered: ch.answered,
        bridgedTo: link ? (link.caller === ch ? link.callee.uuid : link.caller.uuid) : undefined,
        conference: ch.conference,
        cidNumber: ch.cidNumber,
        destNumber: ch.destNumber,
      };
    });
  }

  #status(method: 'Event.NodeRegister' | 'Event.NodeUpdate' | 'Event.NodeUnregister'): void {
    const info = nodeInfo(
      { uuid: this.uuid, name: this.name, ip: this.#rt.nodeIp, version: this.version },
      this.stats(),
    );
    this.#rt.publish(this.#subjects.status, method, info);
  }

  /** Every method of the registry: a real handler, or 501 for what the simulator cannot honour. */
  #handlers(): Record<string, MethodHandler> {
    const rt = this.#rt;
    const implemented: HandlerMap = {
      ...callControlHandlers(rt, this),
      ...mediaHandlers(rt),
      ...bridgeHandlers(rt),
      ...conferenceHandlers(rt),
      ...varsHandlers(rt),
      ...nativeHandlers(rt, this),
    };
    const handlers: Record<string, MethodHandler> = {};
    for (const name of METHOD_NAMES) {
      handlers[name] =
        implemented[name] ??
        (async (params) =>
          result(
            Code.NotImplemented,
            `${name}: ${NOT_IMPLEMENTED}`,
            this.uuid,
            typeof params.uuid === 'string' ? params.uuid : undefined,
          ));
    }
    for (const name of Object.keys(implemented)) {
      if (!isMethod(name))
        this.#logger.warn({ method: name }, 'handler for a method the protocol registry does not know');
    }
    return handlers;
  }
}

/** The RpcServer option for `XNodeOptions.reliability`. */
function responderOption(setting: boolean | ResponderReliability | undefined): {
  reliability?: ResponderReliability;
} {
  if (setting === undefined || setting === false) return {};
  return { reliability: setting === true ? {} : setting };
}
