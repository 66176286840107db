import { describe, expect, it } from 'vitest';
import {
  CallerStepSchema,
  DestinationBehaviourSchema,
  DestinationSchema,
  DetectedDataSchema,
  MediaSchema,
  ResponseSchema,
} from './objects.js';
import { FlowControlSchema, HangupFlagSchema } from './methods.js';
import { VarMapSchema } from './primitives.js';
import { validateParams } from './validate.js';

describe('enums accept names or numbers and normalise to the name', () => {
  it.each([
    [MediaSchema.shape.type, 0, 'FILE'],
    [MediaSchema.shape.type, 1, 'TEXT'],
    [MediaSchema.shape.type, 2, 'SSML'],
    [MediaSchema.shape.type, 'SSML', 'SSML'],
    [HangupFlagSchema, 0, 'SELF'],
    [HangupFlagSchema, 1, 'PEER'],
    [HangupFlagSchema, 2, 'BOTH'],
    [HangupFlagSchema, 'PEER', 'PEER'],
    [FlowControlSchema, 3, 'ANY'],
    [FlowControlSchema, 'CALLER', 'CALLER'],
  ] as const)('%#: %j → %s', (schema, input, name) => {
    expect(schema.parse(input)).toBe(name);
  });

  it.each([3, -1, 1.5, 'self', 'ALL', null, true])('Hangup flag %j is rejected', (flag) => {
    const v = validateParams('XNode.Hangup', { uuid: 'u', flag });
    expect(v).toMatchObject({ ok: false });
    if (!v.ok)
      expect(v.message).toBe(
        `params.flag: expected one of SELF|PEER|BOTH or 0..2, received ${JSON.stringify(flag)}`,
      );
  });

  it('Hangup flag by number and by name give the same params', () => {
    expect(validateParams('XNode.Hangup', { uuid: 'u', flag: 1 })).toEqual(
      validateParams('XNode.Hangup', { uuid: 'u', flag: 'PEER' }),
    );
  });
});

describe('wire objects are loose', () => {
  it('unknown keys pass through at every level', () => {
    const v = validateParams('XNode.Dial', {
      x_top: 1,
      destination: { x_dest: true, call_params: [{ dest_number: '1000', x_leg: 'y' }] },
    });
    expect(v).toEqual({
      ok: true,
      params: { x_top: 1, destination: { x_dest: true, call_params: [{ dest_number: '1000', x_leg: 'y' }] } },
    });
  });

  it('Media and Response keep extra fields', () => {
    expect(MediaSchema.parse({ data: 'a.wav', rate: 8000 })).toEqual({ data: 'a.wav', rate: 8000 });
    expect(ResponseSchema.parse({ code: 200, message: 'OK', extra: [1] })).toEqual({
      code: 200,
      message: 'OK',
      extra: [1],
    });
  });
});

describe('channel-variable maps hold strings', () => {
  it.each([1, true, null, { a: 'b' }, ['x']])('rejects a %j value with a clear message', (value) => {
    const v = validateParams('XNode.Dial', {
      destination: { global_params: { leg_timeout: value }, call_params: [{ dest_number: '1' }] },
    });
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.message).toMatch(
        /^params\.destination\.global_params\.leg_timeout: expected string \(channel variables are strings\), received /,
      );
    }
  });

  it('accepts string values and an empty map', () => {
    expect(VarMapSchema.parse({ ignore_early_media: 'true', leg_timeout: '20' })).toEqual({
      ignore_early_media: 'true',
      leg_timeout: '20',
    });
    expect(VarMapSchema.parse({})).toEqual({});
  });

  it('names keys that are not identifiers with brackets', () => {
    const v = validateParams('XNode.SetVar', { uuid: 'u', data: { 'sip_h_X-Foo': 1 } });
    expect(v).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^params\.data\["sip_h_X-Foo"\]: /),
    });
  });
});

describe('Destination', () => {
  it('needs at least one call_param', () => {
    expect(DestinationSchema.safeParse({ call_params: [] }).success).toBe(false);
    expect(DestinationSchema.safeParse({}).success).toBe(false);
    expect(
      DestinationSchema.safeParse({ ringall: true, call_params: [{ dial_string: 'user/1000' }] }).success,
    ).toBe(true);
  });
});

describe('DetectedData', () => {
  it.each(['DTMF', 'Speech.Begin', 'Speech.Partial', 'Speech.End', 'ERROR'])(
    'type %s is accepted',
    (type) => {
      expect(DetectedDataSchema.safeParse({ type }).success).toBe(true);
    },
  );
  it('rejects an unknown type and keeps error/engine_data', () => {
    expect(DetectedDataSchema.safeParse({ type: 'Speech' }).success).toBe(false);
    expect(DetectedDataSchema.parse({ type: 'ERROR', error: 'no_input', engine_data: { a: 1 } })).toEqual({
      type: 'ERROR',
      error: 'no_input',
      engine_data: { a: 1 },
    });
  });
});

describe('simulator objects (common.md item 11)', () => {
  it.each([
    [{ wait: 0 }],
    [{ dtmf: '12#' }],
    [{ say: 'hello' }],
    [{ hangup: {} }],
    [{ hangup: { cause: 'USER_BUSY' } }],
  ])('CallerStep %j is valid', (step) => {
    expect(CallerStepSchema.parse(step)).toEqual(step);
  });
  it.each([
    [{ wait: -1 }],
    [{ dtmf: 'x' }],
    [{ wiat: 5 }],
    [{ wait: 1, dtmf: '1' }],
    [{ hangup: 'now' }],
    ['wait'],
  ])('CallerStep %j is rejected', (step) => {
    expect(CallerStepSchema.safeParse(step).success).toBe(false);
  });
  it('DestinationBehaviour accepts the media.ts fields and rejects typos', () => {
    const b = { answer_after_ms: 2000, early_media: 500, script: [{ say: 'hi' }, { hangup: {} }] };
    expect(DestinationBehaviourSchema.parse(b)).toEqual(b);
    expect(DestinationBehaviourSchema.parse({ busy: true, ring_ms: 100 })).toEqual({
      busy: true,
      ring_ms: 100,
    });
    expect(DestinationBehaviourSchema.safeParse({ answer_after: 5 }).success).toBe(false);
  });
});
