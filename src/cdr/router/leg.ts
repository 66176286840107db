/**
 * Leg facts: what the engine knows about one FreeSWITCH channel, derived from *snapshot* headers
 * (every channel event repeats the caller profile, times and variables), so a lost CHANNEL_ANSWER or
 * CHANNEL_CREATE is recovered from any later event. Also the linking keys an event carries.
 */
import type { SwitchEvent } from '../input/index.js';
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
  held: boolean;
  /** Timestamp of the first and last event seen for this leg. */
  firstTs?: Micros;
  lastTs?: Micros;
}

/** A fresh leg record. */
export function newLeg(uuid: string): LegFacts {
  return {
    uuid,
    profileIndex: 0,
    firstDestinationIndex: 0,
    destinationIndex: 0,
    referred: false,
    held: false,
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
  return value !== undefined && value.length > 0 && value.length <= 128 && !/\s/.test(value);
}

/** The first present, non-empty header among `names`. */
export function firstHeader(ev: SwitchEvent, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = ev.get(name);
    if (v !== undefined && v.length > 0) return v;
  }
  return undefined;
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
    const dir = firstHeader(ev, 'Call-Direction', 'Caller-Direction');
    if (leg.direction === undefined && (dir === 'inbound' || dir === 'outbound')) leg.direction = dir;
    const created = micros(ev.get('Caller-Channel-Created-Time'));
    if (created !== undefined) leg.createdAt = Math.min(leg.createdAt ?? created, created);
    else if (name === 'CHANNEL_CREATE') leg.createdAt = Math.min(leg.createdAt ?? ts, ts);
    const answered =
      micros(ev.get('Caller-Channel-Answered-Time')) ?? micros(ev.get('variable_answer_uepoch'));
    if (answered !== undefined) leg.answeredAt = Math.min(leg.answeredAt ?? answered, answered);
    else if (name === 'CHANNEL_ANSWER') leg.answeredAt = Math.min(leg.answeredAt ?? ts, ts);
    if (END_EVENTS.has(name)) {
      const hung = micros(ev.get('Caller-Channel-Hangup-Time')) ?? ts;
      leg.endedAt = Math.min(leg.endedAt ?? hung, hung);
      const cause = firstHeader(ev, 'Hangup-Cause', 'variable_hangup_cause');
      if (cause !== undefined && leg.cause === undefined) leg.cause = cause;
    }
    const rawIndex = Number(ev.get('Caller-Profile-Index') ?? '1');
    const index = Number.isInteger(rawIndex) && rawIndex > 0 ? rawIndex : 1;
    const destination = nonEmpty(ev.get('Caller-Destination-Number'));
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
    leg.cidNumber ??= nonEmpty(ev.get('Caller-Caller-ID-Number'));
    leg.cidName ??= nonEmpty(ev.get('Caller-Caller-ID-Name'));
    leg.username ??= nonEmpty(ev.get('Caller-Username'));
    leg.channelName ??= nonEmpty(firstHeader(ev, 'Channel-Name', 'Caller-Channel-Name'));
    leg.rdnis ??= nonEmpty(ev.get('Caller-RDNIS'));
    leg.dialled ??= nonEmpty(firstHeader(ev, 'variable_sip_to_user', 'variable_sip_req_user'));
    const callUuid = firstHeader(ev, 'Channel-Call-UUID', 'variable_call_uuid');
    if (isLegId(callUuid)) leg.callUuid ??= callUuid;
    const originator =
      firstHeader(ev, 'variable_originating_leg_uuid') ??
      (ev.get('Other-Type') === 'originator' ? ev.get('Other-Leg-Unique-ID') : undefined);
    if (isLegId(originator) && originator !== leg.uuid) leg.originator ??= originator;
    leg.endpointDisposition ??= nonEmpty(ev.get('variable_endpoint_disposition'));
    if (nonEmpty(ev.get('variable_sip_refer_to')) !== undefined) leg.referred = true;
  }
  leg.ccSide ??= nonEmpty(ev.get('variable_cc_side'));
  leg.ccQueue ??= nonEmpty(ev.get('variable_cc_queue'));
  leg.ccAgent ??= nonEmpty(ev.get('variable_cc_agent'));
  leg.fifoRole ??= nonEmpty(ev.get('variable_fifo_role'));
  if (name === 'CHANNEL_HOLD') leg.held = true;
  else if (name === 'CHANNEL_UNHOLD') leg.held = false;
  else if (name === 'CHANNEL_CALLSTATE') {
    const state = ev.get('Channel-Call-State');
    if (state === 'HELD') leg.held = true;
    else if (state === 'ACTIVE') leg.held = false;
  }
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

/** A link an event states between its leg (or `from`) and another leg. */
export interface Link {
  from: string;
  to: string;
  kind: LinkKind;
}

/** `…:uuid_br:<uuid>` entries of a transfer history (`ARRAY::a|:b` or a single entry). */
function uuidBridgeTargets(history: string | undefined): string[] {
  if (history === undefined) return [];
  const out: string[] = [];
  const entries = history.startsWith('ARRAY::') ? history.slice(7).split('|:') : [history];
  for (const entry of entries) {
    const at = entry.indexOf(':uuid_br:');
    if (at >= 0) out.push(entry.slice(at + 9));
  }
  return out;
}

/** Every leg-to-leg link an event states (ids validated; self-links dropped). */
export function linksOf(ev: SwitchEvent, uuid: string | undefined): Link[] {
  const links: Link[] = [];
  const add = (from: string | undefined, to: string | undefined, kind: LinkKind): void => {
    if (isLegId(from) && isLegId(to) && from !== to) links.push({ from, to, kind });
  };
  const a = ev.get('Bridge-A-Unique-ID');
  const b = ev.get('Bridge-B-Unique-ID');
  add(a, b, 'bridge');
  add(uuid, ev.get('CC-Member-Session-UUID'), 'cc_member');
  if (uuid === undefined) return links;
  add(uuid, firstHeader(ev, 'Channel-Call-UUID', 'variable_call_uuid'), 'call_uuid');
  add(uuid, ev.get('variable_originating_leg_uuid'), 'originator');
  add(uuid, ev.get('Other-Leg-Unique-ID'), 'other_leg');
  add(uuid, ev.get('variable_signal_bond'), 'signal_bond');
  add(uuid, ev.get('variable_last_bridge_to'), 'signal_bond');
  add(uuid, ev.get('variable_bridge_uuid'), 'signal_bond');
  add(uuid, ev.get('variable_cc_member_session_uuid'), 'cc_member');
  for (const target of uuidBridgeTargets(ev.get('variable_transfer_history')))
    add(uuid, target, 'uuid_bridge');
  for (const target of uuidBridgeTargets(ev.get('Caller-Transfer-Source'))) add(uuid, target, 'uuid_bridge');
  add(uuid, ev.get('variable_intercepted_by'), 'intercept');
  add(uuid, ev.get('variable_picked_up_uuid'), 'intercept');
  if (ev.name === 'CHANNEL_EXECUTE') {
    const app = ev.get('Application');
    if (app === 'intercept' || app === 'uuid_bridge') {
      add(uuid, ev.get('Application-Data')?.trim().split(/\s+/)[0], 'intercept');
    }
  }
  return links;
}

/** The leg an event is about: `Unique-ID`, or the lower-case `uuid` of spandsp events. */
export function legIdOf(ev: SwitchEvent): string | undefined {
  const id = ev.uuid ?? ev.get('uuid');
  return isLegId(id) ? id : undefined;
}
