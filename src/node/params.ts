/**
 * Typed readers for handler params. The RPC server has validated params against the protocol schema
 * already; these readers narrow `unknown` without trusting that, so a schema gap can never crash a
 * handler: a wrong type reads as absent, and the handler answers 400 when the field was required.
 */

export type Params = Record<string, unknown>;

export function str(p: Params, key: string): string | undefined {
  const v = p[key];
  return typeof v === 'string' ? v : undefined;
}

/** Non-negative integer, from a number or a numeric string (FreeSWITCH habits). */
export function num(p: Params, key: string): number | undefined {
  const v = p[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** `true`/`false` or the strings "true"/"false" (channel-variable style). */
export function bool(p: Params, key: string): boolean | undefined {
  const v = p[key];
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

export function obj(p: Params, key: string): Params | undefined {
  const v = p[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Params) : undefined;
}

export function list(p: Params, key: string): unknown[] | undefined {
  const v = p[key];
  return Array.isArray(v) ? v : undefined;
}

/** A string array; non-string items are dropped. */
export function strings(p: Params, key: string): string[] {
  return (list(p, key) ?? []).filter((x): x is string => typeof x === 'string');
}

/** A map of channel variables; non-string values are dropped. */
export function stringMap(p: Params, key: string): Record<string, string> {
  const m = obj(p, key);
  const out: Record<string, string> = {};
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) if (typeof v === 'string') out[k] = v;
  return out;
}
