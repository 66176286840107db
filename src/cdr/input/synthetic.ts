/**
 * Synthetic but realistic FreeSWITCH channel events (the header set of a FreeSWITCH 1.10
 * CHANNEL_* event with caller profile and a few channel variables, about 1.5 KB as an event-plain frame), for
 * tests and benchmarks. Deterministic: the same index gives the same event.
 */
import type { HeaderMap } from './encode.js';

const NAMES = [
  'CHANNEL_CREATE',
  'CHANNEL_PROGRESS',
  'CHANNEL_ANSWER',
  'CHANNEL_BRIDGE',
  'CHANNEL_CALLSTATE',
  'CHANNEL_UNBRIDGE',
  'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE',
] as const;

/** Options of {@link syntheticChannelEvent}. */
export interface SyntheticEventOptions {
  /** Event-Name (default: cycles through CHANNEL_CREATE … CHANNEL_HANGUP_COMPLETE by index). */
  name?: string;
  /** Microseconds since the epoch of event 0 (default 2026-01-01T00:00:00Z); each index adds 1 ms. */
  baseTimestampUs?: number;
}

/** A uuid-shaped id that is unique per `n`. */
export function syntheticUuid(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `5f03fa00-c803-428e-92cb-${hex}`;
}

/**
 * The `index`-th synthetic event: legs come in pairs (A inbound, B outbound), eight events per call.
 *
 * @example
 * const headers = syntheticChannelEvent(0); // CHANNEL_CREATE of call 0's A-leg
 */
export function syntheticChannelEvent(index: number, options: SyntheticEventOptions = {}): HeaderMap {
  const call = Math.floor(index / NAMES.length);
  const name = options.name ?? NAMES[index % NAMES.length] ?? 'CHANNEL_CREATE';
  const ts = (options.baseTimestampUs ?? Date.UTC(2026, 0, 1) * 1000) + index * 1000;
  const aLeg = syntheticUuid(call * 2);
  const bLeg = syntheticUuid(call * 2 + 1);
  const inbound = index % 2 === 0;
  const uuid = inbound ? aLeg : bLeg;
  const other = inbound ? bLeg : aLeg;
  const ext = String(8000 + (call % 1000));
  const date = new Date(ts / 1000);
  return {
    'Event-Name': name,
    'Core-UUID': 'f852daae-6da9-4979-8dc8-fa11651a7891',
    'FreeSWITCH-Hostname': 'fs1.example.net',
    'FreeSWITCH-IPv4': '10.0.0.5',
    'Event-Date-Local': date.toISOString().replace('T', ' ').slice(0, 19),
    'Event-Date-GMT': date.toUTCString(),
    'Event-Date-Timestamp': String(ts),
    'Event-Sequence': String(1000 + index),
    'Channel-State': 'CS_EXECUTE',
    'Channel-Call-State': 'ACTIVE',
    'Channel-Name': `sofia/internal/${ext}@sip.example.net`,
    'Unique-ID': uuid,
    'Call-Direction': inbound ? 'inbound' : 'outbound',
    'Channel-Presence-ID': `${ext}@sip.example.net`,
    'Channel-Call-UUID': aLeg,
    'Answer-State': 'answered',
    'Channel-Read-Codec-Name': 'PCMA',
    'Caller-Direction': inbound ? 'inbound' : 'outbound',
    'Caller-Username': ext,
    'Caller-Dialplan': 'XML',
    'Caller-Caller-ID-Name': 'Helmut Kuper',
    'Caller-Caller-ID-Number': `+4930${ext}`,
    'Caller-Destination-Number': '5000',
    'Caller-Unique-ID': uuid,
    'Caller-Source': 'mod_sofia',
    'Caller-Context': 'public',
    'Caller-Profile-Index': '1',
    'Caller-Channel-Created-Time': String(ts - 5_000_000),
    'Caller-Channel-Answered-Time': String(ts - 2_000_000),
    'Other-Type': inbound ? 'originatee' : 'originator',
    'Other-Leg-Unique-ID': other,
    'Other-Leg-Destination-Number': '5000',
    variable_sip_call_id: `a84b4c76e66710@192.0.2.10-${call}`,
    variable_call_uuid: aLeg,
    variable_signal_bond: other,
    variable_last_bridge_to: other,
    variable_hangup_cause: 'NORMAL_CLEARING',
    variable_cc_queue: 'support@default',
    variable_effective_caller_id_name: 'Müller & Söhne',
  };
}
