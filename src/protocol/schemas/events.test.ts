import { describe, expect, it } from 'vitest';
import { type EventName, events, isEvent } from './events.js';
import { validateEvent } from './validate.js';

const N = 'node-1';
const U = 'a-leg-uuid';

/** Events of the reference §8 wire walk-through and the other event kinds, with a bad twin each. */
const table: Record<
  EventName,
  { valid: Record<string, unknown>; bad: Record<string, unknown>; path: string }
> = {
  'Event.Channel': {
    // §8 step 1.
    valid: {
      state: 'START',
      direction: 'inbound',
      node_uuid: N,
      uuid: U,
      cid_name: 'Alice',
      cid_number: '1000',
      dest_number: '9196',
      domain: 'xswitch.cn',
      context: 'default',
      create_epoch: 1700000000,
      params: { create_epoch: '1700000000', ring_epoch: '1700000000' },
    },
    bad: { node_uuid: N, uuid: U, state: 'HUNGUP' },
    path: 'params.state',
  },
  'Event.CDR': {
    valid: {
      uuid: U,
      node_uuid: N,
      node_ip: '10.0.0.1',
      cdr: {
        caller_id_number: '1000',
        destination_number: '9196',
        billsec: '16',
        hangup_cause: 'NORMAL_CLEARING',
      },
    },
    bad: { uuid: U, node_uuid: N, cdr: { billsec: 16 } },
    path: 'params.cdr.billsec',
  },
  'Event.NodeRegister': {
    valid: {
      uuid: N,
      name: 'xnode-1',
      ip: '10.0.0.1',
      sessions: 0,
      sip_profiles: [{ name: 'public', port: 5060 }],
    },
    bad: { name: 'x' },
    path: 'params.uuid',
  },
  'Event.NodeUpdate': {
    valid: { uuid: N, sessions: 3, sessions_max: 100, uptime: 20 },
    bad: { uuid: N, sessions: '3' },
    path: 'params.sessions',
  },
  'Event.NodeUnregister': {
    valid: { uuid: N, shutdown: true },
    bad: { uuid: N, shutdown: 'yes' },
    path: 'params.shutdown',
  },
  'Event.DTMF': {
    valid: { node_uuid: N, uuid: U, dtmf_digit: '5', dtmf_duration: 100 },
    bad: { node_uuid: N, uuid: U, dtmf_digit: '55' },
    path: 'params.dtmf_digit',
  },
  'Event.DetectedData': {
    valid: { node_uuid: N, uuid: U, type: 'Speech.Partial', text: 'hel', is_final: false },
    bad: { node_uuid: N, type: 'Speech.End' },
    path: 'params.uuid',
  },
  'Event.DetectedSpeech': {
    valid: { node_uuid: N, uuid: U, type: 'ERROR', error: 'no_input' },
    bad: { node_uuid: N, uuid: U },
    path: 'params.type',
  },
  'Event.Result': {
    valid: { id: 'r1', method: 'XNode.Play', node_uuid: N, uuid: U, code: 200, message: 'OK' },
    bad: { id: 'r1', node_uuid: N, code: 200, message: 'OK' },
    path: 'params.method',
  },
  'Event.DialResult': {
    valid: {
      id: 'd1',
      node_uuid: N,
      uuid: 'b',
      code: 480,
      message: 'call failed: NO_ANSWER',
      cause: 'NO_ANSWER',
    },
    bad: { id: 'd1', node_uuid: N, uuid: 'b', code: 200, message: 'OK' },
    path: 'params.cause',
  },
  'Event.NativeResult': {
    valid: { id: 'x', node_uuid: N, code: 200, message: 'OK', data: 'pong' },
    bad: { node_uuid: N, code: 'OK' },
    path: 'params.code',
  },
  'Event.Record': {
    valid: {
      node_uuid: N,
      uuid: U,
      action: 'STOP',
      path: '/r.wav',
      size: 1000,
      samples: 8000,
      record_ms: 1000,
      completion_cause: 'success-silence',
    },
    bad: { node_uuid: N, uuid: U, action: 'PAUSE', path: '/r.wav' },
    path: 'params.action',
  },
  'Event.Conference': {
    valid: { node_uuid: N, uuid: U, name: 'room1', action: 'join', member_count: 2 },
    bad: { node_uuid: N, uuid: U, name: 'room1', action: 'join', member_count: -1 },
    path: 'params.member_count',
  },
  'Event.DetectedFace': {
    valid: { node_uuid: N, uuid: U, width: 640, height: 480 },
    bad: { node_uuid: N },
    path: 'params.uuid',
  },
  'Event.NativeEvent': {
    valid: { node_uuid: N, 'Event-Name': 'CUSTOM' },
    bad: { node_uuid: 5 },
    path: 'params.node_uuid',
  },
};

describe('events registry', () => {
  const names = Object.keys(events) as EventName[];
  it.each(names)('%s accepts its valid example', (e) => {
    expect(validateEvent(e, table[e].valid)).toMatchObject({ ok: true });
  });
  it.each(names)('%s rejects its bad example naming the field', (e) => {
    const v = validateEvent(e, table[e].bad);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.message.startsWith(`${table[e].path}: `)).toBe(true);
  });
  it('knows the event names of the brief, with Event.DetectedSpeech as an alias', () => {
    expect(events['Event.DetectedSpeech']).toBe(events['Event.DetectedData']);
    expect(isEvent('Event.Channel')).toBe(true);
    expect(isEvent('Event.Playback')).toBe(false);
    expect(validateEvent('Event.Playback', {})).toEqual({
      ok: false,
      message: 'unknown event Event.Playback',
    });
  });
});

describe('Event.Channel (reference §7.1, §8)', () => {
  it('normalises the wire key hold to held', () => {
    expect(validateEvent('Event.Channel', { node_uuid: N, uuid: U, state: 'ANSWERED', hold: true })).toEqual({
      ok: true,
      params: { node_uuid: N, uuid: U, state: 'ANSWERED', held: true },
    });
    // held wins when both are present.
    expect(
      validateEvent('Event.Channel', { node_uuid: N, uuid: U, state: 'ANSWERED', held: false, hold: true }),
    ).toEqual({
      ok: true,
      params: { node_uuid: N, uuid: U, state: 'ANSWERED', held: false },
    });
    expect(
      validateEvent('Event.Channel', { node_uuid: N, uuid: U, state: 'ANSWERED', hold: 'yes' }),
    ).toMatchObject({
      ok: false,
      message: 'params.hold: expected boolean, received string',
    });
  });

  it('accepts the minimal BRIDGE event and ANSWERED (§8 steps 2 and 4)', () => {
    expect(
      validateEvent('Event.Channel', { node_uuid: N, uuid: U, peer_uuid: 'b', state: 'BRIDGE', domain: 'd' })
        .ok,
    ).toBe(true);
    expect(
      validateEvent('Event.Channel', { node_uuid: N, uuid: U, state: 'ANSWERED', answered: true }).ok,
    ).toBe(true);
  });

  it('keeps billsec and duration as strings on DESTROY (§8 step 6)', () => {
    const v = validateEvent('Event.Channel', {
      node_uuid: N,
      uuid: U,
      state: 'DESTROY',
      cause: 'NORMAL_CLEARING',
      duration: '22',
      billsec: '16',
      node_ip: '10.0.0.1',
      unknown_future_field: { a: 1 },
    });
    expect(v).toMatchObject({
      ok: true,
      params: { duration: '22', billsec: '16', unknown_future_field: { a: 1 } },
    });
    expect(
      validateEvent('Event.Channel', { node_uuid: N, uuid: U, state: 'DESTROY', billsec: 16 }),
    ).toMatchObject({
      ok: false,
      message: 'params.billsec: expected string, received number',
    });
  });

  it('rejects non-string subscribed variables in params', () => {
    expect(
      validateEvent('Event.Channel', { node_uuid: N, uuid: U, state: 'START', params: { ring_epoch: 1 } }),
    ).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^params\.params\.ring_epoch: expected string/),
    });
  });

  it('rejects non-objects without throwing', () => {
    for (const p of [null, undefined, 'x', 1, []]) {
      expect(validateEvent('Event.Channel', p)).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^params: /),
      });
    }
  });
});
