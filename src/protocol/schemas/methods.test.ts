import { describe, expect, it } from 'vitest';
import {
  defaultTimeoutMs,
  effectiveTimeoutMs,
  isMethod,
  METHOD_NAMES,
  type MethodName,
  methods,
  TRYING_METHODS,
} from './methods.js';
import { validateParams, validateResult } from './validate.js';

const U = 'a-leg-uuid';
const C = 'ctrl-1';
const media = { type: 'FILE', data: '/tmp/hello.wav' };
/** Reference §8 step 4: the observed Bridge destination. */
const bridgeDestination = {
  global_params: { ignore_early_media: 'false' },
  call_params: [
    {
      uuid: 'b-leg-uuid',
      dial_string: 'user/800035',
      cid_name: 'Alice',
      cid_number: '1000',
      params: { leg_timeout: '20' },
    },
  ],
};

/** One valid example (from reference §8 where it has one) and one bad example with the field it must name. */
const table: Record<
  MethodName,
  { valid: Record<string, unknown>; bad: Record<string, unknown>; path: string }
> = {
  'XNode.Accept': {
    valid: { ctrl_uuid: C, uuid: U, takeover: true },
    bad: { uuid: U, takeover: 'yes' },
    path: 'params.takeover',
  },
  'XNode.Answer': { valid: { ctrl_uuid: C, uuid: U }, bad: { ctrl_uuid: C }, path: 'params.uuid' },
  'XNode.Dial': {
    valid: { ctrl_uuid: C, destination: bridgeDestination, ringback: '%(1000,4000,450)', sync: true },
    bad: { ctrl_uuid: C, destination: { call_params: [{ dest_number: 1000 }] } },
    path: 'params.destination.call_params[0].dest_number',
  },
  'XNode.Play': {
    valid: { ctrl_uuid: C, uuid: U, media },
    bad: { uuid: U, media: { type: 'FILE' } },
    path: 'params.media.data',
  },
  'XNode.Stop': { valid: { uuid: U }, bad: { uuid: '' }, path: 'params.uuid' },
  'XNode.Broadcast': {
    valid: { uuid: U, media, option: 'BOTH' },
    bad: { uuid: U, option: 'ALL' },
    path: 'params.option',
  },
  'XNode.Mute': {
    valid: { uuid: U, direction: 'READ', level: 1, flag: 0 },
    bad: { uuid: U, level: 1.5 },
    path: 'params.level',
  },
  'XNode.Record': {
    valid: { uuid: U, path: '/tmp/r.wav', action: 'START' },
    bad: { uuid: U, action: 'START' },
    path: 'params.path',
  },
  'XNode.Hangup': {
    valid: { uuid: U, cause: 'NORMAL_CLEARING' },
    bad: { uuid: U, flag: 3 },
    path: 'params.flag',
  },
  'XNode.Bridge': {
    valid: { uuid: U, flow_control: 'NONE', ringback: '%(1000,4000,450)', destination: bridgeDestination },
    bad: { uuid: U, destination: { call_params: [] } },
    path: 'params.destination.call_params',
  },
  'XNode.ChannelBridge': {
    valid: { uuid: U, peer_uuid: 'b', flow_control: 'ANY' },
    bad: { uuid: U },
    path: 'params.peer_uuid',
  },
  'XNode.ChannelBridge2': {
    valid: { uuid: U, peer_uuid: 'b' },
    bad: { uuid: U, peer_uuid: 'b', flow_control: 'SOME' },
    path: 'params.flow_control',
  },
  'XNode.UnBridge': { valid: { uuid: U }, bad: { uuid: U, params: { a: 1 } }, path: 'params.params.a' },
  'XNode.UnBridge2': { valid: { uuid: U, params: { a: 'b' } }, bad: { uuid: 7 }, path: 'params.uuid' },
  'XNode.Hold': {
    valid: { uuid: U, action: 'TOGGLE' },
    bad: { uuid: U, action: 'MAYBE' },
    path: 'params.action',
  },
  'XNode.Transfer': {
    valid: { uuid: U, extension: '1000', dialplan: 'XML', context: 'default' },
    bad: { uuid: U, extension: 1000 },
    path: 'params.extension',
  },
  'XNode.ThreeWay': {
    valid: { uuid: U, target_uuid: 'b', direction: 'LISTEN' },
    bad: { uuid: U, direction: 'LISTEN' },
    path: 'params.target_uuid',
  },
  'XNode.Echo2': {
    valid: { uuid: U, action: 'START', direction: 'SELF' },
    bad: { uuid: U, action: 'PAUSE' },
    path: 'params.action',
  },
  'XNode.Intercept': {
    valid: { uuid: U, target_uuid: 'b' },
    bad: { uuid: U, target_uuid: '' },
    path: 'params.target_uuid',
  },
  'XNode.Consult': {
    valid: { uuid: U, destination: bridgeDestination },
    bad: { uuid: U },
    path: 'params.destination',
  },
  'XNode.SetVar': {
    valid: { uuid: U, data: { foo: 'bar' }, channel_params: ['foo'] },
    bad: { uuid: U, data: { foo: 1 } },
    path: 'params.data.foo',
  },
  'XNode.GetVar': { valid: { uuid: U, data: ['foo'] }, bad: { uuid: U, data: 'foo' }, path: 'params.data' },
  'XNode.GetState': { valid: { uuid: U }, bad: {}, path: 'params.uuid' },
  'XNode.GetChannelData': {
    valid: { uuid: U, format: 'JSON' },
    bad: { uuid: U, format: 'YAML' },
    path: 'params.format',
  },
  'XNode.ReadDTMF': {
    // Reference §8 step 3.
    valid: {
      uuid: U,
      media: { type: 'TEXT', engine: 'ali', voice: 'aiqi', data: 'press 1' },
      min_digits: 1,
      max_digits: 1,
      timeout: 5000,
      digit_timeout: 2000,
      terminators: '#',
    },
    bad: { uuid: U, min_digits: 'one' },
    path: 'params.min_digits',
  },
  'XNode.ReadDigits': {
    valid: { uuid: U, max_digits: 4 },
    bad: { uuid: U, terminators: 'x' },
    path: 'params.terminators',
  },
  'XNode.DetectSpeech': {
    valid: { uuid: U, media, speech: { engine: 'ali', no_input_timeout: 5000, partial_events: true } },
    bad: { uuid: U, media },
    path: 'params.speech',
  },
  'XNode.StopDetectSpeech': { valid: { uuid: U }, bad: { uuid: null }, path: 'params.uuid' },
  'XNode.DetectSpeechFeedTTS': {
    valid: { uuid: U, text: 'more', is_last: true },
    bad: { uuid: U },
    path: 'params.text',
  },
  'XNode.RingBackDetection': {
    valid: { uuid: U, max_detect_time: 30 },
    bad: { uuid: U, auto_hangup: 'no' },
    path: 'params.auto_hangup',
  },
  'XNode.DetectFace': {
    valid: { uuid: U, action: 'START' },
    bad: { uuid: U, action: 'LOOK' },
    path: 'params.action',
  },
  'XNode.SendDTMF': { valid: { uuid: U, dtmf: '123#' }, bad: { uuid: U, dtmf: 'xyz' }, path: 'params.dtmf' },
  'XNode.SendINFO': {
    valid: { uuid: U, content_type: 'text/plain', data: 'hi' },
    bad: { uuid: U },
    path: 'params.data',
  },
  'XNode.NativeApp': {
    valid: { uuid: U, cmd: 'playback', args: 'a.wav' },
    bad: { uuid: U, cmd: '' },
    path: 'params.cmd',
  },
  'XNode.NativeAPI': { valid: { ctrl_uuid: C, cmd: 'ping' }, bad: { ctrl_uuid: C }, path: 'params.cmd' },
  'XNode.NativeJSAPI': {
    valid: { ctrl_uuid: C, data: { command: 'sofia.status', data: { profile: 'public' } } },
    bad: { ctrl_uuid: C, data: { data: {} } },
    path: 'params.data.command',
  },
  'XNode.FIFO': {
    valid: { uuid: U, name: 'q1', inout: 'in', priority: 1 },
    bad: { uuid: U, name: 'q1', inout: 'sideways' },
    path: 'params.inout',
  },
  'XNode.Callcenter': { valid: { uuid: U, name: 'support' }, bad: { uuid: U }, path: 'params.name' },
  'XNode.Conference': {
    valid: { uuid: U, name: 'room1', profile: 'default', flags: ['mute'] },
    bad: { uuid: U, name: 'r', flags: 'mute' },
    path: 'params.flags',
  },
  'XNode.AI': {
    valid: { uuid: U, url: 'http://ai', data: { k: 'v' } },
    bad: { uuid: U },
    path: 'params.url',
  },
  'XNode.HttAPI': {
    valid: { uuid: U, url: 'http://h' },
    bad: { uuid: U, url: 'http://h', data: { k: true } },
    path: 'params.data.k',
  },
  'XNode.Lua': {
    valid: { uuid: U, script: 'hello.lua' },
    bad: { uuid: U, script: '' },
    path: 'params.script',
  },
  'XNode.TTSPreheat': {
    valid: { engine: 'ali', voice: 'aiqi', data: ['hello'] },
    bad: { data: [1] },
    path: 'params.data[0]',
  },
  'XNode.MediaFork': {
    valid: { uuid: U, action: 'START', url: 'ws://x' },
    bad: { uuid: U, url: 5 },
    path: 'params.url',
  },
  'XNode.Register': {
    valid: { ctrl_uuid: C, params: { a: 'b' } },
    bad: { ctrl_uuid: 3 },
    path: 'params.ctrl_uuid',
  },
  'XNode.Shutdown': { valid: { node_uuid: 'n1' }, bad: { node_uuid: '' }, path: 'params.node_uuid' },
  'XNode.Ring': { valid: { uuid: U }, bad: {}, path: 'params.uuid' },
  'XNode.Log': { valid: { level: 'INFO', data: 'hello' }, bad: { data: 1 }, path: 'params.data' },
  'XNode.WaterMark': { valid: { uuid: U }, bad: {}, path: 'params.uuid' },
  'XNode.SimCall': {
    valid: {
      cid_number: '1000',
      dest_number: '9196',
      variables: { lang: 'en' },
      script: [{ wait: 500 }, { dtmf: '1' }, { say: 'yes' }, { hangup: { cause: 'NORMAL_CLEARING' } }],
    },
    bad: { cid_number: '1000', dest_number: '9196', script: [{ wiat: 500 }] },
    path: 'params.script[0]',
  },
  'XNode.CtrlStartUp': { valid: { ctrl_uuid: C }, bad: {}, path: 'params.ctrl_uuid' },
};

describe('methods registry', () => {
  it.each(METHOD_NAMES)('%s accepts its valid example', (m) => {
    expect(validateParams(m, table[m].valid)).toMatchObject({ ok: true });
  });

  it.each(METHOD_NAMES)('%s rejects its bad example naming the field', (m) => {
    const v = validateParams(m, table[m].bad);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.message.startsWith(`${table[m].path}: `)).toBe(true);
  });

  it('covers every XNode method of reference §6 plus the extras', () => {
    const expected = [
      'Accept',
      'Answer',
      'Dial',
      'Play',
      'Stop',
      'Broadcast',
      'Mute',
      'Record',
      'Hangup',
      'Bridge',
      'ChannelBridge',
      'ChannelBridge2',
      'UnBridge',
      'UnBridge2',
      'Hold',
      'Transfer',
      'ThreeWay',
      'Echo2',
      'Intercept',
      'Consult',
      'SetVar',
      'GetVar',
      'GetState',
      'GetChannelData',
      'ReadDTMF',
      'ReadDigits',
      'DetectSpeech',
      'StopDetectSpeech',
      'DetectSpeechFeedTTS',
      'RingBackDetection',
      'DetectFace',
      'SendDTMF',
      'SendINFO',
      'NativeApp',
      'NativeAPI',
      'NativeJSAPI',
      'FIFO',
      'Callcenter',
      'Conference',
      'AI',
      'HttAPI',
      'Lua',
      'TTSPreheat',
      'MediaFork',
      'Register',
      'Shutdown',
      'Ring',
      'Log',
      'WaterMark',
      'SimCall',
      'CtrlStartUp',
    ].map((n) => `XNode.${n}`);
    expect([...METHOD_NAMES].sort()).toEqual(expected.sort());
  });

  it('marks Channel APIs: they require uuid, the others do not', () => {
    for (const m of METHOD_NAMES) {
      const shape = methods[m].params.shape as Record<
        string,
        { safeParse(v: unknown): { success: boolean } }
      >;
      const uuid = shape.uuid;
      const required = uuid !== undefined && !uuid.safeParse(undefined).success;
      expect({ m, required }).toEqual({ m, required: methods[m].channel });
    }
  });

  it('every params schema accepts ctrl_uuid', () => {
    for (const m of METHOD_NAMES) {
      expect(Object.keys(methods[m].params.shape)).toContain('ctrl_uuid');
    }
  });

  it('expect_100_trying is allowed exactly on the methods of common.md item 2', () => {
    expect([...TRYING_METHODS].sort()).toEqual(
      [
        'XNode.Bridge',
        'XNode.ChannelBridge',
        'XNode.DetectSpeech',
        'XNode.Play',
        'XNode.ReadDTMF',
        'XNode.ReadDigits',
        'XNode.Record',
        'XNode.RingBackDetection',
      ].sort(),
    );
    for (const m of TRYING_METHODS) {
      const shape = methods[m as MethodName].params.shape;
      expect(Object.keys(shape)).toEqual(expect.arrayContaining(['expect_100_trying', 'exepect_100_trying']));
    }
  });

  it('default timeouts follow the Go SDK (reference §1)', () => {
    expect(defaultTimeoutMs('XNode.Answer')).toBe(5_000);
    expect(defaultTimeoutMs('XNode.ReadDTMF')).toBe(60_000);
    expect(defaultTimeoutMs('XNode.Play')).toBe(180_000);
    expect(defaultTimeoutMs('XNode.FIFO')).toBe(1_200_000);
    expect(defaultTimeoutMs('XNode.Bridge')).toBe(3_600_000);
    expect(defaultTimeoutMs('XNode.Dial')).toBe(120_000);
    expect(defaultTimeoutMs('XNode.Nope')).toBe(5_000);
  });

  it('effective timeouts cover blocking Record, ChannelBridge and long digit reads', () => {
    expect(effectiveTimeoutMs('XNode.Record', { uuid: U, path: '/r', limit: 30 })).toBe(40_000);
    expect(effectiveTimeoutMs('XNode.Record', { uuid: U, path: '/r' })).toBe(3_600_000);
    expect(effectiveTimeoutMs('XNode.Record', { uuid: U, path: '/r', action: 'START' })).toBe(5_000);
    expect(effectiveTimeoutMs('XNode.ChannelBridge', { uuid: U, peer_uuid: 'b' })).toBe(3_600_000);
    expect(effectiveTimeoutMs('XNode.ReadDTMF', { uuid: U })).toBe(60_000);
    expect(effectiveTimeoutMs('XNode.ReadDTMF', { uuid: U, timeout: 90_000, max_digits: 2 })).toBe(104_000);
    expect(effectiveTimeoutMs('XNode.Play', { uuid: U })).toBe(180_000);
  });

  it('isMethod tells registry methods from others', () => {
    expect(isMethod('XNode.Play')).toBe(true);
    expect(isMethod('XNode.play')).toBe(false);
    expect(isMethod('toString')).toBe(false);
    expect(isMethod('__proto__')).toBe(false);
  });

  it('fills documented defaults for the receiver', () => {
    expect(validateParams('XNode.ReadDTMF', { uuid: U })).toEqual({
      ok: true,
      params: { uuid: U, min_digits: 1, max_digits: 1, timeout: 5000, digit_timeout: 2000 },
    });
    expect(validateParams('XNode.Record', { uuid: U, path: '/r.wav' })).toMatchObject({
      ok: true,
      params: { action: 'RECORD' },
    });
  });
});

describe('results (reference §8)', () => {
  const cases: [MethodName, Record<string, unknown>, Record<string, unknown>][] = [
    ['XNode.Answer', { code: 200, message: 'OK', node_uuid: 'n1', uuid: U }, { code: 200 }],
    ['XNode.ReadDTMF', { code: 202, message: 'OK', uuid: U, dtmf: '1' }, { dtmf: '1' }],
    [
      'XNode.ReadDTMF',
      { code: 200, message: 'OK', uuid: U, dtmf: '12', terminator: '#', reason: 'ok' },
      { reason: 'ok' },
    ],
    ['XNode.Dial', { code: 200, cause: 'SUCCESS', uuid: 'b' }, { cause: 'SUCCESS', message: '' }],
    [
      'XNode.Dial',
      { code: 480, message: 'call failed: USER_BUSY', cause: 'USER_BUSY', uuid: 'b' },
      { code: 480 },
    ],
    [
      'XNode.Record',
      { code: 200, message: 'OK', node_uuid: 'n1', path: '/r.wav', terminator: '#' },
      { path: '/r.wav' },
    ],
    ['XNode.GetVar', { code: 200, message: 'OK', data: { a: 'b' } }, { data: { a: 'b' } }],
    ['XNode.GetState', { code: 200, message: 'OK', answered: true, ready: true }, { answered: true }],
    [
      'XNode.DetectSpeech',
      { code: 200, message: 'OK', data: { type: 'Speech.End', text: 'yes', confidence: 0.9 } },
      { data: { text: 'yes' } },
    ],
    ['XNode.NativeAPI', { code: 200, message: 'OK', data: 'pong' }, { data: 'pong' }],
    ['XNode.SimCall', { code: 200, message: 'OK', node_uuid: 'n1', uuid: U }, { uuid: U }],
  ];
  it.each(cases)('%s result %j is accepted', (m, result, expected) => {
    expect(validateResult(m, result)).toMatchObject({ ok: true, params: expected });
  });

  it('rejects results without a numeric code and results of unknown methods', () => {
    expect(validateResult('XNode.Answer', { code: '200', message: 'OK' })).toEqual({
      ok: false,
      message: 'result.code: expected number, received string',
    });
    expect(validateResult('XNode.Nope', { code: 200 })).toEqual({
      ok: false,
      message: 'unknown method XNode.Nope',
    });
    expect(validateResult('XNode.SimCall', { code: 200, message: 'OK' })).toMatchObject({ ok: false });
  });
});
