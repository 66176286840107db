/**
 * One channel (call leg) on the node: identity, state flags, owner (the controller that took it over),
 * variables and subscriptions, media session, the APIs running on it, timers and bridge/conference
 * membership. Pure state plus small invariants; the runtime (runtime.ts) drives transitions and events.
 */
import type { Timer } from '../clock/clock.js';
import type { ChannelState, Direction } from '../protocol/states.js';
import type { MediaSession } from './media.js';
import { Interrupted } from './results.js';

/** Hangup propagation between bridged legs (reference §6 "Bridge flow_control semantics"). */
export type FlowControl = 'NONE' | 'CALLER' | 'CALLEE' | 'ANY';

/** Two bridged channels. Both legs point at the same link while it lasts. */
export interface BridgeLink {
  readonly caller: Channel;
  readonly callee: Channel;
  readonly flowControl: FlowControl;
  /** Set once UNBRIDGE was emitted; makes unbridging idempotent. */
  ended: boolean;
  /** Resolves when the bridge ends; the value says how. */
  readonly done: Promise<BridgeEnd>;
  finish(end: BridgeEnd): void;
}

/** How a bridge ended: which leg hung up (with its cause), an UnBridge, or an interrupt. */
export type BridgeEnd =
  | { kind: 'hangup'; leg: Channel; cause: string }
  | { kind: 'unbridge' }
  | { kind: 'interrupted'; reason: Interrupted };

/** A blocking API running on a channel; aborting `controller` makes its handler answer 410. */
export interface RunningOp {
  readonly method: string;
  readonly controller: AbortController;
}

/** A recording started with `Record{action:"START"}`, running in the background. */
export interface BackgroundRecording {
  readonly path: string;
  readonly controller: AbortController;
  /** Set when Event.Record STOP was already sent (STOP action or hangup), so it is sent once. */
  stopped: boolean;
}

export interface ChannelInit {
  uuid: string;
  direction: Direction;
  cidName: string;
  cidNumber: string;
  destNumber: string;
  domain: string;
  context: string;
  createdAt: number;
  owner?: string;
  announceSubject: string;
  dialString?: string;
}

/** Shared empty collections handed to readers of a channel that never filled one (never written to). */
const EMPTY_MAP: ReadonlyMap<never, never> = new Map<never, never>();
const EMPTY_SET: ReadonlySet<never> = new Set<never>();

export class Channel {
  readonly uuid: string;
  readonly direction: Direction;
  readonly cidName: string;
  readonly cidNumber: string;
  readonly destNumber: string;
  readonly domain: string;
  readonly context: string;
  readonly dialString: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
  ringAt: number | undefined;
  answerAt: number | undefined;
  hangupAt: number | undefined;
  /** Last state emitted in Event.Channel. */
  state: ChannelState | undefined;
  /** The controller that owns the channel (took it over, or created it). Events go to its subject. */
  owner: string | undefined;
  /** Where events go before anyone owns the channel (the START subject). */
  readonly announceSubject: string;
  answered = false;
  held = false;
  /** Media flows (early media or answered): set when MEDIA was emitted. */
  mediaUp = false;
  /** READY emitted (Dial legs) or the leg is usable. */
  ready = false;
  muted: { direction: string; level: number } | undefined;
  /** alive → ending (hangup in progress) → gone (DESTROY sent). */
  status: 'alive' | 'ending' | 'gone' = 'alive';
  cause: string | undefined;
  // The collections below are created on first use (most held calls never set a variable, record or
  // arm a timer): empty Maps/Sets were about 1 KB of hash tables per held call. Readers get a shared
  // empty one; writes go through the methods that create them.
  #variables: Map<string, string> | undefined;
  #subscribed: Set<string> | undefined;
  #recordings: Map<string, BackgroundRecording> | undefined;
  #timers: Set<Timer> | undefined;
  media: MediaSession | undefined;
  /** Play, Broadcast, Record(RECORD), ReadDTMF, ReadDigits, DetectSpeech: at most one at a time. */
  mediaOp: RunningOp | undefined;
  /** Bridge, ChannelBridge, Conference: at most one at a time. */
  controlOp: RunningOp | undefined;
  link: BridgeLink | undefined;
  /** Last peer this channel was bridged with (kept for the CDR after UNBRIDGE). */
  lastPeer: string | undefined;
  conference: string | undefined;
  /** The 10 s rule: hangs the inbound call up unless a controller takes it over first. */
  takeoverTimer: Timer | undefined;
  /** Created on first use: inbound legs never place an attempt. */
  #attempt: AbortController | undefined;
  #attemptEnd: { cause: string } | undefined;
  // Created on first access (nothing in the node waits for it; one promise less per held call).
  #gone: Promise<void> | undefined;
  #resolveGone: (() => void) | undefined;

  constructor(init: ChannelInit) {
    this.uuid = init.uuid;
    this.direction = init.direction;
    this.cidName = init.cidName;
    this.cidNumber = init.cidNumber;
    this.destNumber = init.destNumber;
    this.domain = init.domain;
    this.context = init.context;
    this.dialString = init.dialString;
    this.createdAt = init.createdAt;
    this.owner = init.owner;
    this.announceSubject = init.announceSubject;
  }

  /** Resolves after DESTROY was published. */
  get gone(): Promise<void> {
    this.#gone ??=
      this.status === 'gone'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#resolveGone = resolve;
          });
    return this.#gone;
  }

  /** Channel variables set on this leg (SetVar, Dial/inbound variables). */
  get variables(): ReadonlyMap<string, string> {
    return this.#variables ?? EMPTY_MAP;
  }

  setVariable(name: string, value: string): void {
    this.#variables ??= new Map();
    this.#variables.set(name, value);
  }

  /** Subscribed variable names (channel_params), in subscription order, de-duplicated. */
  get subscribed(): ReadonlySet<string> {
    return this.#subscribed ?? EMPTY_SET;
  }

  /** Background recordings (`Record{action:"START"}`) by path. */
  get recordings(): ReadonlyMap<string, BackgroundRecording> {
    return this.#recordings ?? EMPTY_MAP;
  }

  addRecording(rec: BackgroundRecording): void {
    this.#recordings ??= new Map();
    this.#recordings.set(rec.path, rec);
  }

  /** Forgets the recording at `path`. */
  removeRecording(path: string): void {
    this.#recordings?.delete(path);
    // Dropped when empty: a held call keeps no hash table for a recording long finished.
    if (this.#recordings?.size === 0) this.#recordings = undefined;
  }

  /** One-shot timers owned by the channel (see `Runtime.addTimer`): cancelled with it. */
  get timers(): ReadonlySet<Timer> {
    return this.#timers ?? EMPTY_SET;
  }

  addTimer(timer: Timer): void {
    this.#timers ??= new Set();
    this.#timers.add(timer);
  }

  /** Forgets `timer` (it fired or was cancelled). */
  forgetTimer(timer: Timer): void {
    this.#timers?.delete(timer);
    // Dropped when empty: the 10 s takeover timer of every inbound call would otherwise leave an empty
    // Set (with its hash table) behind for the whole call.
    if (this.#timers?.size === 0) this.#timers = undefined;
  }

  /** Cancels and forgets every timer of the channel. */
  cancelTimers(): void {
    if (this.#timers === undefined) return;
    const timers = this.#timers;
    this.#timers = undefined;
    for (const t of timers) t.cancel();
  }

  /** Aborts the outbound attempt (ringing) of this leg; its reason is the hangup cause. */
  get attempt(): AbortController {
    if (this.#attempt === undefined) {
      this.#attempt = new AbortController();
      if (this.#attemptEnd !== undefined) this.#attempt.abort(this.#attemptEnd.cause);
    }
    return this.#attempt;
  }

  /** Ends the outbound attempt (if any is ever asked for) with the hangup `cause`. */
  endAttempt(cause: string): void {
    this.#attemptEnd ??= { cause };
    this.#attempt?.abort(cause);
  }

  get alive(): boolean {
    return this.status === 'alive';
  }

  /** `a` for inbound legs, `b` for legs the node placed (Dial, Bridge). */
  get leg(): 'a' | 'b' {
    return this.direction === 'inbound' ? 'a' : 'b';
  }

  /** Merges variable names into the subscription (static + Accept/Answer/Dial/SetVar), de-duplicated. */
  subscribe(names: Iterable<string>): void {
    for (const n of names) {
      if (n.length === 0) continue;
      this.#subscribed ??= new Set();
      this.#subscribed.add(n);
    }
  }

  /**
   * Starts a blocking media API. A running one is interrupted first (it answers 410 "replaced"):
   * FreeSWITCH's break-then-play behaviour, so an IVR can always re-prompt without a Stop.
   */
  beginMediaOp(method: string): RunningOp {
    this.mediaOp?.controller.abort(new Interrupted('replaced', `interrupted: replaced by ${method}`));
    const op: RunningOp = { method, controller: new AbortController() };
    this.mediaOp = op;
    return op;
  }

  /** Starts a blocking control API (Bridge, ChannelBridge, Conference); the caller checked it is free. */
  beginControlOp(method: string): RunningOp {
    const op: RunningOp = { method, controller: new AbortController() };
    this.controlOp = op;
    return op;
  }

  /** Forgets `op` if it is still the current one. */
  endOp(op: RunningOp): void {
    if (this.mediaOp === op) this.mediaOp = undefined;
    if (this.controlOp === op) this.controlOp = undefined;
  }

  /** True while an API or a background recording runs (something `interruptAll` would abort). */
  get busy(): boolean {
    return this.mediaOp !== undefined || this.controlOp !== undefined || this.recordings.size > 0;
  }

  /** Aborts every running API and background recording with `reason`. */
  interruptAll(reason: Interrupted): void {
    this.mediaOp?.controller.abort(reason);
    this.controlOp?.controller.abort(reason);
    if (this.#recordings) for (const rec of this.#recordings.values()) rec.controller.abort(reason);
  }

  /** Variable lookup: set variables first, then built-in ones (caller_id_number, uuid…). */
  variable(name: string): string | undefined {
    const v = this.#variables?.get(name);
    if (v !== undefined) return v;
    switch (name) {
      case 'uuid':
        return this.uuid;
      case 'direction':
      case 'call_direction':
        return this.direction;
      case 'caller_id_name':
        return this.cidName;
      case 'caller_id_number':
        return this.cidNumber;
      case 'destination_number':
        return this.destNumber;
      case 'domain_name':
        return this.domain;
      case 'context':
        return this.context;
      case 'answered':
        return this.answered ? 'true' : 'false';
      default:
        return undefined;
    }
  }

  /** Called by the runtime once DESTROY is out. */
  markGone(): void {
    this.status = 'gone';
    this.#resolveGone?.();
  }
}
