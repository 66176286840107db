/**
 * `SwitchEvent`: the normalised FreeSWITCH event every CDR input produces, whatever the wire format.
 * Header access is lazy: an event-plain event keeps its raw header block and finds, URL-decodes and
 * caches a header only when asked, because the router reads a handful of the ~100 headers.
 */
import { EslProtocolError } from './errors.js';
import { urlDecode } from './url-decode.js';

/** The event name FreeSWITCH uses for events that carry their real name in `Event-Subclass`. */
const CUSTOM = 'CUSTOM';

/**
 * One switch event.
 *
 * @example
 * const ev = parseEventPlain('Event-Name: CHANNEL_ANSWER\nUnique-ID: 42\n\n');
 * ev.name;                    // 'CHANNEL_ANSWER'
 * ev.get('Unique-ID');        // '42'
 */
export interface SwitchEvent {
  /** `Event-Name`, except for CUSTOM events: their `Event-Subclass` (e.g. `callcenter::info`). */
  readonly name: string;
  /** `Event-Name` as sent (`CUSTOM` for custom events). */
  readonly eventName: string;
  /** `Event-Subclass`, when present. */
  readonly subclass: string | undefined;
  /** `Unique-ID`: the channel (leg) this event is about, when it is about one. */
  readonly uuid: string | undefined;
  /** `Core-UUID`: the FreeSWITCH instance that fired it (with `sequence`, the de-duplication key). */
  readonly coreUuid: string | undefined;
  /** `Event-Date-Timestamp` in microseconds since the epoch; undefined when absent or not a number. */
  readonly timestamp: number | undefined;
  /** `Event-Sequence`; undefined when absent or not a number. */
  readonly sequence: number | undefined;
  /** The event's own body (the part after its `Content-Length`), when it has one. */
  readonly body: string | undefined;
  /**
   * One header, decoded; undefined when absent. Names are case-sensitive, as FreeSWITCH sends them.
   * For event-plain events each call searches the raw block: read a header once and keep the value.
   */
  get(name: string): string | undefined;
  /** All headers, decoded, in wire order (a full parse: for storage and debugging, not the hot path). */
  headers(): Record<string, string>;
}

/** Parses a non-negative decimal integer header; undefined for anything else. */
function toInt(value: string | undefined): number | undefined {
  if (value === undefined || value.length === 0 || value.length > 16) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(value);
}

/** The fields derived from headers, computed once on first access. */
abstract class BaseSwitchEvent implements SwitchEvent {
  #uuid: string | undefined | null = null;
  #timestamp: number | undefined | null = null;
  #sequence: number | undefined | null = null;

  constructor(
    readonly eventName: string,
    readonly subclass: string | undefined,
  ) {}

  abstract get(name: string): string | undefined;
  abstract headers(): Record<string, string>;
  abstract readonly body: string | undefined;

  get name(): string {
    return this.eventName === CUSTOM && this.subclass !== undefined ? this.subclass : this.eventName;
  }

  get uuid(): string | undefined {
    if (this.#uuid === null) this.#uuid = this.get('Unique-ID');
    return this.#uuid;
  }

  get coreUuid(): string | undefined {
    return this.get('Core-UUID');
  }

  get timestamp(): number | undefined {
    if (this.#timestamp === null) this.#timestamp = toInt(this.get('Event-Date-Timestamp'));
    return this.#timestamp;
  }

  get sequence(): number | undefined {
    if (this.#sequence === null) this.#sequence = toInt(this.get('Event-Sequence'));
    return this.#sequence;
  }

  /** A plain-object view (headers plus `_body` as FreeSWITCH's event-json writes it), for JSON output. */
  toJSON(): Record<string, string> {
    const out = this.headers();
    const body = this.body;
    if (body !== undefined) out._body = body;
    return out;
  }
}

/** Needles `"<Name>: "` per header name; a small cache because the router asks the same few names. */
const needles = new Map<string, string>();
function needleOf(name: string): string {
  let needle = needles.get(name);
  if (needle === undefined) {
    needle = name + ': ';
    if (needles.size < 4096) needles.set(name, needle);
  }
  return needle;
}

/**
 * An event over a raw `text/event-plain` body. Only `Event-Name` is looked at up front; `get`
 * searches the raw block for `<Name>: ` at a line start (a native string search) and decodes just
 * that value. When a header repeats, the first one wins.
 *
 * Where the header block ends (the blank line before an optional body) is found lazily and only as
 * far as a match needs it: channel events have no body, and a full scan for the blank line would
 * cost as much as the rest of the parse.
 */
class PlainSwitchEvent extends BaseSwitchEvent {
  readonly #text: string;
  /** Index of the blank line ending the header block, or -1 while unknown. */
  #headerEnd = -1;
  /** No blank line starts before this index (valid while `#headerEnd` is unknown). */
  #clean = 0;

  constructor(text: string, eventName: string, subclass: string | undefined) {
    super(eventName, subclass);
    this.#text = text;
  }

  get(name: string): string | undefined {
    // No per-event value cache: a Map per event costs more than the second search it would save
    // (the derived fields, which every consumer reads, are cached by the base class).
    const value = this.#raw(name);
    return value === undefined ? undefined : urlDecode(value);
  }

  /** The raw (still URL-encoded) value of header `name`, or undefined. */
  #raw(name: string): string | undefined {
    const text = this.#text;
    const needle = needleOf(name);
    let at = text.indexOf(needle);
    // A match must start a line (so `Unique-ID` does not match inside `Caller-Unique-ID`).
    while (at > 0 && text.charCodeAt(at - 1) !== 10) at = text.indexOf(needle, at + 1);
    if (at === -1 || !this.#inHeaders(at)) return undefined;
    const start = at + needle.length;
    let stop = text.indexOf('\n', start);
    if (stop === -1) stop = text.length;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    return text.slice(start, stop);
  }

  /** Whether index `at` lies in the header block, scanning for the blank line no further than `at`. */
  #inHeaders(at: number): boolean {
    if (this.#headerEnd >= 0) return at < this.#headerEnd;
    if (at < this.#clean) return true;
    const from = Math.max(0, this.#clean - 1);
    const found = this.#text.slice(from, at + 1).indexOf('\n\n');
    if (found === -1) {
      this.#clean = at;
      return true;
    }
    this.#headerEnd = from + found;
    return at < this.#headerEnd;
  }

  #end(): number {
    if (this.#headerEnd < 0) {
      const found = this.#text.indexOf('\n\n', Math.max(0, this.#clean - 1));
      this.#headerEnd = found === -1 ? this.#text.length : found;
    }
    return this.#headerEnd;
  }

  get body(): string | undefined {
    const length = toInt(this.get('Content-Length'));
    if (length === undefined) return undefined;
    // The body starts after the blank line; keep at most `length` bytes of it (a short body is kept
    // as received: replay files get trimmed by editors).
    const rest = this.#text.slice(Math.min(this.#text.length, this.#end() + 2));
    return sliceUtf8Bytes(rest, length);
  }

  headers(): Record<string, string> {
    const out: Record<string, string> = {};
    const block = this.#text.slice(0, this.#end());
    for (const line of block.split('\n')) {
      const colon = line.indexOf(': ');
      if (colon <= 0) continue;
      const key = line.slice(0, colon);
      if (!(key in out)) out[key] = urlDecode(stripCr(line.slice(colon + 2)));
    }
    return out;
  }
}

function stripCr(value: string): string {
  return value.endsWith('\r') ? value.slice(0, -1) : value;
}

/** The prefix of `text` that is at most `bytes` UTF-8 bytes long. */
function sliceUtf8Bytes(text: string, bytes: number): string {
  let used = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    if (used + size > bytes) break;
    used += size;
    if (size === 4) i++; // the low surrogate of the pair
  }
  return text.slice(0, i);
}

/**
 * Builds an event from a `text/event-plain` body: `Name: url-encoded-value` lines, optionally a
 * `Content-Length` header, a blank line and that many bytes of body.
 *
 * @throws EslProtocolError (`bad-event`) when there is no `Event-Name` header.
 */
export function parseEventPlain(text: string): SwitchEvent {
  // FreeSWITCH writes Event-Name first: the common case needs no search.
  if (text.startsWith('Event-Name: ')) {
    let stop = text.indexOf('\n');
    if (stop === -1) stop = text.length;
    if (stop > 12 && text.charCodeAt(stop - 1) === 13) stop--;
    const first = urlDecode(text.slice(12, stop));
    if (first.length > 0 && first !== CUSTOM) return new PlainSwitchEvent(text, first, undefined);
  }
  const probe = new PlainSwitchEvent(text, '', undefined);
  const eventName = probe.get('Event-Name');
  if (eventName === undefined || eventName.length === 0) {
    throw new EslProtocolError('bad-event', `event-plain body has no Event-Name: ${preview(text)}`);
  }
  // Only CUSTOM events have a subclass worth a search of the whole block.
  const subclass = eventName === CUSTOM ? probe.get('Event-Subclass') : undefined;
  return new PlainSwitchEvent(text, eventName, subclass);
}

/** An event over an already-decoded header map (event-json, NDJSON, YAML). */
class MapSwitchEvent extends BaseSwitchEvent {
  readonly #headers: Record<string, string>;
  readonly body: string | undefined;

  constructor(headers: Record<string, string>, body: string | undefined) {
    super(headers['Event-Name'] ?? '', headers['Event-Subclass']);
    this.#headers = headers;
    this.body = body;
  }

  get(name: string): string | undefined {
    return Object.hasOwn(this.#headers, name) ? this.#headers[name] : undefined;
  }

  headers(): Record<string, string> {
    return { ...this.#headers };
  }
}

/**
 * Builds an event from a header map as FreeSWITCH's `text/event-json` writes it: header names as
 * keys, `_body` as the body. Values that are not strings are tolerated: numbers and booleans become
 * their text, arrays become FreeSWITCH's `ARRAY::a|:b` form, objects their JSON; `null` is dropped.
 * A map whose values are all strings (and has no `_body`) is used without a copy: do not change it
 * afterwards.
 *
 * @throws EslProtocolError (`bad-event`) when `map` is not an object or has no string `Event-Name`.
 */
export function eventFromMap(map: unknown): SwitchEvent {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new EslProtocolError('bad-event', `an event must be an object of headers, got ${describe(map)}`);
  }
  const source = map as Record<string, unknown>;
  // Fast path: FreeSWITCH's event-json has string values only; such a map is used as it is.
  let allStrings = true;
  for (const key in source) {
    if (key === '_body' || typeof source[key] !== 'string') {
      allStrings = false;
      break;
    }
  }
  let headers: Record<string, string>;
  let body: string | undefined;
  if (allStrings) headers = source as Record<string, string>;
  else {
    headers = {};
    for (const key in source) {
      if (!Object.hasOwn(source, key)) continue;
      const value = source[key];
      if (key === '_body') {
        if (value !== null && value !== undefined) body = stringify(value);
        continue;
      }
      if (value === null || value === undefined) continue;
      headers[key] = stringify(value);
    }
  }
  const name = headers['Event-Name'];
  if (name === undefined || name.length === 0) {
    throw new EslProtocolError('bad-event', 'event has no Event-Name header');
  }
  return new MapSwitchEvent(headers, body);
}

/**
 * Builds an event from a `text/event-json` body.
 *
 * @throws EslProtocolError (`bad-event`) for invalid JSON or a value that is not an event.
 */
export function parseEventJson(text: string): SwitchEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EslProtocolError('bad-event', `event-json body is not JSON (${(err as Error).message})`);
  }
  return eventFromMap(parsed);
}

function stringify(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      if (Array.isArray(value)) return 'ARRAY::' + value.map((v) => stringify(v)).join('|:');
      return JSON.stringify(value) ?? '';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** The first line(s) of a bad input, short enough for an error message. */
export function preview(text: string, max = 60): string {
  const flat = JSON.stringify(text.length > max ? text.slice(0, max) + '…' : text);
  return flat;
}
