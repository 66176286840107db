import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { events } from './events.js';
import { FALLBACK, fastPathOf } from './fast-path.js';
import { methods } from './methods.js';
import { validateEvent, validateParams, validateResult } from './validate.js';
import { prng } from '../../../test/support/prng.js';

const ABSENT = Symbol('absent');
const POOL: unknown[] = [
  ABSENT,
  ABSENT,
  'u1',
  '',
  'FILE',
  'BOTH',
  'START',
  'ANSWERED',
  '123#',
  '1',
  'a.wav',
  0,
  1,
  2,
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER + 2,
  true,
  false,
  null,
  undefined,
  {},
  [],
  ['a', 'b'],
  [1],
  { a: 'b' },
  { a: 1 },
  { data: 'a.wav' },
  { type: 'FILE', data: 'a.wav' },
  { type: 7, data: 'a.wav' },
  [{ dest_number: '1000' }],
];

function shapeKeys(schema: z.ZodType): string[] {
  let def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  while (def.type === 'pipe') def = (def.in as { _zod: { def: Record<string, unknown> } })._zod.def;
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}

function randomInput(keys: string[], rnd: () => number): unknown {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const v = POOL[Math.floor(rnd() * POOL.length)];
    if (v !== ABSENT) out[key] = v;
  }
  if (rnd() < 0.3) out.extra_key = rnd() < 0.5 ? 'x' : 1;
  return out;
}

/** Every schema the validators use, with a name for the failure message. */
function allSchemas(): [string, z.ZodType][] {
  const list: [string, z.ZodType][] = [];
  for (const [name, m] of Object.entries(methods)) {
    list.push([`${name} params`, m.params as z.ZodType], [`${name} result`, m.result as z.ZodType]);
  }
  for (const [name, s] of Object.entries(events)) list.push([name, s as z.ZodType]);
  return list;
}

describe('validation fast path', () => {
  it('agrees with zod on every input it accepts, for every method and event schema (fuzzed)', () => {
    const rnd = prng(20_261_122);
    let accepted = 0;
    for (const [name, schema] of allSchemas()) {
      const fast = fastPathOf(schema);
      if (!fast) continue;
      const keys = shapeKeys(schema);
      for (let i = 0; i < 400; i++) {
        const input = randomInput(keys, rnd);
        const got = fast(input);
        if (got === FALLBACK) continue;
        accepted++;
        const ref = schema.safeParse(input);
        expect(ref.success, `${name}: fast path accepted ${JSON.stringify(input)}`).toBe(true);
        if (!ref.success) continue;
        expect(got, name).toEqual(ref.data);
        // Same key order as zod's output (it shows in logs and re-encoded JSON).
        expect(JSON.stringify(got), name).toBe(JSON.stringify(ref.data));
      }
    }
    expect(accepted).toBeGreaterThan(500);
  });

  it('takes the fast path for the hot shapes of an IVR call', () => {
    const channel = {
      node_uuid: 'n1',
      uuid: 'c1',
      state: 'ANSWERED',
      direction: 'inbound',
      cid_number: '1000',
      dest_number: '8000',
      create_epoch: 1_700_000_000,
      answered: true,
      hold: false,
      params: { a: 'b' },
    };
    const cases: [z.ZodType, unknown][] = [
      [events['Event.Channel'], channel],
      [events['Event.DTMF'], { node_uuid: 'n1', uuid: 'c1', dtmf_digit: '1', dtmf_duration: 100 }],
      [methods['XNode.Play'].params, { uuid: 'c1', ctrl_uuid: 'x', media: { type: 'FILE', data: 'a.wav' } }],
      [methods['XNode.Play'].params, { uuid: 'c1', media: { type: 1, data: 'a.wav' } }],
      [methods['XNode.ReadDTMF'].params, { uuid: 'c1', min_digits: 1, max_digits: 1, timeout: 5000 }],
      [methods['XNode.Hangup'].params, { uuid: 'c1', cause: 'NORMAL_CLEARING' }],
      [methods['XNode.ReadDTMF'].result, { code: 200, message: 'OK', uuid: 'c1', dtmf: '1' }],
      [methods['XNode.Answer'].result, { code: 200, node_uuid: 'n1' }],
    ];
    for (const [schema, input] of cases) {
      const fast = fastPathOf(schema);
      expect(fast).toBeDefined();
      const got = fast?.(input);
      expect(got).not.toBe(FALLBACK);
      const ref = schema.safeParse(input);
      expect(ref.success).toBe(true);
      expect(JSON.stringify(got)).toBe(JSON.stringify(ref.data));
    }
  });

  it('normalises hold to held and fills defaults exactly as zod does', () => {
    const ev = validateEvent('Event.Channel', { node_uuid: 'n', uuid: 'u', state: 'READY', hold: true });
    expect(ev).toEqual({ ok: true, params: { node_uuid: 'n', uuid: 'u', state: 'READY', held: true } });
    const read = validateParams('XNode.ReadDTMF', { uuid: 'u' });
    expect(read.ok && read.params).toEqual({
      uuid: 'u',
      min_digits: 1,
      max_digits: 1,
      timeout: 5000,
      digit_timeout: 2000,
    });
    const res = validateResult('XNode.Answer', { code: 200 });
    expect(res).toEqual({ ok: true, params: { code: 200, message: '' } });
  });

  it('leaves every rejection to zod: same message for bad input', () => {
    expect(validateEvent('Event.Channel', { node_uuid: 'n', uuid: 'u', state: 'NOPE' })).toEqual({
      ok: false,
      message: expect.stringMatching(/^params\.state: /) as unknown as string,
    });
    expect(validateParams('XNode.Play', { uuid: 'u', media: { data: 7 } })).toEqual({
      ok: false,
      message: 'params.media.data: expected string, received number',
    });
    expect(validateParams('XNode.ReadDTMF', { uuid: 'u', min_digits: -1 }).ok).toBe(false);
    expect(validateEvent('Event.DTMF', { node_uuid: 'n', uuid: 'u', dtmf_digit: '12' })).toEqual({
      ok: false,
      message: 'params.dtmf_digit: expected one DTMF digit',
    });
  });

  it('falls back on inputs zod treats specially (own __proto__, explicit undefined, class instances)', () => {
    const fast = fastPathOf(events['Event.Channel']);
    const withProto = JSON.parse(
      '{"node_uuid":"n","uuid":"u","state":"READY","__proto__":{"x":1}}',
    ) as unknown;
    expect(fast?.(withProto)).toBe(FALLBACK);
    expect(fast?.({ node_uuid: 'n', uuid: 'u', state: 'READY', cause: undefined })).toBe(FALLBACK);
    class Ev {
      node_uuid = 'n';
      uuid = 'u';
      state = 'READY';
    }
    expect(fast?.(new Ev())).toBe(FALLBACK);
  });

  it('refuses to compile shapes it does not understand', () => {
    expect(fastPathOf(z.string().email())).toBeUndefined();
    expect(fastPathOf(z.object({ a: z.string() }).refine(() => true))).toBeUndefined();
    expect(fastPathOf(z.object({ a: z.string().max(3) }))).toBeUndefined();
    expect(fastPathOf(z.number().max(3))).toBeUndefined();
  });
});
