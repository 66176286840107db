/**
 * One readable line per wire message, for `xcc events` and `xcc call`:
 * `12:00:01.250 cn.xswitch.ctrl.c1  Event.Channel ANSWERED  <uuid>  answered=true`.
 * Pure functions: they never throw on bad input (a message that is not JSON is shown as such).
 */

/** What a wire message is, as far as a one-line view cares. */
export type WireKind = 'request' | 'event' | 'response' | 'error' | 'batch' | 'invalid';

export interface WireSummary {
  kind: WireKind;
  /** `XNode.Play`, `Event.Channel`… (requests and events). */
  method?: string;
  /** Channel state of an `Event.Channel`. */
  state?: string;
  /** The channel the message is about (`params.uuid` or `result.uuid`). */
  uuid?: string;
  /** `peer_uuid` of BRIDGE/UNBRIDGE events and bridge results. */
  peerUuid?: string;
  id?: string;
  /** `result.code`, or the JSON-RPC error code. */
  code?: number;
  /** The params (requests/events) or the result (responses) object. */
  body?: Record<string, unknown>;
  /** The short `key=value` rendering of the body. */
  detail: string;
}

/** Keys shown elsewhere on the line, or too noisy for one line. */
const HIDDEN = new Set(['uuid', 'state', 'node_uuid', 'ctrl_uuid', 'code', 'message', 'jsonrpc', 'node_ip']);
const MAX_DETAIL = 160;
const MAX_VALUE = 48;

const decoder = new TextDecoder();

/** Classifies and summarises one message body. */
export function summarize(data: Uint8Array | string): WireSummary {
  const text = typeof data === 'string' ? data : decoder.decode(data);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', detail: `not JSON: ${clip(text.replace(/\s+/g, ' '), MAX_VALUE)}` };
  }
  if (Array.isArray(value)) return { kind: 'batch', detail: `batch of ${value.length}` };
  if (!isRecord(value)) return { kind: 'invalid', detail: `not an object: ${clip(text, MAX_VALUE)}` };
  const id = typeof value.id === 'string' || typeof value.id === 'number' ? String(value.id) : undefined;
  if (isRecord(value.result)) {
    const result = value.result;
    return withOptional(
      { kind: 'response', body: result, detail: describe(result) },
      {
        id,
        code: typeof result.code === 'number' ? result.code : undefined,
        uuid: str(result.uuid),
        peerUuid: str(result.peer_uuid),
        state: str(result.message),
      },
    );
  }
  if (isRecord(value.error)) {
    const error = value.error;
    return withOptional(
      { kind: 'error', detail: clip(str(error.message) ?? '', MAX_DETAIL) },
      { id, code: typeof error.code === 'number' ? error.code : undefined },
    );
  }
  const method = str(value.method);
  if (method === undefined) return { kind: 'invalid', detail: 'neither request, response nor event' };
  const params = isRecord(value.params) ? value.params : {};
  const kind: WireKind = id === undefined ? 'event' : 'request';
  const summary: WireSummary = { kind, method, body: params, detail: describe(params) };
  return withOptional(summary, {
    id,
    uuid: str(params.uuid),
    peerUuid: str(params.peer_uuid),
    state: method === 'Event.Channel' ? str(params.state) : undefined,
  });
}

/**
 * The full line: time, subject, what, uuid, details.
 *
 * @example
 * formatLine('cn.xswitch.ctrl', bytes, Date.now())
 * // "12:00:01.250 cn.xswitch.ctrl  Event.Channel START  8f2c…  cid_number=1000 dest_number=800"
 */
export function formatLine(subject: string, data: Uint8Array | string, nowMs: number): string {
  const s = summarize(data);
  const parts = [timeOfDay(nowMs), subject, ' ' + headline(s)];
  if (s.uuid) parts.push(' ' + s.uuid);
  if (s.detail) parts.push(' ' + s.detail);
  return parts.join(' ');
}

/** `Event.Channel DESTROY`, `XNode.Play`, `result 200 OK`, `error -32601`… */
export function headline(s: WireSummary): string {
  switch (s.kind) {
    case 'event':
      return s.state ? `${s.method} ${s.state}` : (s.method ?? '');
    case 'request':
      return `${s.method} (id ${s.id})`;
    case 'response':
      return `result ${s.code ?? '?'} ${s.state ?? ''}`.trimEnd();
    case 'error':
      return `error ${s.code ?? '?'}`;
    case 'batch':
      return 'batch';
    case 'invalid':
      return 'invalid';
  }
}

/** `key=value` pairs of the scalar fields (objects shown as clipped JSON), clipped to one line. */
export function describe(body: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (HIDDEN.has(key) || value === undefined || value === null || value === '') continue;
    const shown = typeof value === 'object' ? JSON.stringify(value) : String(value);
    parts.push(`${key}=${clip(shown, MAX_VALUE)}`);
  }
  return clip(parts.join(' '), MAX_DETAIL);
}

/** `HH:MM:SS.mmm` in local time. */
export function timeOfDay(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function withOptional(
  base: WireSummary,
  extra: Partial<Record<keyof WireSummary, string | number | undefined>>,
): WireSummary {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out as unknown as WireSummary;
}
