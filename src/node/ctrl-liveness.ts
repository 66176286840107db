/**
 * Controller liveness on the node (docs/protocol.md "Controller liveness"): listens to
 * `Event.CtrlHeartbeat` / `Event.CtrlUnregister` on the status subject, and when a controller that owns
 * channels here unregisters or is not heard from for `ownerTimeoutMs`, re-announces each of its channels
 * to the controllers' queue group (Event.Channel, current state, `params.xcc_orphaned = "true"`) with
 * nobody owning it; a channel nobody takes over within `adoptTimeoutMs` is hung up
 * (RECOVERY_ON_TIMER_EXPIRE), like a new inbound call under the 10 s rule.
 */
import type { Subscription } from '../bus/bus.js';
import type { Timer } from '../clock/clock.js';
import { Cause } from '../protocol/codes.js';
import { decode } from '../protocol/envelope.js';
import {
  CtrlStatusMethod,
  isCtrlStatusMethod,
  ORPHANED_VARIABLE,
  parseCtrlStatus,
} from '../protocol/schemas/ctrl-status.js';
import type { Channel } from './channel.js';
import { channelEvent } from './event-payloads.js';
import type { NodeRuntime } from './runtime.js';

/** Node-side liveness settings (`XNodeOptions.ctrlLiveness`). */
export interface CtrlLivenessOptions {
  /** A controller not heard from for this long is presumed dead and its channels orphaned. Default 15 000. */
  ownerTimeoutMs?: number;
  /** How often silent controllers are looked for. Default 1 000 (so detection takes ≤ owner timeout + 1 s). */
  checkIntervalMs?: number;
  /** An orphaned channel not taken over within this long is hung up. Default 10 000 (the 10 s rule). */
  adoptTimeoutMs?: number;
}

export const DEFAULT_OWNER_TIMEOUT_MS = 15_000;
export const DEFAULT_LIVENESS_CHECK_MS = 1_000;
export const DEFAULT_ADOPT_TIMEOUT_MS = 10_000;

/** Counters since start (tests and `xcc node` status). */
export interface CtrlLivenessStats {
  /** Controllers currently known alive (heard from within the owner timeout). */
  controllers: number;
  /** Controllers declared dead after missing heartbeats. */
  expired: number;
  /** Controllers that unregistered. */
  unregistered: number;
  /** Channels re-announced as orphaned. */
  orphaned: number;
}

/**
 * Tracks the controllers that own this node's channels. Only controllers that sent a heartbeat are
 * tracked: an owner never heard from (a controller without liveness) never has its calls orphaned.
 */
export class CtrlLiveness {
  readonly #rt: NodeRuntime;
  readonly #ownerTimeoutMs: number;
  readonly #checkMs: number;
  readonly #adoptMs: number;
  /** ctrl_uuid → last time heard from. */
  readonly #seen = new Map<string, number>();
  #sub: Subscription | undefined;
  #check: Timer | undefined;
  #stats = { expired: 0, unregistered: 0, orphaned: 0 };

  constructor(rt: NodeRuntime, options: CtrlLivenessOptions = {}) {
    this.#rt = rt;
    this.#ownerTimeoutMs = positive(options.ownerTimeoutMs, DEFAULT_OWNER_TIMEOUT_MS, 'ownerTimeoutMs');
    this.#checkMs = positive(options.checkIntervalMs, DEFAULT_LIVENESS_CHECK_MS, 'checkIntervalMs');
    this.#adoptMs = positive(options.adoptTimeoutMs, DEFAULT_ADOPT_TIMEOUT_MS, 'adoptTimeoutMs');
  }

  /** Subscribes the status subject and starts the check timer. */
  start(): void {
    if (this.#sub) return;
    this.#sub = this.#rt.bus.subscribe(this.#rt.subjects.status, {
      callback: (msg) => this.#onStatus(msg.data),
    });
    this.#check = this.#rt.clock.setInterval(() => this.#expire(), this.#checkMs);
  }

  /** Unsubscribes and cancels the timer; channels keep their owners. Idempotent. */
  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#check?.cancel();
    this.#check = undefined;
    this.#seen.clear();
  }

  stats(): CtrlLivenessStats {
    return { controllers: this.#seen.size, ...this.#stats };
  }

  #onStatus(data: Uint8Array): void {
    const decoded = decode(data);
    if (decoded.kind !== 'notification' && decoded.kind !== 'request') return;
    const { method, params } = decoded.message;
    // The status subject also carries node events (ours and other nodes'): not for us.
    if (!isCtrlStatusMethod(method)) return;
    const parsed = parseCtrlStatus(params ?? {});
    if (!parsed.ok) {
      this.#rt.logger.warn({ method, message: parsed.message }, 'invalid controller status ignored');
      return;
    }
    const ctrl = parsed.status.ctrl_uuid;
    switch (method) {
      case CtrlStatusMethod.heartbeat:
        this.#seen.set(ctrl, this.#rt.clock.now());
        return;
      case CtrlStatusMethod.unregister:
        this.#seen.delete(ctrl);
        this.#stats.unregistered++;
        this.#rt.logger.info({ ctrl_uuid: ctrl }, 'controller unregistered: its channels are re-announced');
        this.#orphanAllOf(ctrl);
        return;
    }
  }

  #expire(): void {
    const deadline = this.#rt.clock.now() - this.#ownerTimeoutMs;
    for (const [ctrl, at] of this.#seen) {
      if (at > deadline) continue;
      this.#seen.delete(ctrl);
      this.#stats.expired++;
      this.#rt.logger.warn({ ctrl_uuid: ctrl }, 'controller silent: its channels are re-announced');
      this.#orphanAllOf(ctrl);
    }
  }

  #orphanAllOf(ctrl: string): void {
    for (const ch of [...this.#rt.channels.values()]) {
      if (ch.alive && ch.owner === ctrl) this.#orphan(ch);
    }
  }

  /**
   * Nobody owns the channel any more: its events go to its START subject, the next Accept/Answer takes
   * it (no 419), and the adopt timer hangs it up if nobody does.
   */
  #orphan(ch: Channel): void {
    const rt = this.#rt;
    ch.owner = undefined;
    rt.cancelTimer(ch, ch.takeoverTimer);
    ch.takeoverTimer = rt.addTimer(ch, this.#adoptMs, () => {
      rt.logger.info({ uuid: ch.uuid }, 'orphaned channel not taken over in time: hanging up');
      rt.hangup(ch, Cause.RecoveryOnTimerExpire);
    });
    this.#stats.orphaned++;
    rt.publish(this.#subjectOf(ch), 'Event.Channel', orphanEvent(rt, ch));
  }

  /** Inbound calls go where their START went (the queue group or a configured subject); legs to the queue group. */
  #subjectOf(ch: Channel): string {
    return ch.direction === 'inbound' ? ch.announceSubject : this.#rt.subjects.ctrl;
  }
}

/**
 * The full Event.Channel of the channel's current state (BRIDGE/UNBRIDGE included, which are otherwise
 * minimal on the wire) with `params.xcc_orphaned = "true"`. The channel's state is not changed.
 */
export function orphanEvent(rt: NodeRuntime, ch: Channel): Record<string, unknown> {
  const state = ch.state ?? (ch.direction === 'inbound' ? 'START' : 'CALLING');
  // why: 'ANSWERED' selects the full form without DESTROY fields; the real state is set right after.
  const ev = channelEvent(rt, ch, 'ANSWERED');
  ev.state = state;
  ev.params = { ...(ev.params as Record<string, string>), [ORPHANED_VARIABLE]: 'true' };
  return ev;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`ctrlLiveness.${name} must be a positive number`);
  return value;
}
