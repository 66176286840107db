import { describe, expect, it } from 'vitest';
import { formatPath, tryingProblem, usesTrying, validateParams, wantsTrying } from './validate.js';

describe('validateParams', () => {
  it('answers unknown methods with a message, not a throw', () => {
    expect(validateParams('XNode.Fly', {})).toEqual({ ok: false, message: 'unknown method XNode.Fly' });
    expect(validateParams('constructor', {})).toEqual({ ok: false, message: 'unknown method constructor' });
  });

  it('names the failing path like params.destination.call_params[0].dest_number', () => {
    expect(validateParams('XNode.Dial', { destination: { call_params: [{ dest_number: 1 }] } })).toEqual({
      ok: false,
      message: 'params.destination.call_params[0].dest_number: expected string, received number',
    });
  });

  it('says when a required field is missing', () => {
    expect(validateParams('XNode.Record', { uuid: 'u' })).toEqual({
      ok: false,
      message: 'params.path: required, expected string',
    });
    expect(validateParams('XNode.Dial', {})).toEqual({
      ok: false,
      message: 'params.destination: required, expected object',
    });
  });

  it('treats absent params as an empty object', () => {
    expect(validateParams('XNode.Log', undefined)).toEqual({ ok: true, params: {} });
    expect(validateParams('XNode.Play', undefined)).toMatchObject({
      ok: false,
      message: 'params.uuid: required, expected string',
    });
  });

  it('does not let __proto__ keys through or pollute prototypes', () => {
    const v = validateParams('XNode.Stop', JSON.parse('{"uuid":"u","__proto__":{"polluted":1}}'));
    expect(v).toEqual({ ok: true, params: { uuid: 'u' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives hostile input', () => {
    const cyclic: Record<string, unknown> = { uuid: 'u' };
    cyclic.self = cyclic;
    expect(validateParams('XNode.Stop', cyclic).ok).toBe(true);
    expect(validateParams('XNode.Stop', 'string').ok).toBe(false);
    expect(validateParams('XNode.Stop', [1, 2]).ok).toBe(false);
    expect(validateParams('XNode.Dial', { destination: { call_params: [null] } })).toMatchObject({
      ok: false,
      message: 'params.destination.call_params[0]: expected object, received null',
    });
  });
});

describe('expect_100_trying (common.md item 2)', () => {
  it('accepts both spellings', () => {
    expect(wantsTrying({ expect_100_trying: true })).toBe(true);
    expect(wantsTrying({ exepect_100_trying: true })).toBe(true);
    expect(wantsTrying({ expect_100_trying: false })).toBe(false);
    expect(wantsTrying({})).toBe(false);
  });

  it('needs ctrl_uuid (the node answers 400 with this message)', () => {
    expect(tryingProblem({ uuid: 'u', expect_100_trying: true })).toBe('expect_100_trying needs ctrl_uuid');
    expect(tryingProblem({ uuid: 'u', exepect_100_trying: true, ctrl_uuid: '' })).toBe(
      'expect_100_trying needs ctrl_uuid',
    );
    expect(tryingProblem({ uuid: 'u', expect_100_trying: true, ctrl_uuid: 'c' })).toBeUndefined();
    expect(tryingProblem({ uuid: 'u' })).toBeUndefined();
  });

  it('is used only by trying methods, and by Record only for action RECORD', () => {
    const p = { uuid: 'u', ctrl_uuid: 'c', expect_100_trying: true };
    expect(usesTrying('XNode.Play', p)).toBe(true);
    expect(usesTrying('XNode.Answer', p)).toBe(false);
    expect(usesTrying('XNode.Record', { ...p, path: '/r.wav' })).toBe(true);
    expect(usesTrying('XNode.Record', { ...p, path: '/r.wav', action: 'RECORD' })).toBe(true);
    expect(usesTrying('XNode.Record', { ...p, path: '/r.wav', action: 'START' })).toBe(false);
    expect(usesTrying('XNode.Play', { uuid: 'u' })).toBe(false);
    expect(usesTrying('XNode.Nope', p)).toBe(false);
  });

  it('the flags must be booleans', () => {
    expect(
      validateParams('XNode.Play', { uuid: 'u', media: { data: 'a' }, expect_100_trying: 'true' }),
    ).toEqual({
      ok: false,
      message: 'params.expect_100_trying: expected boolean, received string',
    });
  });
});

describe('formatPath', () => {
  it.each([
    [[], 'params'],
    [['a', 0, 'b'], 'params.a[0].b'],
    [['x-y'], 'params["x-y"]'],
    [[0, 1], 'params[0][1]'],
  ] as const)('%j → %s', (path, out) => {
    expect(formatPath('params', path)).toBe(out);
  });
});
