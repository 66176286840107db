/**
 * A conservative fast path for zod validation of the hot message shapes (events, results, request
 * params). A schema is compiled once into a plain function that either returns exactly what zod's
 * `safeParse` would output for a *valid* input, or `FALLBACK` — meaning "not sure": the caller then
 * runs zod itself, so every rejection (and its message) still comes from zod.
 *
 * Only simple building blocks are understood: plain/loose/strict objects without refinements, strings
 * (optionally with a minimum length), finite numbers, safe integers with inclusive/exclusive lower
 * bounds, booleans, string enums, unknown/any, arrays and string-keyed records of those, `optional`,
 * and a `pipe` into a synchronous `transform`. Anything else makes the field (or the whole value)
 * fall back. Inputs that are not plain objects, that carry an own `__proto__` key or an explicit
 * `undefined` value also fall back, since zod treats those corner cases specially.
 */
import type { z } from 'zod';

/** Returned when the fast path cannot decide; run zod. */
export const FALLBACK: unique symbol = Symbol('openxcc.validate.fallback');

/** A compiled checker: the parsed output, or `FALLBACK`. */
export type FastCheck = (value: unknown) => unknown;

interface Def {
  readonly type: string;
  readonly [key: string]: unknown;
}

interface CheckDef {
  readonly check: string;
  readonly format?: unknown;
  readonly pattern?: unknown;
  readonly value?: unknown;
  readonly inclusive?: boolean;
  readonly minimum?: unknown;
}

const compiled = new WeakMap<z.ZodType, FastCheck | null>();

/** The compiled fast path of `schema`, or `undefined` when the schema is not one we understand. */
export function fastPathOf(schema: z.ZodType): FastCheck | undefined {
  let fn = compiled.get(schema);
  if (fn === undefined) {
    fn = compile(schema) ?? null;
    compiled.set(schema, fn);
  }
  return fn ?? undefined;
}

function defOf(schema: unknown): Def {
  return (schema as { _zod: { def: Def } })._zod.def;
}

function checksOf(def: Def): CheckDef[] | undefined {
  const checks = def.checks as readonly { _zod: { def: CheckDef } }[] | undefined;
  return checks?.map((c) => c._zod.def);
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !Object.hasOwn(value, '__proto__');
}

/** A compiled checker for one schema, `undefined` if unsupported. */
function compile(schema: unknown): FastCheck | undefined {
  const def = defOf(schema);
  const checks = checksOf(def) ?? [];
  if (def.coerce === true) return undefined;
  switch (def.type) {
    case 'string': {
      let min = 0;
      const patterns: RegExp[] = [];
      for (const c of checks) {
        if (c.check === 'min_length' && typeof c.minimum === 'number') min = Math.max(min, c.minimum);
        else if (c.check === 'string_format' && c.format === 'regex' && c.pattern instanceof RegExp) {
          patterns.push(c.pattern);
        } else return undefined;
      }
      return (v) => {
        if (typeof v !== 'string' || v.length < min) return FALLBACK;
        for (const p of patterns) {
          p.lastIndex = 0; // as zod does: a global/sticky pattern must not carry state between inputs
          if (!p.test(v)) return FALLBACK;
        }
        return v;
      };
    }
    case 'literal': {
      if (checks.length > 0) return undefined;
      const values = def.values as readonly unknown[];
      if (!values.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) {
        return undefined;
      }
      const allowed = new Set<unknown>(values);
      return (v) => (allowed.has(v) ? v : FALLBACK);
    }
    case 'union':
      return checks.length === 0 ? compileUnion(def) : undefined;
    case 'default': {
      // Only a primitive default is filled in here (zod clones object defaults); a present value is the inner's.
      const fallbackValue: unknown = def.defaultValue;
      if (checks.length > 0 || (typeof fallbackValue === 'object' && fallbackValue !== null))
        return undefined;
      return compile(def.innerType);
    }
    case 'boolean':
      return checks.length === 0 ? (v) => (typeof v === 'boolean' ? v : FALLBACK) : undefined;
    case 'number':
      return compileNumber(def, checks);
    case 'enum': {
      if (checks.length > 0) return undefined;
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return (v) => (typeof v === 'string' && values.has(v) ? v : FALLBACK);
    }
    case 'unknown':
    case 'any':
      return checks.length === 0 ? (v) => v : undefined;
    case 'optional': {
      const inner = compile(def.innerType);
      // An absent key is handled by the object; a present `undefined` falls back (zod's corner case).
      return inner ?? ((v) => (v === undefined ? v : FALLBACK));
    }
    case 'array':
      return checks.length === 0 ? compileArray(def) : undefined;
    case 'record':
      return checks.length === 0 ? compileRecord(def) : undefined;
    case 'object':
      return checks.length === 0 ? compileObject(def) : undefined;
    case 'pipe':
      return checks.length === 0 ? compilePipe(def) : undefined;
    default:
      return undefined;
  }
}

/** Schemas whose output is their input unchanged: a union of those may try its options in any order. */
const IDENTITY_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'boolean', 'enum', 'literal']);

function compileUnion(def: Def): FastCheck | undefined {
  const options = def.options as readonly unknown[];
  if (def.inclusive === false || def.discriminator !== undefined) return undefined;
  const checks: FastCheck[] = [];
  for (const option of options) {
    if (!IDENTITY_TYPES.has(defOf(option).type)) return undefined;
    const check = compile(option);
    if (check === undefined) return undefined;
    checks.push(check);
  }
  return (v) => {
    for (const check of checks) if (check(v) !== FALLBACK) return v;
    return FALLBACK;
  };
}

function compileNumber(def: Def, checks: CheckDef[]): FastCheck | undefined {
  if (def.format !== undefined && def.format !== null && def.format !== 'safeint') return undefined;
  const int = def.format === 'safeint';
  let min = Number.NEGATIVE_INFINITY;
  let inclusive = true;
  for (const c of checks) {
    if (c.check !== 'greater_than' || typeof c.value !== 'number') return undefined;
    if (c.value > min || (c.value === min && c.inclusive !== true)) {
      min = c.value;
      inclusive = c.inclusive === true;
    }
  }
  return (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return FALLBACK;
    if (int && !Number.isSafeInteger(v)) return FALLBACK;
    if (inclusive ? v < min : v <= min) return FALLBACK;
    return v;
  };
}

function compileArray(def: Def): FastCheck | undefined {
  const element = compile(def.element);
  if (element === undefined) return undefined;
  return (v) => {
    if (!Array.isArray(v)) return FALLBACK;
    const out: unknown[] = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      if (item === undefined) return FALLBACK;
      const r = element(item);
      if (r === FALLBACK) return FALLBACK;
      out[i] = r;
    }
    return out;
  };
}

function compileRecord(def: Def): FastCheck | undefined {
  const keyDef = defOf(def.keyType);
  if (keyDef.type !== 'string' || (checksOf(keyDef)?.length ?? 0) > 0 || keyDef.coerce === true) {
    return undefined;
  }
  const value = compile(def.valueType);
  if (value === undefined) return undefined;
  return (v) => {
    if (!isPlainRecord(v)) return FALLBACK;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      const item = v[key];
      if (item === undefined) return FALLBACK;
      const r = value(item);
      if (r === FALLBACK) return FALLBACK;
      out[key] = r;
    }
    return out;
  };
}

type Catchall = 'strip' | 'loose' | 'strict';

interface Field {
  readonly key: string;
  readonly optional: boolean;
  readonly check: FastCheck;
  /** A `default` field: the value zod fills in when the key is absent. */
  readonly absent?: { readonly value: unknown };
}

function compileObject(def: Def): FastCheck | undefined {
  let catchall: Catchall;
  if (def.catchall === undefined) catchall = 'strip';
  else {
    const t = defOf(def.catchall).type;
    if (t === 'unknown') catchall = 'loose';
    else if (t === 'never') catchall = 'strict';
    else return undefined;
  }
  const shape = def.shape as Record<string, unknown>;
  const keys = Object.keys(shape);
  const known = new Set(keys);
  const fields: Field[] = [];
  for (const key of keys) {
    const field = shape[key];
    const fieldDef = defOf(field);
    const optional = fieldDef.type === 'optional';
    const check = compile(field);
    if (check === undefined) {
      if (!optional) return undefined;
      // An optional field we do not understand: fine while absent, zod decides when present.
      fields.push({ key, optional, check: () => FALLBACK });
    } else if (fieldDef.type === 'default') {
      fields.push({ key, optional: false, check, absent: { value: fieldDef.defaultValue } });
    } else fields.push({ key, optional, check });
  }
  return (v) => {
    if (!isPlainRecord(v)) return FALLBACK;
    const out: Record<string, unknown> = {};
    // Same key order as zod: declared keys first, then (loose) the others in input order.
    for (const { key, optional, check, absent } of fields) {
      const item = v[key];
      if (item === undefined) {
        if (key in v) return FALLBACK;
        if (absent !== undefined) out[key] = absent.value;
        else if (!optional) return FALLBACK;
        continue;
      }
      const r = check(item);
      if (r === FALLBACK) return FALLBACK;
      out[key] = r;
    }
    if (catchall !== 'strip') {
      for (const key of Object.keys(v)) {
        if (known.has(key)) continue;
        if (catchall === 'strict') return FALLBACK;
        const item = v[key];
        if (item === undefined) return FALLBACK;
        out[key] = item;
      }
    }
    return out;
  };
}

function compilePipe(def: Def): FastCheck | undefined {
  const input = compile(def.in);
  if (input === undefined) return undefined;
  const outDef = defOf(def.out);
  if (outDef.type !== 'transform' || typeof outDef.transform !== 'function') return undefined;
  const transform = outDef.transform as (
    value: unknown,
    payload: { value: unknown; issues: unknown[] },
  ) => unknown;
  return (v) => {
    const parsed = input(v);
    if (parsed === FALLBACK) return FALLBACK;
    const payload = { value: parsed, issues: [] as unknown[] };
    const out = transform(parsed, payload);
    // A transform that reports a problem or works asynchronously is zod's business.
    if (payload.issues.length > 0 || out instanceof Promise) return FALLBACK;
    return out;
  };
}
