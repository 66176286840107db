/**
 * The node's call runtime: the channel registry and every state transition that emits events —
 * creation (START/CALLING), answer, bridge/unbridge with flow control, conference leave, far-end events,
 * and the one hangup path (running APIs answer 410, CDR, then DESTROY, every timer and media session
 * released). Method handlers (call-control.ts, media-api.ts, bridge.ts, …) act through this class.
 */
import type { Bus } from '../bus/bus.js';
import type { Clock, Timer } from '../clock/clock.js';
import { Code } from '../protocol/codes.js';
import { encode, request } from '../protocol/envelope.js';
import type { Logger } from '../protocol/logger.js';
import type { ChannelState } from '../protocol/states.js';
import type { Subjects } from '../protocol/subjects.js';
import type { ResultObject, RpcContext } from '../rpc/types.js';
import {
  type BackgroundRecording,
  type BridgeEnd,
  type BridgeLink,
  Channel,
  type ChannelInit,
  type FlowControl,
} from './channel.js';
import { ConferenceRooms } from './conference-rooms.js';
import { cdrEvent, channelEvent, type NodeIdentity } from './event-payloads.js';
import type { CallerStep, FarEndEvent, MediaBackend } from './media.js';
import { type Params, str } from './params.js';
import { Interrupted, NO_SESSION, result } from './results.js';

export interface RuntimeOptions {
  nodeUuid: string;
  nodeIp: string;
  bus: Bus;
  clock: Clock;
  media: MediaBackend;
  subjects: Subjects;
  logger: Logger;
  /** Statically subscribed variables (xcc.conf), merged into every channel's subscription. */
  channelParams: readonly string[];
  newUuid: () => string;
}

const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;

export class NodeRuntime implements NodeIdentity {
  readonly nodeUuid: string;
  readonly nodeIp: string;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly media: MediaBackend;
  readonly subjects: Subjects;
  readonly logger: Logger;
  readonly channelParams: readonly string[];
  readonly newUuid: () => string;
  readonly channels = new Map<string, Channel>();
  /** Uuids promised to legs a running Dial/Bridge will create (duplicate detection). */
  readonly reserved = new Set<string>();
  readonly rooms: ConferenceRooms;
  /** Background work (async Dial, Broadcast, Record START, late leg progress) awaited by stop(). */
  readonly #tasks = new Set<Promise<void>>();
  /** The controller uuid of the last request (see `ctrlOf`). */
  #lastCtrl: string | undefined;
  sessionsSinceStartup = 0;
  sessionPeak = 0;
  /** Called after each DESTROY (graceful shutdown waits for the last one). */
  onChannelGone: (() => void) | undefined;

  constructor(options: RuntimeOptions) {
    this.nodeUuid = options.nodeUuid;
    this.nodeIp = options.nodeIp;
    this.bus = options.bus;
    this.clock = options.clock;
    this.media = options.media;
    this.subjects = options.subjects;
    this.logger = options.logger;
    this.channelParams = options.channelParams;
    this.newUuid = options.newUuid;
    this.rooms = new ConferenceRooms(options.newUuid);
  }

  get taskCount(): number {
    return this.#tasks.size;
  }

  // ---- events -------------------------------------------------------------------------------

  /** Publishes a JSON-RPC notification. A bus failure is logged: it must never break a call. */
  publish(subject: string, method: string, params: Record<string, unknown>): void {
    try {
      this.bus.publish(subject, encode(request(method, params)));
    } catch (err) {
      this.logger.warn({ err, subject, method }, 'event publish failed');
    }
  }

  /** Where a channel's events go: its owner's subject, or the START subject while nobody owns it. */
  eventSubject(ch: Channel): string {
    return ch.owner === undefined ? ch.announceSubject : this.subjects.ctrlOf(ch.owner);
  }

  emitChannel(ch: Channel, state: ChannelState): void {
    ch.state = state;
    this.publish(this.eventSubject(ch), 'Event.Channel', channelEvent(this, ch, state));
  }

  emitTo(ch: Channel, method: string, params: Record<string, unknown>): void {
    this.publish(this.eventSubject(ch), method, { node_uuid: this.nodeUuid, uuid: ch.uuid, ...params });
  }

  // ---- channels -----------------------------------------------------------------------------

  /** True when `uuid` names a live channel or one a running Dial/Bridge is about to create. */
  uuidTaken(uuid: string): boolean {
    return this.channels.has(uuid) || this.reserved.has(uuid);
  }

  /** Registers a new channel (no event yet) with the static subscription. */
  createChannel(init: ChannelInit): Channel {
    const ch = new Channel(init);
    ch.subscribe(this.channelParams);
    this.channels.set(ch.uuid, ch);
    this.sessionsSinceStartup++;
    this.sessionPeak = Math.max(this.sessionPeak, this.channels.size);
    return ch;
  }

  /**
   * Opens the channel's media. Far-end events that arrive before `live()` is called (a script that
   * hangs up at once) are held back so they never overtake the channel's first event.
   */
  openMedia(ch: Channel, script: CallerStep[] | undefined): { live(): void } {
    // Created only when something arrives early (rare): the callback's context lives as long as the call.
    let held: FarEndEvent[] | undefined;
    let isLive = false;
    ch.media = this.media.open({ uuid: ch.uuid, direction: ch.direction, script }, (ev) => {
      if (isLive) this.onFarEnd(ch, ev);
      else {
        held ??= [];
        held.push(ev);
      }
    });
    return {
      live: () => {
        isLive = true;
        const early = held ?? [];
        held = undefined;
        for (const ev of early) this.onFarEnd(ch, ev);
      },
    };
  }

  /** What the far end did: DTMF goes to the owner as Event.DTMF, a hangup ends the channel. */
  onFarEnd(ch: Channel, ev: FarEndEvent): void {
    if (!ch.alive) return;
    switch (ev.kind) {
      case 'dtmf':
        if (ch.owner !== undefined)
          this.emitTo(ch, 'Event.DTMF', { dtmf_digit: ev.digit, dtmf_duration: ev.durationMs });
        return;
      case 'speech':
        // The backend feeds a running DetectSpeech itself; nothing to emit here.
        return;
      case 'hangup':
        this.hangup(ch, ev.cause);
        return;
    }
  }

  /** A one-shot timer owned by the channel: cancelled with it, forgotten when it fires. */
  addTimer(ch: Channel, ms: number, fn: () => void): Timer {
    const timer = this.clock.setTimeout(() => {
      ch.forgetTimer(timer);
      fn();
    }, ms);
    ch.addTimer(timer);
    return timer;
  }

  cancelTimer(ch: Channel, timer: Timer | undefined): void {
    if (!timer) return;
    timer.cancel();
    ch.forgetTimer(timer);
  }

  /** Marks the channel answered and emits ANSWERED (no-op when already answered or gone). */
  answer(ch: Channel): void {
    if (!ch.alive || ch.answered) return;
    ch.answered = true;
    ch.answerAt = this.clock.now();
    this.emitChannel(ch, 'ANSWERED');
  }

  /**
   * The one way a channel ends: interrupt running APIs (they answer 410), send Event.Record STOP for
   * background recordings, unbridge (and hang up the peer when flow control says so), leave the
   * conference, release timers and media, publish Event.CDR, then DESTROY. Idempotent.
   */
  hangup(ch: Channel, cause: string): void {
    if (!ch.alive) return;
    ch.status = 'ending';
    ch.cause = cause;
    ch.hangupAt = this.clock.now();
    ch.cancelTimers();
    ch.endAttempt(cause);
    for (const rec of [...ch.recordings.values()]) this.stopRecording(ch, rec, 'hangup');
    // Unbridge before interrupting, so the Bridge handler learns *which* leg hung up, and flow control
    // is decided here, once.
    let peerToHangup: Channel | undefined;
    const link = ch.link;
    if (link) {
      const peer = link.caller === ch ? link.callee : link.caller;
      this.unbridge(link, { kind: 'hangup', leg: ch, cause });
      if (propagates(link.flowControl, link.caller === ch)) peerToHangup = peer;
    }
    this.leaveConference(ch);
    // why: an Error (with its stack) per hangup is only worth building when something will see it.
    if (ch.busy) ch.interruptAll(new Interrupted('hangup', `interrupted: channel hung up (${cause})`));
    ch.media?.close();
    this.publish(this.subjects.cdr, 'Event.CDR', cdrEvent(this, ch));
    this.emitChannel(ch, 'DESTROY');
    this.channels.delete(ch.uuid);
    ch.markGone();
    if (peerToHangup) this.hangup(peerToHangup, 'NORMAL_CLEARING');
    this.onChannelGone?.();
  }

  /** Forgets a channel that never got its first event (its media could not be opened). */
  discard(ch: Channel): void {
    ch.cancelTimers();
    ch.media?.close();
    this.channels.delete(ch.uuid);
    this.sessionsSinceStartup--;
    ch.markGone();
  }

  // ---- bridges ------------------------------------------------------------------------------

  /** Bridges two live, unbridged channels: BRIDGE on both legs (caller first). */
  bridge(caller: Channel, callee: Channel, flowControl: FlowControl): BridgeLink {
    let finish!: (end: BridgeEnd) => void;
    const done = new Promise<BridgeEnd>((resolve) => {
      finish = resolve;
    });
    const link: BridgeLink = { caller, callee, flowControl, ended: false, done, finish };
    caller.link = link;
    callee.link = link;
    caller.lastPeer = callee.uuid;
    callee.lastPeer = caller.uuid;
    this.emitChannel(caller, 'BRIDGE');
    this.emitChannel(callee, 'BRIDGE');
    return link;
  }

  /** Ends a bridge: UNBRIDGE on both legs, survivors stay parked. Idempotent. */
  unbridge(link: BridgeLink, end: BridgeEnd): void {
    if (link.ended) return;
    link.ended = true;
    link.caller.link = undefined;
    link.callee.link = undefined;
    if (link.caller.status !== 'gone') this.emitChannel(link.caller, 'UNBRIDGE');
    if (link.callee.status !== 'gone') this.emitChannel(link.callee, 'UNBRIDGE');
    link.finish(end);
  }

  // ---- conference and recordings ------------------------------------------------------------

  /** Removes the channel from its conference room and tells its owner (Event.Conference leave). */
  leaveConference(ch: Channel): void {
    const left = this.rooms.leave(ch);
    if (!left) return;
    this.emitTo(ch, 'Event.Conference', {
      name: left.room.name,
      action: 'leave',
      member_count: left.memberCount,
    });
  }

  /** Sends Event.Record STOP once and aborts the background recording. */
  stopRecording(ch: Channel, rec: BackgroundRecording, completionCause: string): void {
    if (!rec.stopped) {
      rec.stopped = true;
      this.emitTo(ch, 'Event.Record', { action: 'STOP', path: rec.path, completion_cause: completionCause });
    }
    ch.removeRecording(rec.path);
    rec.controller.abort(new Interrupted('stop', 'recording stopped'));
  }

  // ---- requests -----------------------------------------------------------------------------

  /**
   * The channel a channel API addresses, or the result to answer instead: 400 without `uuid`, 404 for
   * an unknown or ended channel (decision 7), 400 "accept first" while nobody has taken the channel over
   * (the first command on an inbound call must be Accept or Answer), and 419 when the request names a
   * `ctrl_uuid` other than the owner's: after a takeover the previous controller no longer drives the call.
   */
  channelFor(params: Params, options: { owned?: boolean } = {}): Channel | ResultObject {
    const uuid = str(params, 'uuid');
    if (uuid === undefined || uuid.length === 0) return this.bad('params.uuid: required');
    const ch = this.channels.get(uuid);
    if (!ch?.alive) return result(Code.NotFound, NO_SESSION, this.nodeUuid, uuid);
    if ((options.owned ?? true) && ch.owner === undefined) {
      return result(
        Code.BadRequest,
        'accept first: take the channel over with XNode.Accept or XNode.Answer',
        this.nodeUuid,
        uuid,
      );
    }
    const from = str(params, 'ctrl_uuid');
    if ((options.owned ?? true) && from !== undefined && from !== ch.owner) {
      return result(Code.Conflict, 'channel is controlled by another controller', this.nodeUuid, uuid);
    }
    return ch;
  }

  /** The requesting controller, checked to be usable as a subject token. */
  ctrlOf(ctx: RpcContext, params: Params): string | ResultObject {
    const ctrl = ctx.ctrlUuid ?? str(params, 'ctrl_uuid');
    if (ctrl === undefined || ctrl.length === 0) return this.bad('params.ctrl_uuid: required');
    if (!SUBJECT_TOKEN.test(ctrl))
      return this.bad('params.ctrl_uuid: must be one subject token ([A-Za-z0-9_-]+)');
    // why: every request carries its own copy of the (usually same) controller uuid, and a channel keeps
    // the one of its owner for its whole life; handing out the previous equal string saves a copy per call.
    if (ctrl === this.#lastCtrl) return this.#lastCtrl;
    this.#lastCtrl = ctrl;
    return ctrl;
  }

  bad(message: string, uuid?: string): ResultObject {
    return result(Code.BadRequest, message, this.nodeUuid, uuid);
  }

  /** Keeps a background promise for stop() to await; a rejection is logged, never unhandled. */
  track(task: Promise<unknown>): void {
    const p: Promise<void> = task.then(
      () => undefined,
      (err: unknown) => this.logger.error({ err }, 'background task failed'),
    );
    this.#tasks.add(p);
    void p.finally(() => this.#tasks.delete(p));
  }

  /** Resolves when every background task has settled (new ones started meanwhile included). */
  async settle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }
}

export function isResult(x: unknown): x is ResultObject {
  return !(x instanceof Channel) && typeof x === 'object' && x !== null && 'code' in x;
}

/** Whether the hangup of one bridged leg ends the other. */
function propagates(flow: FlowControl, hungUpIsCaller: boolean): boolean {
  switch (flow) {
    case 'NONE':
      return false;
    case 'ANY':
      return true;
    case 'CALLER':
      return hungUpIsCaller;
    case 'CALLEE':
      return !hungUpIsCaller;
  }
}
