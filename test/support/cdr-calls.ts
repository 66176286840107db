/**
 * Switch events of one ordinary FreeSWITCH call, for the CDR CLI tests: +15551230000 (a customer)
 * calls extension 1001, who answers after 4 s; 60 s of talk, the callee hangs up first.
 */
import type { HeaderMap } from '../../src/cdr/index.js';

const S = 1_000_000;

/** Options of {@link answeredCallEvents}. */
export interface AnsweredCall {
  /** Caller (A) and callee (B) leg uuids. */
  a: string;
  b: string;
  /** Event time of the first event, µs. */
  base: number;
  /** `Core-UUID` of the switch. */
  core: string;
  /** `Event-Sequence` of the first event (the others follow it). Default 1. */
  firstSequence?: number;
}

/** CREATE of both legs, ANSWER of both, BRIDGE, then HANGUP_COMPLETE of B and A at 64 s. */
export function answeredCallEvents(call: AnsweredCall): HeaderMap[] {
  const { a: A, b: B, base, core } = call;
  const first = call.firstSequence ?? 1;
  const at = (s: number, seq: number, name: string, uuid: string, extra: HeaderMap): HeaderMap => ({
    'Event-Name': name,
    'Core-UUID': core,
    'Event-Sequence': String(first - 1 + seq),
    'Event-Date-Timestamp': String(base + s * S),
    'Unique-ID': uuid,
    ...extra,
  });
  const a = {
    'Call-Direction': 'inbound',
    'Caller-Caller-ID-Number': '+15551230000',
    'Caller-Destination-Number': '1001',
  };
  const b = { 'Call-Direction': 'outbound', 'Caller-Destination-Number': '1001', 'Channel-Call-UUID': A };
  const bridge = { 'Bridge-A-Unique-ID': A, 'Bridge-B-Unique-ID': B };
  return [
    at(0, 1, 'CHANNEL_CREATE', A, a),
    at(0.1, 2, 'CHANNEL_CREATE', B, b),
    at(4, 3, 'CHANNEL_ANSWER', B, b),
    at(4, 4, 'CHANNEL_ANSWER', A, a),
    at(4, 5, 'CHANNEL_BRIDGE', A, { ...a, ...bridge }),
    at(64, 6, 'CHANNEL_HANGUP_COMPLETE', B, { ...b, 'Hangup-Cause': 'NORMAL_CLEARING' }),
    at(64.1, 7, 'CHANNEL_HANGUP_COMPLETE', A, { ...a, 'Hangup-Cause': 'NORMAL_CLEARING' }),
  ];
}
