/**
 * Leg facts: what the engine knows about one FreeSWITCH channel, derived from *snapshot* headers
 * (every channel event repeats the caller profile, times and variables), so a lost CHANNEL_ANSWER or
 * CHANNEL_CREATE is recovered from any later event. Also the linking keys an event carries.
 */
import { type SwitchEvent, urlDecode } from '../input/index.js';
import { CompactSwitchEvent } from '../input/switch-event.js';
import { ROUTED_SELECTION } from './routed-headers.js';
import type { Micros } from '../story.js';

/** Facts about one leg, accumulated event by event. */
export interface LegFacts {
  uuid: string;
  direction?: 'inbound' | 'outbound';
  createdAt?: Micros;
  answeredAt?: Micros;
  endedAt?: Micros;
  cause?: string;
  cidNumber?: string;
  cidName?: string;
  username?: string;
  channelName?: string;
  /** Destination of the first caller profile seen (the number dialled, before dialplan transfers). */
  firstDestination?: string;
  firstDestinationIndex: number;
  /** Destination of the current caller profile. */
  destination?: string;
  destinationIndex: number;
  /** `variable_sip_to_user` / `variable_sip_req_user`: the dialled number, immune to dialplan transfers. */
  dialled?: string;
  rdnis?: string;
  profileIndex: number;
  /** `Channel-Call-UUID` / `variable_call_uuid`. */
  callUuid?: string;
  /** The leg that originated this one (B-leg → A-leg). */
  originator?: string;
  /** `variable_cc_side` (`member` / `agent`). */
  ccSide?: string;
  ccQueue?: string;
  ccAgent?: string;
  fifoRole?: string;
  endpointDisposition?: string;
  /** `variable_sip_refer_to` was set: this leg sent a REFER (transferred its partner). */
  referred: boolean;
  /** `variable_sip_call_id`: the SIP dialog of the leg (what a REFER's Replaces names). */
  sipCallId?: string;
  /**
   * The SIP Call-ID in the `Replaces` of this leg's REFER (`variable_sip_refer_to`, or
   * `variable_sip_replaces`): an attended transfer by the phone; that dialog's leg is the consultation.
   */
  replaces?: string;
  held: boolean;
  /** Timestamp of the first and last event seen for this leg. */
  firstTs?: Micros;
  lastTs?: Micros;
  /**
   * The last raw `Caller-Channel-Created-Time` / `Caller-Channel-Answered-Time` read and its value:
   * every channel event repeats them, so an unchanged text is not parsed again (internal).
   */
  createdRaw?: string;
  createdRawAt?: Micros;
  answeredRaw?: string;
  answeredRawAt?: Micros;
}

/** A fresh leg record. */
export function newLeg(uuid: string): LegFacts {
  // Every field up front: one hidden class for all legs (fields kept in the object, fast access).
  return {
    uuid,
    direction: undefined,
    createdAt: undefined,
    answeredAt: undefined,
    endedAt: undefined,
    cause: undefined,
    cidNumber: undefined,
    cidName: undefined,
    username: undefined,
    channelName: undefined,
    firstDestination: undefined,
    firstDestinationIndex: 0,
    destination: undefined,
    destinationIndex: 0,
    dialled: undefined,
    rdnis: undefined,
    profileIndex: 0,
    callUuid: undefined,
    originator: undefined,
    ccSide: undefined,
    ccQueue: undefined,
    ccAgent: undefined,
    fifoRole: undefined,
    endpointDisposition: undefined,
    referred: false,
    sipCallId: undefined,
    replaces: undefined,
    held: false,
    firstTs: undefined,
    lastTs: undefined,
    createdRaw: undefined,
    createdRawAt: undefined,
    answeredRaw: undefined,
    answeredRawAt: undefined,
  };
}

/** Names of events after which a leg is over. */
export const END_EVENTS = new Set(['CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_DESTROY']);

/** A µs time header; undefined for absent, `0` (FreeSWITCH's "never") and junk. */
function micros(value: string | undefined): Micros | undefined {
  if (value === undefined || value.length === 0 || value.length > 17) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A plausible leg id: no whitespace, not absurdly long. */
export function isLegId(value: string | undefined): value is string {
  if (value === undefined || value.length === 0 || value.length > 128) return false;
  // A char loop for ASCII (what uuids are); the regex only for other characters.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) return false;
    if (c > 127) return !/\s/.test(value);
  }
  return true;
}

/** The first present, non-empty header among `names`. */
export function firstHeader(ev: SwitchEvent, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = ev.get(name);
    if (v !== undefined && v.length > 0) return v;
  }
  return undefined;
}

/** A header name with its slot in the router's selection (see {@link read}). */
interface Header {
  readonly name: string;
  readonly slot: number;
}

function header(name: string): Header {
  return { name, slot: ROUTED_SELECTION.slotOf(name) };
}

/**
 * `ev.get(header.name)`, straight from the slot for the router's compact events: a selection keeps
 * the slots of `ROUTED_SELECTION` (`with` only appends), so a name found at its slot is a direct
 * read instead of a name lookup (this file reads ~60 headers per event).
 */
function read(ev: SwitchEvent, header: Header): string | undefined {
  if (ev instanceof CompactSwitchEvent && ev.selection.names[header.slot] === header.name) {
    return ev.at(header.slot);
  }
  return ev.get(header.name);
}

const H_APPLICATION = header('Application');
const H_APPLICATION_DATA = header('Application-Data');
const H_BRIDGE_A_UNIQUE_ID = header('Bridge-A-Unique-ID');
const H_BRIDGE_B_UNIQUE_ID = header('Bridge-B-Unique-ID');
const H_CC_MEMBER_SESSION_UUID = header('CC-Member-Session-UUID');
const H_CALL_DIRECTION = header('Call-Direction');
const H_CALLER_CALLER_ID_NAME = header('Caller-Caller-ID-Name');
const H_CALLER_CALLER_ID_NUMBER = header('Caller-Caller-ID-Number');
const H_CALLER_CHANNEL_ANSWERED_TIME = header('Caller-Channel-Answered-Time');
const H_CALLER_CHANNEL_CREATED_TIME = header('Caller-Channel-Created-Time');
const H_CALLER_CHANNEL_HANGUP_TIME = header('Caller-Channel-Hangup-Time');
const H_CALLER_CHANNEL_NAME = header('Caller-Channel-Name');
const H_CALLER_DESTINATION_NUMBER = header('Caller-Destination-Number');
const H_CALLER_DIRECTION = header('Caller-Direction');
const H_CALLER_PROFILE_INDEX = header('Caller-Profile-Index');
const H_CALLER_RDNIS = header('Caller-RDNIS');
const H_CALLER_TRANSFER_SOURCE = header('Caller-Transfer-Source');
const H_CALLER_USERNAME = header('Caller-Username');
const H_CHANNEL_CALL_STATE = header('Channel-Call-State');
const H_CHANNEL_CALL_UUID = header('Channel-Call-UUID');
const H_CHANNEL_NAME = header('Channel-Name');
const H_HANGUP_CAUSE = header('Hangup-Cause');
const H_OTHER_LEG_UNIQUE_ID = header('Other-Leg-Unique-ID');
const H_OTHER_TYPE = header('Other-Type');
const H_UUID = header('uuid');
const H_VARIABLE_ANSWER_UEPOCH = header('variable_answer_uepoch');
const H_VARIABLE_BRIDGE_UUID = header('variable_bridge_uuid');
const H_VARIABLE_CALL_UUID = header('variable_call_uuid');
const H_VARIABLE_CC_AGENT = header('variable_cc_agent');
const H_VARIABLE_CC_MEMBER_SESSION_UUID = header('variable_cc_member_session_uuid');
const H_VARIABLE_CC_QUEUE = header('variable_cc_queue');
const H_VARIABLE_CC_SIDE = header('variable_cc_side');
const H_VARIABLE_ENDPOINT_DISPOSITION = header('variable_endpoint_disposition');
const H_VARIABLE_FIFO_ROLE = header('variable_fifo_role');
const H_VARIABLE_HANGUP_CAUSE = header('variable_hangup_cause');
const H_VARIABLE_INTERCEPTED_BY = header('variable_intercepted_by');
const H_VARIABLE_LAST_BRIDGE_TO = header('variable_last_bridge_to');
const H_VARIABLE_ORIGINATING_LEG_UUID = header('variable_originating_leg_uuid');
const H_VARIABLE_PICKED_UP_UUID = header('variable_picked_up_uuid');
const H_VARIABLE_SIGNAL_BOND = header('variable_signal_bond');
const H_VARIABLE_SIP_CALL_ID = header('variable_sip_call_id');
const H_VARIABLE_SIP_REFER_TO = header('variable_sip_refer_to');
const H_VARIABLE_SIP_REPLACES = header('variable_sip_replaces');
const H_VARIABLE_SIP_REQ_USER = header('variable_sip_req_user');
const H_VARIABLE_SIP_TO_USER = header('variable_sip_to_user');
const H_VARIABLE_TRANSFER_HISTORY = header('variable_transfer_history');

/** {@link firstHeader} of two names, without the rest-argument array (hot path). */
function first2(ev: SwitchEvent, a: Header, b: Header): string | undefined {
  const v = read(ev, a);
  if (v !== undefined && v.length > 0) return v;
  const w = read(ev, b);
  return w !== undefined && w.length > 0 ? w : undefined;
}

/**
 * Folds one event about `leg` into its facts. Order-tolerant: times take the earliest/latest
 * sensible value, identity fields keep the first non-empty value.
 */
export function applyToLeg(leg: LegFacts, ev: SwitchEvent, ts: Micros): void {
  if (leg.firstTs === undefined || ts < leg.firstTs) leg.firstTs = ts;
  if (leg.lastTs === undefined || ts > leg.lastTs) leg.lastTs = ts;
  const name = ev.name;
  // CUSTOM events (callcenter, fifo, conference, vm, spandsp) and DTMF/CALLSTATE carry little or
  // foreign data: only channel events are trusted for the caller profile.
  const channelEvent = name.startsWith('CHANNEL_');
  if (channelEvent) {
    // Fields that keep their first value are read only while unset (channel events repeat them).
    if (leg.direction === undefined) {
      const dir = first2(ev, H_CALL_DIRECTION, H_CALLER_DIRECTION);
      if (dir === 'inbound' || dir === 'outbound') leg.direction = dir;
    }
    const rawCreated = read(ev, H_CALLER_CHANNEL_CREATED_TIME);
    let created = leg.createdRawAt;
    if (rawCreated !== leg.createdRaw) {
      created = micros(rawCreated);
      leg.createdRaw = rawCreated;
      leg.createdRawAt = created;
    }
    if (created !== undefined) leg.createdAt = Math.min(leg.createdAt ?? created, created);
    else if (name === 'CHANNEL_CREATE') leg.createdAt = Math.min(leg.createdAt ?? ts, ts);
    const rawAnswered = read(ev, H_CALLER_CHANNEL_ANSWERED_TIME);
    let answeredAt = leg.answeredRawAt;
    if (rawAnswered !== leg.answeredRaw) {
      answeredAt = micros(rawAnswered);
      leg.answeredRaw = rawAnswered;
      leg.answeredRawAt = answeredAt;
    }
    const answered = answeredAt ?? micros(read(ev, H_VARIABLE_ANSWER_UEPOCH));
    if (answered !== undefined) leg.answeredAt = Math.min(leg.answeredAt ?? answered, answered);
    else if (name === 'CHANNEL_ANSWER') leg.answeredAt = Math.min(leg.answeredAt ?? ts, ts);
    if (END_EVENTS.has(name)) {
      const hung = micros(read(ev, H_CALLER_CHANNEL_HANGUP_TIME)) ?? ts;
      leg.endedAt = Math.min(leg.endedAt ?? hung, hung);
      if (leg.cause === undefined) leg.cause = first2(ev, H_HANGUP_CAUSE, H_VARIABLE_HANGUP_CAUSE);
    }
    const rawIndex = Number(read(ev, H_CALLER_PROFILE_INDEX) ?? '1');
    const index = Number.isInteger(rawIndex) && rawIndex > 0 ? rawIndex : 1;
    const destination = nonEmpty(read(ev, H_CALLER_DESTINATION_NUMBER));
    if (destination !== undefined) {
      if (leg.firstDestination === undefined || index < leg.firstDestinationIndex) {
        leg.firstDestination = destination;
        leg.firstDestinationIndex = index;
      }
      if (index >= leg.destinationIndex) {
        leg.destination = destination;
        leg.destinationIndex = index;
      }
    }
    if (index > leg.profileIndex) leg.profileIndex = index;
    leg.cidNumber ??= nonEmpty(read(ev, H_CALLER_CALLER_ID_NUMBER));
    leg.cidName ??= nonEmpty(read(ev, H_CALLER_CALLER_ID_NAME));
    leg.username ??= nonEmpty(read(ev, H_CALLER_USERNAME));
    leg.channelName ??= first2(ev, H_CHANNEL_NAME, H_CALLER_CHANNEL_NAME);
    leg.rdnis ??= nonEmpty(read(ev, H_CALLER_RDNIS));
    leg.dialled ??= first2(ev, H_VARIABLE_SIP_TO_USER, H_VARIABLE_SIP_REQ_USER);
    if (leg.callUuid === undefined) {
      const callUuid = first2(ev, H_CHANNEL_CALL_UUID, H_VARIABLE_CALL_UUID);
      if (isLegId(callUuid)) leg.callUuid = callUuid;
    }
    if (leg.originator === undefined) {
      const originator =
        nonEmpty(read(ev, H_VARIABLE_ORIGINATING_LEG_UUID)) ??
        (read(ev, H_OTHER_TYPE) === 'originator' ? read(ev, H_OTHER_LEG_UNIQUE_ID) : undefined);
      if (isLegId(originator) && originator !== leg.uuid) leg.originator = originator;
    }
    leg.endpointDisposition ??= nonEmpty(read(ev, H_VARIABLE_ENDPOINT_DISPOSITION));
    const referTo = nonEmpty(read(ev, H_VARIABLE_SIP_REFER_TO));
    if (referTo !== undefined) leg.referred = true;
    leg.sipCallId ??= nonEmpty(read(ev, H_VARIABLE_SIP_CALL_ID));
    leg.replaces ??= replacedCallId(referTo) ?? callIdOfReplaces(read(ev, H_VARIABLE_SIP_REPLACES));
  }
  leg.ccSide ??= nonEmpty(read(ev, H_VARIABLE_CC_SIDE));
  leg.ccQueue ??= nonEmpty(read(ev, H_VARIABLE_CC_QUEUE));
  leg.ccAgent ??= nonEmpty(read(ev, H_VARIABLE_CC_AGENT));
  leg.fifoRole ??= nonEmpty(read(ev, H_VARIABLE_FIFO_ROLE));
  if (name === 'CHANNEL_HOLD') leg.held = true;
  else if (name === 'CHANNEL_UNHOLD') leg.held = false;
  else if (name === 'CHANNEL_CALLSTATE') {
    const state = read(ev, H_CHANNEL_CALL_STATE);
    if (state === 'HELD') leg.held = true;
    else if (state === 'ACTIVE') leg.held = false;
  }
}

/**
 * The Call-ID of the dialog a REFER replaces: the `Replaces` header parameter of its Refer-To URI,
 * `<sip:1003@pbx?Replaces=a84b%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>` → `a84b@host` (escaped or not).
 */
export function replacedCallId(referTo: string | undefined): string | undefined {
  if (referTo === undefined) return undefined;
  const at = referTo.search(/[?&]replaces=/i);
  if (at === -1) return undefined;
  const start = referTo.indexOf('=', at) + 1;
  let end = referTo.length;
  for (const stop of ['&', '>']) {
    const i = referTo.indexOf(stop, start);
    if (i !== -1 && i < end) end = i;
  }
  return callIdOfReplaces(urlDecode(referTo.slice(start, end)));
}

/** The Call-ID of a Replaces value `call-id;to-tag=…;from-tag=…`. */
function callIdOfReplaces(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const id = value.split(';')[0]!.trim();
  return id.length > 0 && id.length <= 256 ? id : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.length === 0 ? undefined : value;
}

/** How two legs are related by an event. */
export type LinkKind =
  | 'call_uuid'
  | 'originator'
  | 'other_leg'
  | 'bridge'
  | 'signal_bond'
  | 'uuid_bridge'
  | 'cc_member'
  | 'intercept';

/** Link kinds that mean the two legs were bridged. */
const BRIDGING: ReadonlySet<LinkKind> = new Set<LinkKind>(['bridge', 'uuid_bridge', 'intercept']);

/** A link an event states between its leg (or `from`) and another leg. */
export interface Link {
  from: string;
  to: string;
  kind: LinkKind;
}

/**
 * Adds the `…:uuid_br:<uuid>` entries of a transfer history (`ARRAY::a|:b` or a single entry) as
 * `uuid_bridge` links from `from` (a valid leg id).
 */
function addUuidBridgeTargets(out: LinkList, from: string, history: string | undefined): void {
  if (history === undefined) return;
  if (!history.startsWith('ARRAY::')) {
    const at = history.indexOf(':uuid_br:');
    if (at >= 0) addLink(out, from, history.slice(at + 9), 'uuid_bridge', true);
    return;
  }
  for (const entry of history.slice(7).split('|:')) {
    const at = entry.indexOf(':uuid_br:');
    if (at >= 0) addLink(out, from, entry.slice(at + 9), 'uuid_bridge', true);
  }
}

/**
 * Links as a flat list `[from, to, kind, from, to, kind, …]`: the router reuses one such list for
 * every event (no link object per link).
 */
export type LinkList = string[];

/**
 * Adds one link to `out` unless invalid, a self-link, or the pair is already there. `fromValid`:
 * `from` was checked with `isLegId` already (the event's own leg).
 */
function addLink(
  out: LinkList,
  from: string | undefined,
  to: string | undefined,
  kind: LinkKind,
  fromValid = false,
): void {
  if (from === undefined || to === undefined || from === to) return;
  // One link per pair: channel events name the same partner in several headers (other leg,
  // signal bond, last bridge to). A bridging kind wins, since it marks both legs as bridged.
  for (let i = 0; i < out.length; i += 3) {
    if (out[i] === from && out[i + 1] === to) {
      if (BRIDGING.has(kind) && !BRIDGING.has(out[i + 2] as LinkKind)) out[i + 2] = kind;
      return;
    }
  }
  if ((fromValid || isLegId(from)) && isLegId(to)) out.push(from, to, kind);
}

/**
 * Every leg-to-leg link an event states (ids validated; self-links dropped), into `out` (cleared
 * first) as a flat {@link LinkList}. What {@link linksOf} returns as objects.
 */
export function collectLinks(ev: SwitchEvent, uuid: string | undefined, out: LinkList): void {
  out.length = 0;
  addLink(out, read(ev, H_BRIDGE_A_UNIQUE_ID), read(ev, H_BRIDGE_B_UNIQUE_ID), 'bridge');
  // The links below all start at the event's own leg: without a valid one, none would be kept.
  if (!isLegId(uuid)) return;
  addLink(out, uuid, read(ev, H_CC_MEMBER_SESSION_UUID), 'cc_member', true);
  addLink(out, uuid, first2(ev, H_CHANNEL_CALL_UUID, H_VARIABLE_CALL_UUID), 'call_uuid', true);
  addLink(out, uuid, read(ev, H_VARIABLE_ORIGINATING_LEG_UUID), 'originator', true);
  addLink(out, uuid, read(ev, H_OTHER_LEG_UNIQUE_ID), 'other_leg', true);
  addLink(out, uuid, read(ev, H_VARIABLE_SIGNAL_BOND), 'signal_bond', true);
  addLink(out, uuid, read(ev, H_VARIABLE_LAST_BRIDGE_TO), 'signal_bond', true);
  addLink(out, uuid, read(ev, H_VARIABLE_BRIDGE_UUID), 'signal_bond', true);
  addLink(out, uuid, read(ev, H_VARIABLE_CC_MEMBER_SESSION_UUID), 'cc_member', true);
  addUuidBridgeTargets(out, uuid, read(ev, H_VARIABLE_TRANSFER_HISTORY));
  addUuidBridgeTargets(out, uuid, read(ev, H_CALLER_TRANSFER_SOURCE));
  addLink(out, uuid, read(ev, H_VARIABLE_INTERCEPTED_BY), 'intercept', true);
  addLink(out, uuid, read(ev, H_VARIABLE_PICKED_UP_UUID), 'intercept', true);
  if (ev.name === 'CHANNEL_EXECUTE') {
    const app = read(ev, H_APPLICATION);
    if (app === 'intercept' || app === 'uuid_bridge') {
      addLink(out, uuid, read(ev, H_APPLICATION_DATA)?.trim().split(/\s+/)[0], 'intercept', true);
    }
  }
}

/** Every leg-to-leg link an event states (ids validated; self-links dropped). */
export function linksOf(ev: SwitchEvent, uuid: string | undefined): Link[] {
  const flat: LinkList = [];
  collectLinks(ev, uuid, flat);
  const links: Link[] = [];
  for (let i = 0; i < flat.length; i += 3) {
    links.push({ from: flat[i]!, to: flat[i + 1]!, kind: flat[i + 2] as LinkKind });
  }
  return links;
}

/** The leg an event is about: `Unique-ID`, or the lower-case `uuid` of spandsp events. */
export function legIdOf(ev: SwitchEvent): string | undefined {
  const id = ev.uuid ?? read(ev, H_UUID);
  return isLegId(id) ? id : undefined;
}
