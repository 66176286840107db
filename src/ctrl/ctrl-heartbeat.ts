/**
 * The controller's side of controller liveness (docs/protocol.md "Controller liveness"): publishes
 * `Event.CtrlHeartbeat {ctrl_uuid, interval_ms, calls}` on the status subject every `heartbeatMs` and
 * `Event.CtrlUnregister` when the controller closes, so nodes re-announce the calls of a controller that
 * went away; and `isResumed()`, which tells a flow that its call was taken over from such a controller.
 */
import type { Bus } from '../bus/index.js';
import type { Clock, Timer } from '../clock/index.js';
import {
  CtrlStatusMethod,
  type CtrlStatus,
  encode,
  type Logger,
  ORPHANED_VARIABLE,
  request,
} from '../protocol/index.js';
import type { Call } from './call.js';

/** Controller-side liveness settings (`ControllerOptions.liveness`). */
export interface ControllerLivenessOptions {
  /** Heartbeat period on the status subject. Default 5 000 ms. */
  heartbeatMs?: number;
  /**
   * Take over calls nodes re-announce as orphaned (`Accept {takeover: true}`) and hand them to the flow
   * (`isResumed(call)` is true). Default true. Every member of the queue group should agree: an orphan
   * offered to a member that does not adopt it is hung up by the node after its adopt timeout.
   */
  adoptOrphans?: boolean;
}

export const DEFAULT_CTRL_HEARTBEAT_MS = 5_000;

/** Settings with defaults applied; undefined when liveness is off. */
export function livenessSettings(
  option: boolean | ControllerLivenessOptions | undefined,
): Required<ControllerLivenessOptions> | undefined {
  if (option === undefined || option === false) return undefined;
  const o = option === true ? {} : option;
  const heartbeatMs = o.heartbeatMs ?? DEFAULT_CTRL_HEARTBEAT_MS;
  if (!Number.isFinite(heartbeatMs) || heartbeatMs <= 0)
    throw new Error('liveness.heartbeatMs must be a positive number');
  return { heartbeatMs, adoptOrphans: o.adoptOrphans ?? true };
}

export interface CtrlHeartbeatOptions {
  bus: Bus;
  clock: Clock;
  /** The status subject. */
  subject: string;
  ctrlUuid: string;
  heartbeatMs: number;
  /** Number of calls tracked now (reported in each heartbeat). */
  calls: () => number;
  logger: Logger;
}

/** Publishes the heartbeat on a Clock interval; a publish that fails (bus closed) is logged, never thrown. */
export class CtrlHeartbeat {
  readonly #o: CtrlHeartbeatOptions;
  #timer: Timer | undefined;

  constructor(options: CtrlHeartbeatOptions) {
    this.#o = options;
  }

  /** Sends a heartbeat now and every `heartbeatMs` until `stop()`. */
  start(): void {
    if (this.#timer) return;
    this.beat();
    this.#timer = this.#o.clock.setInterval(() => this.beat(), this.#o.heartbeatMs);
  }

  /** Sends one heartbeat (also after a reconnect). */
  beat(): void {
    this.#send(CtrlStatusMethod.heartbeat, {
      ctrl_uuid: this.#o.ctrlUuid,
      interval_ms: this.#o.heartbeatMs,
      calls: this.#o.calls(),
    });
  }

  /** Stops the heartbeat and sends `Event.CtrlUnregister`, flushed so it goes before what follows. */
  async unregister(): Promise<void> {
    this.stop();
    if (this.#send(CtrlStatusMethod.unregister, { ctrl_uuid: this.#o.ctrlUuid })) {
      try {
        await this.#o.bus.flush();
      } catch (err) {
        this.#o.logger.debug({ err }, 'flush after Event.CtrlUnregister failed');
      }
    }
  }

  /** Stops the heartbeat without a word (what a crash looks like to nodes). Idempotent. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #send(method: CtrlStatusMethod, params: CtrlStatus): boolean {
    try {
      this.#o.bus.publish(this.#o.subject, encode(request(method, params)));
      return true;
    } catch (err) {
      this.#o.logger.warn({ err, method }, 'controller status not sent');
      return false;
    }
  }
}

/**
 * True when the call was taken over from a controller that went away (the node re-announced it with
 * `params.xcc_orphaned = "true"`): the flow resumes a call already in progress (maybe answered, bridged
 * or playing) rather than starting a new one.
 */
export function isResumed(call: Call): boolean {
  return call.variables[ORPHANED_VARIABLE] === 'true';
}

/** True when a channel event is a node's re-announcement of an orphaned call. */
export function isOrphanEvent(params: { params?: Record<string, string> | undefined }): boolean {
  return params.params?.[ORPHANED_VARIABLE] === 'true';
}
