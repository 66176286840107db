/**
 * The ESL byte-level parser: turns a stream of byte chunks, split anywhere, into `EslFrame`s. It
 * knows nothing of sockets. A frame is a block of `Name: value` header lines ended by a blank line,
 * then `Content-Length` bytes of body; `Content-Type` says what the body is.
 *
 * Malformed bytes become a `parse-error` frame and the parser resynchronises on the next line that
 * starts a frame (`Content-Type:` or `Content-Length:`), so one bad frame never costs the next good one.
 */
import type { EslFrame, EslHeaders } from './esl-frame.js';
import { EslProtocolError, type EslProtocolProblem } from './errors.js';
import { parseEventJson, parseEventPlain, parseEventPlainBytes, type ReadBuffer } from './switch-event.js';

/** Parser limits. */
export interface EslParserOptions {
  /** Largest header block accepted, in bytes (default 64 KiB). */
  maxHeaderBytes?: number;
  /** Largest body accepted, in bytes (default 16 MiB). */
  maxBodyBytes?: number;
}

const LF = 10;
const CR = 13;
const INITIAL_CAPACITY = 64 * 1024;
/** After a large frame, a buffer bigger than this is dropped once empty so its memory is released. */
const SHRINK_ABOVE = 1024 * 1024;
const utf8 = new TextDecoder();
const newBuffer = (size: number): ReadBuffer => Buffer.allocUnsafe(size) as ReadBuffer;
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const FRAME_STARTS = ['Content-Type:', 'Content-Length:'].map(ascii);
const LENGTH_PREFIX = ascii('Content-Length: ');
const TYPE_PREFIX = ascii('Content-Type: ');
const EVENT_TYPES = ['text/event-plain', 'text/event-json'] as const;
const EVENT_TYPE_BYTES = EVENT_TYPES.map(ascii);
/** Event frames carry no outer header anyone reads. */
const NO_HEADERS: EslHeaders = Object.freeze({});

/** A parsed header block waiting for its body. */
interface PendingBody {
  contentType: string;
  headers: EslHeaders;
  length: number;
  /** Stream offset of the frame's first byte. */
  offset: number;
}

/**
 * Incremental ESL frame parser.
 *
 * @example
 * const parser = new EslParser();
 * for await (const chunk of socket) for (const frame of parser.push(chunk)) handle(frame);
 */
export class EslParser {
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;
  #buf = newBuffer(INITIAL_CAPACITY);
  /**
   * Events handed out point into `#buf` (event-plain events are read lazily from the frame bytes):
   * from then on bytes before `#end` are never written again; new data goes after them, or into a
   * new buffer.
   */
  #shared = false;
  /** First unconsumed byte, and end of the data, as indexes into `#buf`. */
  #start = 0;
  #end = 0;
  /** Stream offset of `#buf[0]`. */
  #base = 0;
  /** Stream offset from which to go on looking for the blank line (so byte-by-byte input stays linear). */
  #scanFrom = 0;
  #pending: PendingBody | undefined;
  /** True after an error, until a line that starts a frame is found. */
  #syncing = false;
  /** While syncing: `#start` is in the middle of a line, not at its start. */
  #midLine = false;

  constructor(options: EslParserOptions = {}) {
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
    this.#maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Feeds one chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): EslFrame[] {
    this.#append(chunk);
    const out: EslFrame[] = [];
    while (this.#step(out)) {
      // each step consumed a frame, an error or a skipped line
    }
    if (this.#start === this.#end) this.#reset();
    return out;
  }

  /**
   * Declares the end of the stream: anything but blank lines still buffered is a truncated frame and
   * comes back as a `parse-error`. The parser is then empty and can be reused.
   */
  end(): EslFrame[] {
    const out: EslFrame[] = [];
    let s = this.#start;
    while (s < this.#end && (this.#buf[s] === LF || this.#buf[s] === CR)) s++;
    if ((s < this.#end && !this.#syncing) || this.#pending !== undefined) {
      out.push(this.#error('truncated', `stream ended inside a frame (${this.#end - s} bytes left)`, s));
    }
    this.#start = this.#end;
    this.#pending = undefined;
    this.#syncing = false;
    this.#midLine = false;
    this.#reset();
    return out;
  }

  #reset(): void {
    if (this.#shared && this.#buf.length <= SHRINK_ABOVE) return; // go on appending after `#end`
    this.#base += this.#end;
    this.#start = 0;
    this.#end = 0;
    if (this.#shared || this.#buf.length > SHRINK_ABOVE) {
      this.#buf = newBuffer(INITIAL_CAPACITY);
      this.#shared = false;
    }
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      // Compact first; grow only if the live data plus the chunk still does not fit.
      const live = this.#end - this.#start;
      if (this.#shared || live + chunk.length > this.#buf.length) {
        // A shared buffer is left to the events pointing into it: start a new one of the usual size.
        const size = this.#shared
          ? Math.max(INITIAL_CAPACITY, live + chunk.length)
          : Math.max(this.#buf.length * 2, live + chunk.length);
        const grown = newBuffer(size);
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
        this.#shared = false;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#base += this.#start;
      this.#end = live;
      this.#start = 0;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Makes one unit of progress; false when more input is needed. */
  #step(out: EslFrame[]): boolean {
    if (this.#pending !== undefined) return this.#takeBody(this.#pending, out);
    if (this.#syncing) return this.#sync();
    const buf = this.#buf;
    const end = this.#end;
    // Blank lines between frames are tolerated.
    let s = this.#start;
    while (s < end) {
      if (buf[s] === LF) s++;
      else if (buf[s] === CR && s + 1 < end && buf[s + 1] === LF) s += 2;
      else break;
    }
    this.#start = s;
    if (s >= end) return false;

    // Find the blank line that ends the header block.
    let from = Math.max(s, this.#scanFrom - this.#base);
    let blockEnd = -1;
    let next = -1;
    for (;;) {
      const nl = buf.indexOf(LF, from);
      if (nl === -1 || nl >= end) {
        from = end;
        break;
      }
      if (nl + 1 >= end) {
        from = nl;
        break;
      }
      const b = buf[nl + 1];
      if (b === LF) {
        blockEnd = nl;
        next = nl + 2;
        break;
      }
      if (b === CR) {
        if (nl + 2 >= end) {
          from = nl;
          break;
        }
        if (buf[nl + 2] === LF) {
          blockEnd = nl;
          next = nl + 3;
          break;
        }
      }
      from = nl + 1;
    }
    if (blockEnd === -1) {
      this.#scanFrom = this.#base + from;
      if (end - s > this.#maxHeaderBytes) {
        this.#failAndSkip(out, 'too-large', `header block longer than ${this.#maxHeaderBytes} bytes`, s, s);
        return true;
      }
      return false;
    }
    return this.#takeHeaders(s, blockEnd, next, out);
  }

  /** Parses the header block `[s, blockEnd)`; `next` is the first byte after the blank line. */
  #takeHeaders(s: number, blockEnd: number, next: number, out: EslFrame[]): boolean {
    if (this.#takeEventHeaders(s, blockEnd, next)) return true;
    const text = latin1(this.#buf, s, blockEnd);
    const headers: Record<string, string> = {};
    let lineStart = 0;
    while (lineStart <= text.length) {
      let lineEnd = text.indexOf('\n', lineStart);
      if (lineEnd === -1) lineEnd = text.length;
      const lineStop = text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
      const colon = text.indexOf(':', lineStart);
      const name = colon > lineStart && colon < lineStop ? text.slice(lineStart, colon) : '';
      if (name.length === 0 || name.includes(' ')) {
        // Skip only up to the bad line: what follows it may be a good frame.
        const line = text.slice(lineStart, lineStop);
        this.#failAndSkip(out, 'bad-header-line', `not a header line: ${quote(line)}`, s, s + lineEnd);
        return true;
      }
      if (!(name in headers)) headers[name] = text.slice(colon + 1, lineStop).trimStart();
      lineStart = lineEnd + 1;
    }

    const contentType = headers['Content-Type'];
    if (contentType === undefined) {
      this.#failAndSkip(out, 'missing-content-type', 'frame without Content-Type', s, next - 1);
      return true;
    }
    let length = 0;
    const rawLength = headers['Content-Length'];
    if (rawLength !== undefined) {
      if (!/^\d{1,15}$/.test(rawLength)) {
        this.#failAndSkip(out, 'bad-content-length', `bad Content-Length ${quote(rawLength)}`, s, next - 1);
        return true;
      }
      length = Number(rawLength);
      if (length > this.#maxBodyBytes) {
        this.#failAndSkip(
          out,
          'too-large',
          `Content-Length ${length} is over the limit of ${this.#maxBodyBytes} bytes`,
          s,
          next - 1,
        );
        return true;
      }
    }
    const offset = this.#base + s;
    this.#start = next;
    this.#scanFrom = 0;
    if (length === 0) {
      out.push(this.#frame(contentType, headers, '', offset));
      return true;
    }
    this.#pending = { contentType, headers, length, offset };
    return true;
  }

  /**
   * Fast path for the frame that is 99.9% of the traffic, read straight from the bytes:
   * `Content-Length: <n>\nContent-Type: text/event-plain|json` and nothing else. False when the
   * block has any other shape (the general path then handles it, errors included).
   */
  #takeEventHeaders(s: number, blockEnd: number, next: number): boolean {
    const buf = this.#buf;
    if (!startsWithBytes(buf, s, blockEnd, LENGTH_PREFIX)) return false;
    let i = s + LENGTH_PREFIX.length;
    let length = 0;
    const digitsStart = i;
    for (; i < blockEnd && i - digitsStart < 15; i++) {
      const c = buf[i] ?? 0;
      if (c < 48 || c > 57) break;
      length = length * 10 + (c - 48);
    }
    if (i === digitsStart || buf[i] !== LF || length > this.#maxBodyBytes || length === 0) return false;
    i++;
    if (!startsWithBytes(buf, i, blockEnd, TYPE_PREFIX)) return false;
    i += TYPE_PREFIX.length;
    let stop = blockEnd;
    if (buf[stop - 1] === CR) stop--;
    for (let t = 0; t < EVENT_TYPE_BYTES.length; t++) {
      const type = EVENT_TYPE_BYTES[t];
      if (type !== undefined && stop - i === type.length && startsWithBytes(buf, i, stop, type)) {
        const contentType = EVENT_TYPES[t] ?? 'text/event-plain';
        this.#pending = { contentType, headers: NO_HEADERS, length, offset: this.#base + s };
        this.#start = next;
        this.#scanFrom = 0;
        return true;
      }
    }
    return false;
  }

  #takeBody(pending: PendingBody, out: EslFrame[]): boolean {
    if (this.#end - this.#start < pending.length) return false;
    if (pending.contentType === 'text/event-plain') {
      // No text for the event: it reads its headers from the frame bytes.
      const start = this.#start;
      this.#start += pending.length;
      this.#pending = undefined;
      this.#shared = true;
      try {
        const event = parseEventPlainBytes(this.#buf, start, start + pending.length);
        out.push({ kind: 'event', format: 'plain', event });
      } catch (err) {
        if (!(err instanceof EslProtocolError)) throw err;
        out.push({
          kind: 'parse-error',
          error: new EslProtocolError(err.problem, err.message, pending.offset),
        });
      }
      return true;
    }
    const body = utf8.decode(this.#buf.subarray(this.#start, this.#start + pending.length));
    this.#start += pending.length;
    this.#pending = undefined;
    out.push(this.#frame(pending.contentType, pending.headers, body, pending.offset));
    return true;
  }

  #frame(contentType: string, headers: EslHeaders, body: string, offset: number): EslFrame {
    switch (contentType) {
      case 'text/event-plain':
      case 'text/event-json':
        try {
          const event = contentType === 'text/event-plain' ? parseEventPlain(body) : parseEventJson(body);
          return { kind: 'event', format: contentType === 'text/event-plain' ? 'plain' : 'json', event };
        } catch (err) {
          if (!(err instanceof EslProtocolError)) throw err;
          return { kind: 'parse-error', error: new EslProtocolError(err.problem, err.message, offset) };
        }
      case 'text/event-xml':
        return {
          kind: 'parse-error',
          error: new EslProtocolError('unsupported-format', 'text/event-xml is not supported', offset),
        };
      case 'auth/request':
        return { kind: 'auth-request' };
      case 'command/reply': {
        const replyText = headers['Reply-Text'] ?? '';
        return { kind: 'command-reply', ok: replyText.startsWith('+OK'), replyText, headers };
      }
      case 'api/response':
        return { kind: 'api-response', body };
      case 'text/disconnect-notice':
        return { kind: 'disconnect-notice', body, headers };
      case 'text/rude-rejection':
        return { kind: 'rude-rejection', body };
      default:
        return { kind: 'other', contentType, headers, body };
    }
  }

  /** Reports a bad frame starting at `s`, drops the bytes up to `skipTo` and looks for the next frame. */
  #failAndSkip(
    out: EslFrame[],
    problem: EslProtocolProblem,
    message: string,
    s: number,
    skipTo: number,
  ): void {
    out.push(this.#error(problem, message, s));
    // Move to the line after `skipTo` (which is a newline, or the start of an over-long line).
    const nl = this.#buf.indexOf(LF, skipTo);
    const found = nl !== -1 && nl < this.#end;
    this.#start = found ? nl + 1 : this.#end;
    // Without a newline we dropped part of a line: the sync must not take its rest for a line start.
    this.#midLine = !found;
    this.#scanFrom = 0;
    this.#syncing = true;
  }

  #error(problem: EslProtocolProblem, message: string, s: number): EslFrame {
    return { kind: 'parse-error', error: new EslProtocolError(problem, message, this.#base + s) };
  }

  /** Skips whole lines until one starts a frame; false when more input is needed. */
  #sync(): boolean {
    const buf = this.#buf;
    const end = this.#end;
    let s = this.#start;
    for (;;) {
      if (this.#midLine) {
        const nl = buf.indexOf(LF, s);
        if (nl === -1 || nl >= end) {
          this.#start = end;
          return false;
        }
        s = nl + 1;
        this.#midLine = false;
      }
      if (s >= end) {
        this.#start = end;
        return false;
      }
      const match = matchFrameStart(buf, s, end);
      if (match === 'yes') {
        this.#start = s;
        this.#syncing = false;
        return true;
      }
      if (match === 'need-more') {
        this.#start = s;
        return false;
      }
      this.#midLine = true;
    }
  }
}

/** Whether `buf[s, end)` starts with `prefix`. */
function startsWithBytes(buf: Uint8Array, s: number, end: number, prefix: Uint8Array): boolean {
  if (end - s < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[s + i] !== prefix[i]) return false;
  return true;
}

/** Whether the line at `s` starts with `Content-Type:` or `Content-Length:`. */
function matchFrameStart(buf: Uint8Array, s: number, end: number): 'yes' | 'no' | 'need-more' {
  let result: 'yes' | 'no' | 'need-more' = 'no';
  for (const prefix of FRAME_STARTS) {
    let i = 0;
    while (i < prefix.length && s + i < end && buf[s + i] === prefix[i]) i++;
    if (i === prefix.length) return 'yes';
    if (s + i >= end) result = 'need-more';
  }
  return result;
}

/** Bytes as one char each (header blocks are ASCII; anything else must not shift offsets). */
function latin1(buf: Uint8Array, from: number, to: number): string {
  if (to - from <= 4096)
    return String.fromCharCode.apply(null, buf.subarray(from, to) as unknown as number[]);
  let out = '';
  for (let i = from; i < to; i += 4096) {
    out += String.fromCharCode.apply(null, buf.subarray(i, Math.min(to, i + 4096)) as unknown as number[]);
  }
  return out;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text);
}
