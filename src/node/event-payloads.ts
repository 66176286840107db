/**
 * Builds the params of the node's events from channel state: `Event.Channel` (full and the minimal
 * BRIDGE/UNBRIDGE form of reference §7.1) and `Event.CDR` (§7.2). Pure functions; no I/O.
 */
import type { ChannelState } from '../protocol/states.js';
import type { Channel } from './channel.js';

export interface NodeIdentity {
  nodeUuid: string;
  nodeIp: string;
}

const epoch = (ms: number | undefined): number => (ms === undefined ? 0 : Math.floor(ms / 1000));

/** Subscribed variables with their current values (strings); unset ones are left out. */
export function subscribedValues(ch: Channel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ch.subscribed) {
    const v = ch.variable(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** The full `Event.Channel` params for `state`. DESTROY adds cause, hangup_epoch, duration, billsec, billmsec. */
export function channelEvent(id: NodeIdentity, ch: Channel, state: ChannelState): Record<string, unknown> {
  if (state === 'BRIDGE' || state === 'UNBRIDGE') return bridgeEvent(id, ch, state);
  const params: Record<string, string> = {
    create_epoch: String(epoch(ch.createdAt)),
    ring_epoch: String(epoch(ch.ringAt)),
    ...subscribedValues(ch),
  };
  const ev: Record<string, unknown> = {
    node_uuid: id.nodeUuid,
    node_ip: id.nodeIp,
    uuid: ch.uuid,
    direction: ch.direction,
    state,
    cid_name: ch.cidName,
    cid_number: ch.cidNumber,
    dest_number: ch.destNumber,
    domain: ch.domain,
    context: ch.context,
    create_epoch: epoch(ch.createdAt),
    ring_epoch: epoch(ch.ringAt),
    answer_epoch: epoch(ch.answerAt),
    answered: ch.answered,
    held: ch.held,
    bridged: ch.link !== undefined,
    params,
  };
  if (ch.link) ev.peer_uuid = peerOf(ch)?.uuid;
  if (state === 'DESTROY') {
    const t = timing(ch);
    ev.cause = ch.cause ?? 'NORMAL_CLEARING';
    ev.hangup_epoch = epoch(ch.hangupAt);
    ev.duration = String(t.duration);
    ev.billsec = String(t.billsec);
    ev.billmsec = String(t.billmsec);
  }
  return ev;
}

/** BRIDGE/UNBRIDGE are minimal on the wire: `{node_uuid, uuid, peer_uuid, state, domain}`. */
function bridgeEvent(id: NodeIdentity, ch: Channel, state: 'BRIDGE' | 'UNBRIDGE'): Record<string, unknown> {
  return { node_uuid: id.nodeUuid, uuid: ch.uuid, peer_uuid: ch.lastPeer ?? '', state, domain: ch.domain };
}

function peerOf(ch: Channel): Channel | undefined {
  const link = ch.link;
  if (!link) return undefined;
  return link.caller === ch ? link.callee : link.caller;
}

/** Seconds of the whole call, and of the answered part (also in ms), as FreeSWITCH counts them. */
export function timing(ch: Channel): { duration: number; billsec: number; billmsec: number } {
  const end = ch.hangupAt ?? ch.createdAt;
  const billmsec = ch.answerAt === undefined ? 0 : Math.max(0, end - ch.answerAt);
  return {
    duration: Math.floor(Math.max(0, end - ch.createdAt) / 1000),
    billsec: Math.floor(billmsec / 1000),
    billmsec,
  };
}

/** FreeSWITCH's `start_stamp` format (`YYYY-MM-DD HH:MM:SS`), in UTC; "" for a missing time. */
export function stamp(ms: number | undefined): string {
  if (ms === undefined) return '';
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** `Event.CDR` params: `{uuid, node_uuid, node_ip, cdr:{…strings, + subscribed variables}}`. */
export function cdrEvent(id: NodeIdentity, ch: Channel): Record<string, unknown> {
  const t = timing(ch);
  const cdr: Record<string, string> = {
    ...subscribedValues(ch),
    caller_id_name: ch.cidName,
    caller_id_number: ch.cidNumber,
    destination_number: ch.destNumber,
    uuid: ch.uuid,
    start_stamp: stamp(ch.createdAt),
    answer_stamp: stamp(ch.answerAt),
    end_stamp: stamp(ch.hangupAt),
    duration: String(t.duration),
    billsec: String(t.billsec),
    billmsec: String(t.billmsec),
    hangup_cause: ch.cause ?? 'NORMAL_CLEARING',
    context: ch.context,
    direction: ch.direction,
    leg: ch.leg,
    peer_uuid: ch.lastPeer ?? '',
    xcc_domain: ch.domain,
  };
  return { uuid: ch.uuid, node_uuid: id.nodeUuid, node_ip: id.nodeIp, cdr };
}
