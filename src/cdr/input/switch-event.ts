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

  /**
   * One pass over the header block for {@link compactEvent}: the selection's regular expression finds
   * the kept lines natively (no JS work per skipped line) and stops at the blank line.
   */
  collect(selection: HeaderSelection, values: (string | undefined)[], extras: string[]): void {
    const text = this.#text;
    const pattern = selection.pattern;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const name = m[1];
      // The blank line: the rest is the body.
      if (name === undefined) break;
      let value = m[2]!;
      if (value.charCodeAt(value.length - 1) === 13) value = value.slice(0, -1);
      const slot = selection.slotOfMatched(name);
      if (slot >= 0) {
        if (values[slot] === undefined) values[slot] = urlDecode(value);
      } else {
        const kept = selection.nameOf(name);
        if (!hasName(extras, kept)) extras.push(kept, urlDecode(value));
      }
    }
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

/** Whether `[name, value, …]` pairs hold `name` (the first of a repeated header wins). */
function hasName(pairs: readonly string[], name: string): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === name) return true;
  return false;
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

/** UTF-8 decoder of event text taken from frame bytes (invalid bytes become U+FFFD). */
const utf8 = new TextDecoder();
const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const PERCENT = 37;
/**
 * A Node `Buffer` with its `latin1Slice` (what `toString('latin1', start, end)` calls, minus the
 * argument checks: about a third cheaper per short value). The ESL parser's read buffers are these.
 */
export type ReadBuffer = Buffer & { latin1Slice(start: number, end: number): string };
/** `Event-Name: ` as bytes: the first line of every event FreeSWITCH writes. */
const EVENT_NAME_PREFIX = Buffer.from('Event-Name: ', 'latin1');
/** Recently seen event names by a shape hash of their bytes, so each event does not allocate its name. */
const eventNames: (string | undefined)[] = new Array<string | undefined>(256).fill(undefined);

/**
 * Whether `buf[s, e)` holds exactly the characters of `text` (one byte per character). From the end:
 * values that differ (timestamps, sequences, the other leg's uuid) mostly differ there.
 */
function sameBytes(buf: Uint8Array, s: number, e: number, text: string): boolean {
  if (text.length !== e - s) return false;
  for (let i = text.length - 1; i >= 0; i--) if (buf[s + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** An event name read from plain ASCII bytes, shared with the previous event of that name. */
function eventNameAt(buf: ReadBuffer, s: number, e: number): string {
  const n = e - s;
  const cell = (n * 31 + (buf[s + (n >> 1)] ?? 0) * 7 + (buf[e - 1] ?? 0)) & 255;
  const known = eventNames[cell];
  if (known !== undefined && sameBytes(buf, s, e, known)) return known;
  const name = buf.latin1Slice(s, e);
  eventNames[cell] = name;
  return name;
}

/**
 * An event-plain event over the bytes of its frame (a range of the ESL parser's read buffer, which
 * the parser never overwrites once an event points into it). Only `Event-Name` is read up front;
 * {@link compactEvent} scans the bytes once and decodes only the kept headers' values; anything
 * else (`get` of an unkept header, `headers()`, `body`) decodes the event's text on first use.
 * Holding such an event holds its read buffer (up to 64 KiB); its compact record does not.
 */
class ByteSwitchEvent extends BaseSwitchEvent {
  readonly bytes: ReadBuffer;
  readonly start: number;
  readonly end: number;
  #text: PlainSwitchEvent | undefined;
  /** The compact record made of this event (later reads of kept headers come from it). */
  compact: CompactSwitchEvent | undefined;

  constructor(bytes: ReadBuffer, start: number, end: number, eventName: string) {
    super(eventName, undefined);
    this.bytes = bytes;
    this.start = start;
    this.end = end;
  }

  #plain(): PlainSwitchEvent {
    this.#text ??= new PlainSwitchEvent(
      utf8.decode(this.bytes.subarray(this.start, this.end)),
      this.eventName,
      undefined,
    );
    return this.#text;
  }

  get(name: string): string | undefined {
    const compact = this.compact;
    if (compact !== undefined) {
      const slot = compact.selection.slotOf(name);
      if (slot >= 0) return compact.at(slot);
    }
    // Not a kept header (or not compacted yet): decode the text once and search it natively.
    return this.#plain().get(name);
  }

  get body(): string | undefined {
    return this.#plain().body;
  }

  headers(): Record<string, string> {
    return this.#plain().headers();
  }
}

/**
 * Builds an event from a `text/event-plain` body given as bytes `buf[start, end)`, without decoding
 * it: the caller promises not to change those bytes while the event is in use. Events that do not
 * start with a plain `Event-Name` line, and CUSTOM events, are decoded and parsed as text.
 *
 * @throws EslProtocolError (`bad-event`) when there is no `Event-Name` header.
 */
export function parseEventPlainBytes(buf: ReadBuffer, start: number, end: number): SwitchEvent {
  const prefix = EVENT_NAME_PREFIX;
  if (end - start > prefix.length && sameBytesPrefix(buf, start, prefix)) {
    const s = start + prefix.length;
    let e = s;
    let plain = true;
    for (; e < end; e++) {
      const c = buf[e]!;
      if (c === LF) break;
      if (c === PERCENT || c >= 0x80 || c === CR) plain = false;
    }
    if (plain && e > s && e < end && !sameBytes(buf, s, e, CUSTOM)) {
      return new ByteSwitchEvent(buf, start, end, eventNameAt(buf, s, e));
    }
  }
  return parseEventPlain(utf8.decode(buf.subarray(start, end)));
}

function sameBytesPrefix(buf: Uint8Array, s: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (buf[s + i] !== prefix[i]) return false;
  return true;
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

  /** The map counterpart of {@link PlainSwitchEvent.collect}. */
  collect(selection: HeaderSelection, values: (string | undefined)[], extras: string[]): void {
    const headers = this.#headers;
    for (const name in headers) {
      if (!Object.hasOwn(headers, name)) continue;
      const slot = selection.slotOf(name);
      if (slot >= 0) values[slot] = headers[name];
      else if (selection.keeps(name)) extras.push(name, headers[name]!);
    }
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

/** Headers every compact event keeps: its identity, order and de-duplication keys. */
const IDENTITY_HEADERS = [
  'Event-Name',
  'Event-Subclass',
  'Unique-ID',
  'Core-UUID',
  'Event-Date-Timestamp',
  'Event-Sequence',
] as const;
/** Fixed slots per selection: four 32-bit presence masks per compact event. */
const MAX_SLOTS = 128;
/** Names remembered by {@link HeaderSelection.unselected}. */
const MAX_UNSELECTED = 64;

/**
 * The headers a {@link compactEvent} keeps: a fixed list of names (each gets a slot) and name
 * prefixes (e.g. `CC-`: kept beside the slots, for application events whose header set is open).
 *
 * @example
 * const selection = new HeaderSelection(['Other-Leg-Unique-ID', 'Answer-State'], ['CC-']);
 */
export class HeaderSelection {
  /** Slot names, in slot order (the identity headers first). */
  readonly names: readonly string[];
  readonly prefixes: readonly string[];
  /**
   * Names asked of compact events of this selection that it never keeps (at most 64): a reader that
   * forgot to declare a header it needs (see `Extractor.headers`). Tests check it stays empty.
   */
  readonly unselected = new Set<string>();
  readonly #slots = new Map<string, number>();
  /**
   * `\n<Name>: <value>` for every kept name (slots, then prefixes), or the blank line ending the
   * header block (no groups). Global: `lastIndex` is reset per use (events are compacted one at a time).
   */
  readonly pattern: RegExp;
  /** Shape hash of a name → 1 + its slot (0: none; `SHARED_CELL`: several, ask `#slots`). */
  readonly #cells = new Uint8Array(1 << CELL_BITS);
  /** Prefixed names seen, so compact events share one copy of each (bounded). */
  readonly #names = new Map<string, string>();
  /** Per-call scratch of {@link compactEvent} (events are compacted one at a time). */
  readonly scratch: (string | undefined)[];
  readonly extras: string[] = [];
  #byteTable: ByteTable | undefined;

  constructor(names: Iterable<string>, prefixes: Iterable<string> = []) {
    const all: string[] = [...IDENTITY_HEADERS];
    for (const name of names) if (!all.includes(name)) all.push(name);
    if (all.length > MAX_SLOTS) throw new RangeError(`a header selection holds at most ${MAX_SLOTS} names`);
    this.names = all;
    this.prefixes = [...new Set(prefixes)].filter((p) => p.length > 0);
    all.forEach((name, slot) => {
      this.#slots.set(name, slot);
      const cell = cellOf(name);
      this.#cells[cell] = this.#cells[cell] === 0 ? slot + 1 : SHARED_CELL;
    });
    const alternatives = [...all.map(escapeRegExp), ...this.prefixes.map((p) => `${escapeRegExp(p)}[^\n:]*`)];
    this.pattern = new RegExp(`(?:^|\n)(${alternatives.join('|')}): ([^\n]*)|\n(?=\n)`, 'g');
    this.scratch = new Array<string | undefined>(all.length).fill(undefined);
  }

  /** The same selection plus `names` (this one when nothing is new). */
  with(names: Iterable<string>): HeaderSelection {
    const extra = [...names].filter((n) => !this.#slots.has(n));
    return extra.length === 0 ? this : new HeaderSelection([...this.names, ...extra], this.prefixes);
  }

  get size(): number {
    return this.names.length;
  }

  /** The slot of `name`, or -1. */
  slotOf(name: string): number {
    return this.#slots.get(name) ?? -1;
  }

  /**
   * {@link slotOf} for a name just cut out of an event (a fresh string): a shape hash of four
   * characters and a string compare instead of hashing the whole name for a map lookup.
   */
  slotOfMatched(name: string): number {
    const cell = this.#cells[cellOf(name)]!;
    if (cell === 0) return -1;
    if (cell !== SHARED_CELL) return this.names[cell - 1] === name ? cell - 1 : -1;
    return this.slotOf(name);
  }

  /** Whether compact events keep header `name` when present. */
  keeps(name: string): boolean {
    if (this.#slots.has(name)) return true;
    for (const prefix of this.prefixes) if (name.startsWith(prefix)) return true;
    return false;
  }

  /** One shared copy of a prefixed header name (not a slice of an event's text). */
  nameOf(name: string): string {
    const known = this.#names.get(name);
    if (known !== undefined) return known;
    const copy = detach(name);
    if (this.#names.size < 4096) this.#names.set(copy, copy);
    return copy;
  }

  /** The byte-level name lookup of {@link compactEvent} for events over frame bytes (built on first use). */
  get byteTable(): ByteTable {
    this.#byteTable ??= new ByteTable(this.names, this.prefixes);
    return this.#byteTable;
  }

  /** Records a name read from a compact event that this selection does not keep. */
  noteUnselected(name: string): void {
    if (this.unselected.size < MAX_UNSELECTED) this.unselected.add(name);
  }
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * The name hash {@link compactBytes} computes while it scans a header name: FNV-1a over the name's
 * whole 32-bit little-endian words, then over its last `length % 4` bytes one by one.
 */
function hashBytes(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let h = FNV_OFFSET;
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) h = Math.imul(h ^ view.getUint32(i, true), FNV_PRIME);
  for (; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h;
}

/** Non-zero when a byte of the 32-bit word `x` is zero (exact as a yes/no; the classic SWAR test). */
function zeroByte(x: number): number {
  return (x - 0x01010101) & ~x & 0x80808080;
}

/** `:` `\n` `%` repeated in each byte of a word, for {@link zeroByte} tests of `word ^ REPEATED`. */
const COLONS = 0x3a3a3a3a;
const LFS = 0x0a0a0a0a;
const PERCENTS = 0x25252525;

/** A DataView over the buffer being compacted (events of one read buffer share it). */
let viewOf: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));
function dataView(buf: Uint8Array): DataView {
  if (buf !== viewOf) {
    viewOf = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return view;
}

/**
 * A selection's names for matching header names in frame bytes without making a string of them: an
 * open-addressing table of FNV-1a hashes (verified by a byte compare), plus a first-byte filter for
 * the prefixes. Also the per-event scratch of {@link compactBytes}: value ranges per slot, valid when
 * the slot's stamp is the current event's generation (no clearing per event).
 */
class ByteTable {
  readonly mask: number;
  readonly hashes: Int32Array;
  /** 1 + slot, or 0 for an empty cell. */
  readonly cells: Uint16Array;
  /** Each slot's name as bytes. */
  readonly names: Uint8Array[];
  /** Each slot's name as its whole 32-bit little-endian words (the tail bytes are in `names`). */
  readonly words: Int32Array[];
  /** 1 for a byte some prefix starts with. */
  readonly prefixFirst = new Uint8Array(256);
  /**
   * 1 for a pair of first bytes some prefix starts with (`buf[s] | buf[s + 1] << 8`), so `Caller-…`
   * and `Channel-…` names are not compared with `CC-` and `Conference-` one by one.
   */
  readonly prefixPair = new Uint8Array(65536);
  readonly prefixes: Uint8Array[];
  readonly stamp: Int32Array;
  readonly valueStart: Int32Array;
  readonly valueEnd: Int32Array;
  /** Bit 1: the value holds `%`; bit 2: it holds bytes above 0x7f. */
  readonly valueFlags: Uint8Array;
  /** Prefix-kept lines of the current event: name start, name end, value start, value end, flags. */
  readonly extras: number[] = [];
  /**
   * The plain value made last for each slot, whatever the leg: a leg's first event shares `XML`,
   * `CS_EXECUTE` or `mod_sofia` with the leg before it instead of keeping copies of its own.
   */
  readonly recent: (string | undefined)[];
  #generation = 0;

  constructor(names: readonly string[], prefixes: readonly string[]) {
    let size = 64;
    while (size < names.length * 8) size *= 2;
    this.mask = size - 1;
    this.hashes = new Int32Array(size);
    this.cells = new Uint16Array(size);
    this.names = names.map((name) => Buffer.from(name, 'latin1'));
    this.words = this.names.map((bytes) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return Int32Array.from({ length: bytes.length >> 2 }, (_, k) => view.getInt32(k * 4, true));
    });
    this.names.forEach((bytes, slot) => {
      const h = hashBytes(bytes);
      let k = (h ^ (h >>> 16)) & this.mask;
      while (this.cells[k] !== 0) k = (k + 1) & this.mask;
      this.hashes[k] = h;
      this.cells[k] = slot + 1;
    });
    this.prefixes = prefixes.map((prefix) => Buffer.from(prefix, 'latin1'));
    for (const prefix of this.prefixes) {
      this.prefixFirst[prefix[0]!] = 1;
      if (prefix.length >= 2) this.prefixPair[prefix[0]! | (prefix[1]! << 8)] = 1;
      else for (let b = 0; b < 256; b++) this.prefixPair[prefix[0]! | (b << 8)] = 1;
    }
    this.stamp = new Int32Array(names.length);
    this.valueStart = new Int32Array(names.length);
    this.valueEnd = new Int32Array(names.length);
    this.valueFlags = new Uint8Array(names.length);
    this.recent = new Array<string | undefined>(names.length).fill(undefined);
  }

  /** A new generation for the next event (stamps of earlier events no longer count). */
  next(): number {
    this.#generation = (this.#generation + 1) | 0;
    if (this.#generation === 0) {
      this.stamp.fill(0);
      this.#generation = 1;
    }
    this.extras.length = 0;
    return this.#generation;
  }

  /** The slot of the name `buf[s, e)` whose hash is `h`, or -1 (`dv` views `buf`). */
  slotOf(buf: Uint8Array, dv: DataView, s: number, e: number, h: number): number {
    const cells = this.cells;
    const mask = this.mask;
    for (let k = (h ^ (h >>> 16)) & mask; ; k = (k + 1) & mask) {
      const cell = cells[k]!;
      if (cell === 0) return -1;
      if (this.hashes[k] === h && this.#same(buf, dv, s, e, cell - 1)) return cell - 1;
    }
  }

  /** Whether `buf[s, e)` is the name of `slot`: word by word, then the tail bytes. */
  #same(buf: Uint8Array, dv: DataView, s: number, e: number, slot: number): boolean {
    const bytes = this.names[slot]!;
    if (e - s !== bytes.length) return false;
    const words = this.words[slot]!;
    for (let k = 0; k < words.length; k++) if (dv.getInt32(s + k * 4, true) !== words[k]) return false;
    for (let i = words.length * 4; i < bytes.length; i++) if (buf[s + i] !== bytes[i]) return false;
    return true;
  }

  /** Whether the name `buf[s, e)` starts with one of the prefixes. */
  prefixed(buf: Uint8Array, s: number, e: number): boolean {
    if (this.prefixFirst[buf[s]!] !== 1) return false;
    if (e - s >= 2 && this.prefixPair[buf[s]! | (buf[s + 1]! << 8)] !== 1) return false;
    for (const prefix of this.prefixes) {
      if (e - s >= prefix.length && sameBytesPrefix(buf, s, prefix)) return true;
    }
    return false;
  }
}

/** The value `buf[s, e)` with `flags` from the scan: decoded (UTF-8 only when needed) and URL-decoded. */
function decodeValue(buf: ReadBuffer, s: number, e: number, flags: number): string {
  const raw = (flags & 2) === 0 ? buf.latin1Slice(s, e) : utf8.decode(buf.subarray(s, e));
  return (flags & 1) === 0 ? raw : urlDecode(raw);
}

/**
 * {@link compactEvent} for an event over frame bytes: one scan of the header block that hashes each
 * name while looking for its colon (no string per header), then strings only for the kept values,
 * and none for a plain value equal to the same leg's previous one (a byte compare instead).
 */
function compactBytes(
  ev: ByteSwitchEvent,
  selection: HeaderSelection,
  options: CompactOptions,
): CompactSwitchEvent {
  const table = selection.byteTable;
  const generation = table.next();
  const { stamp, valueStart, valueEnd, valueFlags, extras, recent } = table;
  const buf = ev.bytes;
  const dv = dataView(buf);
  const end = ev.end;
  let pos = ev.start;
  /** Slots found (the values array is made at its final size). */
  let kept = 0;
  while (pos < end) {
    let c = buf[pos]!;
    // The blank line: the rest is the body.
    if (c === LF || (c === CR && buf[pos + 1] === LF)) break;
    let h = FNV_OFFSET;
    let i = pos;
    // Four bytes at a time while the word holds neither the colon nor a newline.
    for (; i + 4 <= end; i += 4) {
      const w = dv.getInt32(i, true);
      if (zeroByte(w ^ COLONS) !== 0 || zeroByte(w ^ LFS) !== 0) break;
      h = Math.imul(h ^ w, FNV_PRIME);
    }
    for (; i < end; i++) {
      c = buf[i]!;
      if (c === COLON || c === LF) break;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    if (i >= end) break;
    const slot = c === COLON && buf[i + 1] === SPACE ? table.slotOf(buf, dv, pos, i, h) : -2;
    if (slot === -2 || (slot === -1 && !table.prefixed(buf, pos, i))) {
      // Not kept: on to the line end, four bytes at a time.
      let nl = i;
      while (nl + 4 <= end && zeroByte(dv.getInt32(nl, true) ^ LFS) === 0) nl += 4;
      while (nl < end && buf[nl] !== LF) nl++;
      if (nl >= end) break;
      pos = nl + 1;
      continue;
    }
    const start = i + 2;
    let j = start;
    let flags = 0;
    for (; j + 4 <= end; j += 4) {
      const w = dv.getInt32(j, true);
      if (zeroByte(w ^ LFS) !== 0) break;
      if (zeroByte(w ^ PERCENTS) !== 0) flags |= 1;
      if ((w & 0x80808080) !== 0) flags |= 2;
    }
    for (; j < end; j++) {
      c = buf[j]!;
      if (c === LF) break;
      if (c === PERCENT) flags |= 1;
      else if (c >= 0x80) flags |= 2;
    }
    let stop = j;
    if (stop > start && buf[stop - 1] === CR) stop--;
    if (slot === -1) extras.push(pos, i, start, stop, flags);
    else if (stamp[slot] !== generation) {
      stamp[slot] = generation;
      kept++;
      valueStart[slot] = start;
      valueEnd[slot] = stop;
      valueFlags[slot] = flags;
    }
    pos = j + 1;
  }

  // Identity slot 2 is Unique-ID (see IDENTITY_HEADERS).
  let uuid: string | undefined;
  if (stamp[2] === generation) uuid = decodeValue(buf, valueStart[2]!, valueEnd[2]!, valueFlags[2]!);
  let previous = uuid === undefined ? undefined : options.previous?.(uuid);
  if (previous?.selection !== selection) previous = undefined;
  const intern = options.intern;
  let m0 = 0;
  let m1 = 0;
  let m2 = 0;
  let m3 = 0;
  const values = new Array<string>(kept);
  let n = 0;
  const previousRaw = previous?.raw;
  // Wire forms of this event's escaped values (`[slot, raw, …]`), in a reused scratch list.
  const raw = rawScratch;
  raw.length = 0;
  let changedRaw = false;
  for (let slot = 0; slot < stamp.length && n < kept; slot++) {
    if (stamp[slot] !== generation) continue;
    const bit = 1 << (slot & 31);
    if (slot < 32) m0 |= bit;
    else if (slot < 64) m1 |= bit;
    else if (slot < 96) m2 |= bit;
    else m3 |= bit;
    const s = valueStart[slot]!;
    const e = valueEnd[slot]!;
    const flags = valueFlags[slot]!;
    const before = previous?.at(slot);
    if (flags === 0) {
      if (before !== undefined && sameBytes(buf, s, e, before)) {
        values[n++] = before;
        continue;
      }
      // Slot 0 is Event-Name: the parser already made (and shares) that string.
      if (slot === 0 && sameBytes(buf, s, e, ev.eventName)) {
        values[n++] = ev.eventName;
        continue;
      }
      const last = recent[slot];
      if (last !== undefined && sameBytes(buf, s, e, last)) {
        values[n++] = last;
        continue;
      }
    } else {
      // An escaped value (FreeSWITCH escapes `@`, `/`, spaces…): equal wire bytes, equal value.
      const wire = before === undefined ? undefined : rawOf(previousRaw, slot);
      if (wire !== undefined && sameBytes(buf, s, e, wire)) {
        values[n++] = before!;
        raw.push(slot, wire);
        continue;
      }
      changedRaw = true;
      raw.push(slot, buf.latin1Slice(s, e));
    }
    const value = slot === 2 && uuid !== undefined ? uuid : decodeValue(buf, s, e, flags);
    const made = before === value ? before : keep(value, intern, flags === 0);
    if (flags === 0) recent[slot] = made;
    values[n++] = made;
  }
  let prefixed: string[] | undefined;
  if (extras.length > 0) {
    prefixed = [];
    for (let i = 0; i < extras.length; i += 5) {
      const name = selection.nameOf(buf.latin1Slice(extras[i]!, extras[i + 1]!));
      if (hasName(prefixed, name)) continue;
      const value = decodeValue(buf, extras[i + 2]!, extras[i + 3]!, extras[i + 4]!);
      prefixed.push(name, keep(value, intern, extras[i + 4] === 0));
    }
  }
  const compact = new CompactSwitchEvent(selection, [m0, m1, m2, m3], values, prefixed);
  if (raw.length > 0) {
    // Unchanged wire forms: the previous event's list is handed on as it is (no new array kept).
    compact.raw = !changedRaw && previousRaw?.length === raw.length ? previousRaw : raw.slice();
  }
  // Only a leg's latest event needs them.
  if (previous !== undefined) previous.raw = undefined;
  ev.compact = compact;
  return compact;
}

/** Scratch of {@link compactBytes} (events are compacted one at a time). */
const rawScratch: (number | string)[] = [];

/** The wire form of `slot` in a `[slot, raw, …]` list. */
function rawOf(list: (number | string)[] | undefined, slot: number): string | undefined {
  if (list === undefined) return undefined;
  for (let i = 0; i < list.length; i += 2) if (list[i] === slot) return list[i + 1] as string;
  return undefined;
}

/** Bits of a selection's shape-hash table, and the cell value of names sharing a cell. */
const CELL_BITS = 12;
const SHARED_CELL = 255;

/** A name's shape hash: length, first, middle and last character. */
function cellOf(name: string): number {
  const n = name.length;
  const shape =
    (n << 21) ^ (name.charCodeAt(0) << 14) ^ (name.charCodeAt(n >> 1) << 7) ^ name.charCodeAt(n - 1);
  return Math.imul(shape, 0x9e3779b1) >>> (32 - CELL_BITS);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A copy of `value` that does not keep the string it was sliced from alive. V8 makes a substring of
 * 13 characters or more a view into its parent (here: the whole event text); short ones are copies.
 */
function detach(value: string): string {
  return value.length < 13 ? value : (' ' + value).slice(1);
}

/**
 * A detached copy of `value`, shared through `intern` when given. `fresh`: `value` is already a
 * string of its own (made from bytes, not sliced out of an event's text), so it needs no copy.
 */
function keep(value: string, intern: Map<string, string> | undefined, fresh = false): string {
  if (value.length < 13) return value;
  // Timestamps (µs, 16 digits) differ on every event: interning them would only churn the map.
  if (
    intern === undefined ||
    (value.length <= 19 && isDigit(value.charCodeAt(8)) && isDigit(value.charCodeAt(0)))
  ) {
    return fresh ? value : detach(value);
  }
  let copy = intern.get(value);
  if (copy === undefined) {
    copy = fresh ? value : detach(value);
    if (intern.size >= MAX_INTERNED) intern.clear();
    intern.set(copy, copy);
  }
  return copy;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * A compact event: the kept headers of one event and nothing else (no raw text, no body). Values
 * sit in a dense array in slot order, with four presence masks; `get` of a kept name is a map
 * lookup and a popcount. What the router retains per call.
 */
export class CompactSwitchEvent implements SwitchEvent {
  readonly name: string;
  readonly eventName: string;
  readonly subclass: string | undefined;
  readonly uuid: string | undefined;
  readonly timestamp: number | undefined;
  readonly sequence: number | undefined;
  readonly selection: HeaderSelection;
  readonly #m0: number;
  readonly #m1: number;
  readonly #m2: number;
  readonly #m3: number;
  readonly #values: string[];
  /** Prefix-kept headers as `[name, value, …]`, or undefined. */
  readonly #extras: string[] | undefined;
  /**
   * The wire form (latin1 of the bytes) of kept values that needed decoding (`%` escapes, UTF-8), as
   * `[slot, raw, …]`: the leg's next event compares its bytes with these instead of decoding equal
   * values again. Held by a leg's latest event only (handed on, then dropped; see `compactBytes`).
   */
  raw: (number | string)[] | undefined;

  /** Use {@link compactEvent}: `masks` are the presence bits of slots 0–31, 32–63, 64–95, 96–127. */
  constructor(
    selection: HeaderSelection,
    masks: readonly [number, number, number, number],
    values: string[],
    extras: string[] | undefined,
  ) {
    this.selection = selection;
    [this.#m0, this.#m1, this.#m2, this.#m3] = masks;
    this.#values = values;
    this.#extras = extras;
    this.raw = undefined;
    // Identity headers are slots 0–5 (see IDENTITY_HEADERS).
    this.eventName = this.at(0) ?? '';
    this.subclass = this.at(1);
    this.name = this.eventName === CUSTOM && this.subclass !== undefined ? this.subclass : this.eventName;
    this.uuid = this.at(2);
    this.timestamp = toInt(this.at(4));
    this.sequence = toInt(this.at(5));
  }

  get coreUuid(): string | undefined {
    return this.at(3);
  }

  /** Not kept: compact events carry headers only. */
  get body(): undefined {
    return undefined;
  }

  /** The value in `slot` of the selection, or undefined. */
  at(slot: number): string | undefined {
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    const mask = word === 0 ? this.#m0 : word === 1 ? this.#m1 : word === 2 ? this.#m2 : this.#m3;
    if ((mask & bit) === 0) return undefined;
    let index = popcount(mask & (bit - 1));
    if (word > 0) index += popcount(this.#m0);
    if (word > 1) index += popcount(this.#m1);
    if (word > 2) index += popcount(this.#m2);
    return this.#values[index];
  }

  get(name: string): string | undefined {
    const slot = this.selection.slotOf(name);
    if (slot >= 0) return this.at(slot);
    const extras = this.#extras;
    if (extras !== undefined) {
      for (let i = 0; i < extras.length; i += 2) if (extras[i] === name) return extras[i + 1];
    }
    if (!this.selection.keeps(name)) this.selection.noteUnselected(name);
    return undefined;
  }

  /** The kept headers: slots in selection order, then prefix-kept ones. */
  headers(): Record<string, string> {
    const out: Record<string, string> = {};
    const names = this.selection.names;
    for (let slot = 0; slot < names.length; slot++) {
      const value = this.at(slot);
      if (value !== undefined) out[names[slot]!] = value;
    }
    const extras = this.#extras ?? [];
    for (let i = 0; i < extras.length; i += 2) out[extras[i]!] ??= extras[i + 1]!;
    return out;
  }

  toJSON(): Record<string, string> {
    return this.headers();
  }
}

/** Options of {@link compactEvent}. */
export interface CompactOptions {
  /**
   * The previous compact event of the same leg (by `Unique-ID`): values equal to its values are
   * shared instead of copied. Channel events repeat most of their headers, so an open call costs
   * little more than its changing headers.
   */
  previous?: (uuid: string) => CompactSwitchEvent | undefined;
  /**
   * Copies of values shared across events (uuids appear several times per event and on every leg
   * of a call; `Core-UUID` on every event): a value not shared with `previous` is looked up here
   * before it is copied. The caller bounds it (the router clears it past `MAX_INTERNED`).
   */
  intern?: Map<string, string>;
}

/** Entries an intern map may reach before its owner should clear it. */
export const MAX_INTERNED = 16_384;

/**
 * Extracts, in one pass over the header block, the headers `selection` keeps into a
 * {@link CompactSwitchEvent} that holds no reference to the event's text. Anything else is dropped.
 *
 * @example
 * const compact = compactEvent(parseEventPlain(text), new HeaderSelection(['Answer-State']));
 * compact.get('Answer-State');  // as the full event said
 */
export function compactEvent(
  ev: SwitchEvent,
  selection: HeaderSelection,
  options: CompactOptions = {},
): CompactSwitchEvent {
  if (ev instanceof CompactSwitchEvent && ev.selection === selection) return ev;
  if (ev instanceof ByteSwitchEvent) {
    return ev.compact?.selection === selection ? ev.compact : compactBytes(ev, selection, options);
  }
  const scratch = selection.scratch;
  const extras = selection.extras;
  try {
    if (ev instanceof PlainSwitchEvent || ev instanceof MapSwitchEvent)
      ev.collect(selection, scratch, extras);
    else collectGeneric(ev, selection, scratch, extras);
    const uuid = scratch[2];
    let previous = uuid === undefined ? undefined : options.previous?.(uuid);
    if (previous?.selection !== selection) previous = undefined;
    let m0 = 0;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    const values: string[] = [];
    for (let slot = 0; slot < scratch.length; slot++) {
      const value = scratch[slot];
      if (value === undefined) continue;
      const bit = 1 << (slot & 31);
      if (slot < 32) m0 |= bit;
      else if (slot < 64) m1 |= bit;
      else if (slot < 96) m2 |= bit;
      else m3 |= bit;
      const before = previous?.at(slot);
      values.push(before === value ? before : keep(value, options.intern));
    }
    let kept: string[] | undefined;
    if (extras.length > 0) {
      kept = [];
      for (let i = 0; i < extras.length; i += 2) kept.push(extras[i]!, keep(extras[i + 1]!, options.intern));
    }
    return new CompactSwitchEvent(selection, [m0, m1, m2, m3], values, kept);
  } finally {
    scratch.fill(undefined);
    extras.length = 0;
  }
}

/** For any other `SwitchEvent` implementation: through its full header list. */
function collectGeneric(
  ev: SwitchEvent,
  selection: HeaderSelection,
  values: (string | undefined)[],
  extras: string[],
): void {
  const headers = ev.headers();
  for (const name in headers) {
    const slot = selection.slotOf(name);
    if (slot >= 0) values[slot] = headers[name];
    else if (selection.keeps(name)) extras.push(name, headers[name]!);
  }
  // A subclass-named event without the header (hand-made events): keep the name it reports.
  if (values[0] === undefined) values[0] = ev.eventName;
}
