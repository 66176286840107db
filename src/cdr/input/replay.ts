/**
 * Replay: switch events from files. One entry point, `readEvents(text, format)`, for the formats
 * operators have at hand: ESL captures (`esl-plain`, `esl-json`), NDJSON, and YAML or JSON lists of
 * header maps. See docs/cdr-inputs.md for each format's exact shape.
 */
import { parse as parseYaml } from 'yaml';
import { EslParser } from './esl-parser.js';
import { EslProtocolError, ReplayFormatError } from './errors.js';
import { eventFromMap, parseEventPlain, type SwitchEvent } from './switch-event.js';

/** Replay file formats. */
export type ReplayFormat = 'esl-plain' | 'esl-json' | 'ndjson' | 'yaml' | 'json';

/** Every replay format, for option parsers and help texts. */
export const REPLAY_FORMATS: readonly ReplayFormat[] = ['esl-plain', 'esl-json', 'ndjson', 'yaml', 'json'];

/** Options of {@link readEvents}. */
export interface ReadEventsOptions {
  /**
   * Called for each entry that is not an event; the entry is skipped and reading goes on. Without
   * it, the first bad entry throws.
   */
  onError?: (error: ReplayFormatError) => void;
}

/**
 * Reads every event of a replay file, in file order.
 *
 * @throws ReplayFormatError for the first bad entry, unless `options.onError` is given.
 * @example
 * const events = readEvents(readFileSync('calls.esl', 'utf8'), 'esl-plain');
 */
export function readEvents(
  text: string,
  format: ReplayFormat,
  options: ReadEventsOptions = {},
): SwitchEvent[] {
  const fail = (error: ReplayFormatError): void => {
    if (options.onError === undefined) throw error;
    options.onError(error);
  };
  // A BOM and Windows line ends come from editors, not from FreeSWITCH.
  const clean = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r\n/g, '\n');
  switch (format) {
    case 'esl-plain':
      return startsWithFrame(clean) ? fromFrames(clean, fail) : fromPlainBlocks(clean, fail);
    case 'esl-json':
      return startsWithFrame(clean) ? fromFrames(clean, fail) : fromJsonStream(clean, fail);
    case 'ndjson':
      return fromNdjson(clean, fail);
    case 'yaml':
      return fromYaml(clean, fail);
    case 'json':
      return fromJsonList(clean, fail);
  }
}

/** The replay format a file name suggests by its extension, if any. */
export function replayFormatFromName(fileName: string): ReplayFormat | undefined {
  const ext = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
  switch (ext) {
    case 'ndjson':
    case 'jsonl':
      return 'ndjson';
    case 'yaml':
    case 'yml':
      return 'yaml';
    case 'json':
      return 'json';
    case 'esl':
    case 'plain':
    case 'log':
    case 'txt':
      return 'esl-plain';
    default:
      return undefined;
  }
}

type Fail = (error: ReplayFormatError) => void;

function startsWithFrame(text: string): boolean {
  const first = text.trimStart();
  return first.startsWith('Content-Type:') || first.startsWith('Content-Length:');
}

/** ESL frames as captured from a socket; frames that are not events (replies, auth) are skipped. */
function fromFrames(text: string, fail: Fail): SwitchEvent[] {
  const parser = new EslParser({ maxBodyBytes: Number.MAX_SAFE_INTEGER });
  const events: SwitchEvent[] = [];
  const frames = parser.push(new TextEncoder().encode(text));
  frames.push(...parser.end());
  for (const frame of frames) {
    if (frame.kind === 'event') events.push(frame.event);
    else if (frame.kind === 'parse-error') {
      const at = frame.error.offset === undefined ? 'frame' : `byte ${frame.error.offset}`;
      fail(new ReplayFormatError(at, frame.error.message));
    }
  }
  return events;
}

/**
 * Bare event-plain blocks separated by blank lines (what `fs_cli` and most logs print). A block with
 * `Content-Length` is followed, after its blank line, by that many bytes of body.
 */
function fromPlainBlocks(text: string, fail: Fail): SwitchEvent[] {
  const events: SwitchEvent[] = [];
  let pos = 0;
  while (pos < text.length) {
    while (pos < text.length && text.charCodeAt(pos) === 10) pos++;
    if (pos >= text.length) break;
    let blockEnd = text.indexOf('\n\n', pos);
    if (blockEnd === -1) blockEnd = text.length;
    const block = text.slice(pos, blockEnd);
    let next = Math.min(text.length, blockEnd + 2);
    const lengthMatch = /(?:^|\n)Content-Length: *(\d+)/.exec(block);
    let source = block + '\n\n';
    if (lengthMatch?.[1] !== undefined) {
      const bodyEnd = advanceUtf8Bytes(text, next, Number(lengthMatch[1]));
      source += text.slice(next, bodyEnd);
      next = bodyEnd;
    }
    try {
      events.push(parseEventPlain(source));
    } catch (err) {
      if (!(err instanceof EslProtocolError)) throw err;
      fail(new ReplayFormatError(`line ${lineOf(text, pos)}`, err.message));
    }
    pos = next;
  }
  return events;
}

/** Index in `text` after `bytes` UTF-8 bytes from `from`. */
function advanceUtf8Bytes(text: string, from: number, bytes: number): number {
  let used = 0;
  let i = from;
  while (i < text.length && used < bytes) {
    const c = text.charCodeAt(i);
    if (c < 0x80) used += 1;
    else if (c < 0x800) used += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      used += 4;
      i++;
    } else used += 3;
    i++;
  }
  return i;
}

function fromNdjson(text: string, fail: Fail): SwitchEvent[] {
  const events: SwitchEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line.length === 0) continue;
    fromValue(() => JSON.parse(line) as unknown, `line ${i + 1}`, events, fail);
  }
  return events;
}

/** Event-json bodies one after another (one per line, or pretty-printed), or a JSON list of them. */
function fromJsonStream(text: string, fail: Fail): SwitchEvent[] {
  if (text.trimStart().startsWith('[')) return fromJsonList(text, fail);
  const events: SwitchEvent[] = [];
  for (const { start, end } of splitJsonObjects(text, fail)) {
    fromValue(
      () => JSON.parse(text.slice(start, end)) as unknown,
      `line ${lineOf(text, start)}`,
      events,
      fail,
    );
  }
  return events;
}

function fromJsonList(text: string, fail: Fail): SwitchEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(new ReplayFormatError('file', `not JSON: ${(err as Error).message}`));
    return [];
  }
  return fromList(parsed, fail);
}

function fromYaml(text: string, fail: Fail): SwitchEvent[] {
  let parsed: unknown;
  try {
    // The failsafe schema keeps every scalar a string: `0123` keeps its leading zero and
    // 16-digit timestamps keep every digit.
    parsed = parseYaml(text, { schema: 'failsafe' });
  } catch (err) {
    fail(new ReplayFormatError('file', `not YAML: ${(err as Error).message}`));
    return [];
  }
  return fromList(parsed, fail);
}

/** A list of header maps, or a map with such a list under `events`. */
function fromList(parsed: unknown, fail: Fail): SwitchEvent[] {
  const list =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'events' in parsed
      ? (parsed as { events: unknown }).events
      : parsed;
  if (!Array.isArray(list)) {
    fail(new ReplayFormatError('file', 'expected a list of events (or a map with an `events` list)'));
    return [];
  }
  const events: SwitchEvent[] = [];
  list.forEach((entry, i) => {
    fromValue(() => entry, `entry ${i + 1}`, events, fail);
  });
  return events;
}

function fromValue(read: () => unknown, location: string, events: SwitchEvent[], fail: Fail): void {
  try {
    events.push(eventFromMap(read()));
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof EslProtocolError) {
      fail(new ReplayFormatError(location, err.message));
      return;
    }
    throw err;
  }
}

/** Spans of top-level `{…}` values in a stream of JSON objects (strings and escapes respected). */
function splitJsonObjects(text: string, fail: Fail): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped char
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123) {
      if (depth === 0) start = i;
      depth++;
    } else if (c === 125 && depth > 0) {
      depth--;
      if (depth === 0) spans.push({ start, end: i + 1 });
    } else if (depth === 0 && c !== 32 && c !== 10 && c !== 9 && c !== 13) {
      fail(new ReplayFormatError(`line ${lineOf(text, i)}`, 'text between JSON events'));
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl;
    }
  }
  if (depth > 0) fail(new ReplayFormatError(`line ${lineOf(text, start)}`, 'unterminated JSON event'));
  return spans;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
