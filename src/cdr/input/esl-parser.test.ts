import { describe, expect, it } from 'vitest';
import { encodeEslFrame, encodeEventJsonFrame, encodeEventPlain, encodeEventPlainFrame } from './encode.js';
import type { EslFrame } from './esl-frame.js';
import { EslParser } from './esl-parser.js';
import type { SwitchEvent } from './switch-event.js';
import { syntheticChannelEvent } from './synthetic.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A comparable summary of a frame (events by name, uuid and one decoded header). */
function summary(frame: EslFrame): string {
  switch (frame.kind) {
    case 'event':
      return `event:${frame.format}:${frame.event.name}:${frame.event.uuid}:${frame.event.get('Caller-Caller-ID-Name')}`;
    case 'command-reply':
      return `reply:${frame.ok}:${frame.replyText}`;
    case 'api-response':
      return `api:${frame.body}`;
    case 'disconnect-notice':
      return `disconnect:${frame.body.length}`;
    case 'rude-rejection':
      return `rude:${frame.body}`;
    case 'other':
      return `other:${frame.contentType}:${frame.body}`;
    case 'parse-error':
      return `error:${frame.error.problem}`;
    case 'auth-request':
      return 'auth';
  }
}

function feedWhole(input: Uint8Array, parser = new EslParser()): string[] {
  return [...parser.push(input), ...parser.end()].map(summary);
}

function feedByteByByte(input: Uint8Array, parser = new EslParser()): string[] {
  const out: EslFrame[] = [];
  for (let i = 0; i < input.length; i++) out.push(...parser.push(input.subarray(i, i + 1)));
  out.push(...parser.end());
  return out.map(summary);
}

/** Deterministic PRNG (mulberry32) so split points are reproducible. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function feedRandomSplits(input: Uint8Array, seed: number, parser = new EslParser()): string[] {
  const random = prng(seed);
  const out: EslFrame[] = [];
  let i = 0;
  while (i < input.length) {
    const n = 1 + Math.floor(random() * 700);
    out.push(...parser.push(input.subarray(i, i + n)));
    i += n;
  }
  out.push(...parser.end());
  return out.map(summary);
}

const DISCONNECT_BODY = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

/** A session as FreeSWITCH sends it: every frame kind the client meets. */
const SESSION =
  encodeEslFrame('auth/request') +
  encodeEslFrame('command/reply', '', { 'Reply-Text': '+OK accepted' }) +
  encodeEslFrame('command/reply', '', { 'Reply-Text': '+OK event listener enabled plain' }) +
  encodeEventPlainFrame(syntheticChannelEvent(0)) +
  encodeEventJsonFrame(syntheticChannelEvent(1)) +
  encodeEventPlainFrame({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': 'j1' }, '+OK Jöb done\n') +
  encodeEslFrame('api/response', '+OK 3 channels\n') +
  encodeEslFrame('log/data', 'a log line\n', { 'Log-Level': '7' }) +
  encodeEslFrame('command/reply', '', { 'Reply-Text': '-ERR invalid' }) +
  encodeEslFrame('text/disconnect-notice', DISCONNECT_BODY, { 'Content-Disposition': 'disconnect' }) +
  encodeEslFrame('text/rude-rejection', 'Access Denied, go away.\n');

const EXPECTED = [
  'auth',
  'reply:true:+OK accepted',
  'reply:true:+OK event listener enabled plain',
  'event:plain:CHANNEL_CREATE:5f03fa00-c803-428e-92cb-000000000000:Helmut Kuper',
  'event:json:CHANNEL_PROGRESS:5f03fa00-c803-428e-92cb-000000000001:Helmut Kuper',
  'event:plain:BACKGROUND_JOB:undefined:undefined',
  'api:+OK 3 channels\n',
  'other:log/data:a log line\n',
  'reply:false:-ERR invalid',
  `disconnect:${DISCONNECT_BODY.length}`,
  'rude:Access Denied, go away.\n',
];

describe('EslParser framing', () => {
  it('parses every frame kind of a session fed at once', () => {
    expect(feedWhole(bytes(SESSION))).toEqual(EXPECTED);
  });

  it('gives the same frames when fed one byte at a time', () => {
    expect(feedByteByByte(bytes(SESSION))).toEqual(EXPECTED);
  });

  it('gives the same frames on arbitrary split points', () => {
    for (let seed = 1; seed <= 50; seed++) expect(feedRandomSplits(bytes(SESSION), seed)).toEqual(EXPECTED);
  });

  it('decodes a UTF-8 body split inside a multi-byte character', () => {
    const frame = bytes(encodeEventPlainFrame({ 'Event-Name': 'MESSAGE' }, 'Grüße — 你好'));
    const parser = new EslParser();
    const out: EslFrame[] = [];
    for (let i = 0; i < frame.length; i++) out.push(...parser.push(frame.subarray(i, i + 1)));
    const event = out[0]?.kind === 'event' ? out[0].event : undefined;
    expect(event?.body).toBe('Grüße — 你好');
  });

  it('keeps the body of an event-plain event (its own Content-Length) apart from its headers', () => {
    const [frame] = new EslParser().push(
      bytes(
        encodeEventPlainFrame(
          { 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': 'j1' },
          'Unique-ID: not-a-header\n',
        ),
      ),
    );
    expect(frame?.kind).toBe('event');
    if (frame?.kind !== 'event') return;
    expect(frame.event.body).toBe('Unique-ID: not-a-header\n');
    expect(frame.event.get('Unique-ID')).toBeUndefined();
    expect(frame.event.get('Job-UUID')).toBe('j1');
  });

  it('tolerates CRLF line ends and blank lines between frames', () => {
    const text =
      '\r\nContent-Type: auth/request\r\n\r\n\n\nContent-Type: command/reply\r\nReply-Text: +OK accepted\r\n\r\n';
    expect(feedWhole(bytes(text))).toEqual(['auth', 'reply:true:+OK accepted']);
    expect(feedByteByByte(bytes(text))).toEqual(['auth', 'reply:true:+OK accepted']);
  });

  it('reads event frames with extra outer headers or CRLF line ends (off the fast path)', () => {
    const body = encodeEventPlain({ 'Event-Name': 'CHANNEL_ANSWER', 'Unique-ID': 'u1' });
    const extra = encodeEslFrame('text/event-plain', body, { 'X-Extra': 'y' });
    const crlf = encodeEslFrame('text/event-plain', body)
      .replace('\n\n', '\r\n\r\n')
      .replace(/\n(?=Content-Type)/, '\r\n');
    const reordered = 'Content-Type: text/event-plain\nContent-Length: ' + body.length + '\n\n' + body;
    const expected = 'event:plain:CHANNEL_ANSWER:u1:undefined';
    expect(feedWhole(bytes(extra + crlf + reordered))).toEqual([expected, expected, expected]);
    expect(feedByteByByte(bytes(extra + crlf + reordered))).toEqual([expected, expected, expected]);
  });

  it('reads a large body arriving in many chunks and releases the buffer afterwards', () => {
    const body = 'x'.repeat(3 * 1024 * 1024);
    const input = bytes(encodeEslFrame('api/response', body));
    const parser = new EslParser();
    const out: EslFrame[] = [];
    for (let i = 0; i < input.length; i += 4096) out.push(...parser.push(input.subarray(i, i + 4096)));
    expect(out).toHaveLength(1);
    expect(out[0]?.kind === 'api-response' && out[0].body.length).toBe(body.length);
    expect(parser.buffered).toBe(0);
  });

  it('reports a stream that ends inside a frame as truncated, and blank leftovers as nothing', () => {
    const parser = new EslParser();
    expect(parser.push(bytes('Content-Length: 10\nContent-Type: api/response\n\nabc'))).toEqual([]);
    expect(parser.end().map(summary)).toEqual(['error:truncated']);
    expect(parser.push(bytes('\n\n')).length).toBe(0);
    expect(parser.end()).toEqual([]);
    // Reusable after end().
    expect(parser.push(bytes('Content-Type: auth/request\n\n')).map(summary)).toEqual(['auth']);
  });
});

const GOOD = encodeEslFrame('command/reply', '', { 'Reply-Text': '+OK good' });
const GOOD_EVENT = encodeEventPlainFrame({ 'Event-Name': 'CHANNEL_ANSWER', 'Unique-ID': 'u-after' });

/** Malformed input, the problem it must be reported as. Each is followed by good frames. */
const MALFORMED: [string, string | Uint8Array, string][] = [
  ['a garbage line before a frame', 'hello world\n', 'bad-header-line'],
  ['binary junk', new Uint8Array([0xff, 0x00, 0xfe, 0x0a]), 'bad-header-line'],
  ['a header name with a space', 'Content-Type: command/reply\nBad Name: x\n\n', 'bad-header-line'],
  [
    'a non-numeric Content-Length',
    'Content-Length: abc\nContent-Type: api/response\n\nsome body\n\n',
    'bad-content-length',
  ],
  ['a negative Content-Length', 'Content-Length: -5\nContent-Type: api/response\n\n', 'bad-content-length'],
  [
    'a bad Content-Length in front of an event body',
    'Content-Length: 1x\nContent-Type: text/event-plain\n\nEvent-Name: CHANNEL_CREATE\nUnique-ID: lost\n\n',
    'bad-content-length',
  ],
  ['a frame without Content-Type', 'Reply-Text: +OK\n\n', 'missing-content-type'],
  [
    'a Content-Length over the limit',
    'Content-Length: 99999999999\nContent-Type: api/response\n\n',
    'too-large',
  ],
  [
    'an event-plain body without Event-Name',
    encodeEslFrame('text/event-plain', 'Unique-ID: x\n\n'),
    'bad-event',
  ],
  ['an event-plain frame without a body', 'Content-Type: text/event-plain\n\n', 'bad-event'],
  ['an event-json body that is not JSON', encodeEslFrame('text/event-json', '{"Event-Name": '), 'bad-event'],
  ['an event-json body that is a list', encodeEslFrame('text/event-json', '["Event-Name"]'), 'bad-event'],
  [
    'an event-json body without Event-Name',
    encodeEslFrame('text/event-json', '{"Unique-ID":"x"}'),
    'bad-event',
  ],
  ['an XML event', encodeEslFrame('text/event-xml', '<event/>'), 'unsupported-format'],
];

describe('EslParser rejects malformed input without losing the next good frame', () => {
  for (const [what, bad, problem] of MALFORMED) {
    const input = new Uint8Array([
      ...(typeof bad === 'string' ? bytes(bad) : bad),
      ...bytes(GOOD + GOOD_EVENT),
    ]);
    const check = (frames: string[]): void => {
      expect(frames[0]).toBe(`error:${problem}`);
      // Follow-up errors are allowed while resynchronising, good frames are not lost.
      expect(frames.filter((f) => !f.startsWith('error:'))).toEqual([
        'reply:true:+OK good',
        'event:plain:CHANNEL_ANSWER:u-after:undefined',
      ]);
    };
    it(`${what} (whole)`, () => check(feedWhole(input, new EslParser({ maxBodyBytes: 1_000_000 }))));
    it(`${what} (byte by byte)`, () =>
      check(feedByteByByte(input, new EslParser({ maxBodyBytes: 1_000_000 }))));
  }

  it('loses only the frame whose first line is glued onto garbage', () => {
    const frames = feedByteByByte(bytes('garbage' + GOOD + GOOD_EVENT));
    expect(frames[0]).toMatch(/^error:/);
    expect(frames.filter((f) => !f.startsWith('error:'))).toEqual([
      'event:plain:CHANNEL_ANSWER:u-after:undefined',
    ]);
  });

  it('rejects a header block over the limit and resynchronises on the next frame', () => {
    const input = bytes('X'.repeat(300) + '\n' + 'Y: z\n'.repeat(100) + GOOD);
    const parser = new EslParser({ maxHeaderBytes: 256 });
    const frames = feedByteByByte(input, parser);
    expect(frames[0]).toBe('error:too-large');
    expect(frames.filter((f) => !f.startsWith('error:'))).toEqual(['reply:true:+OK good']);
  });

  it('gives the byte offset of the bad frame', () => {
    const input = bytes(GOOD + 'Content-Length: x\nContent-Type: api/response\n\n' + GOOD);
    const frames = new EslParser().push(input);
    const error = frames.find((f) => f.kind === 'parse-error');
    expect(error?.kind === 'parse-error' && error.error.offset).toBe(GOOD.length);
    expect(error?.kind === 'parse-error' && error.error.message).toContain(`at byte ${GOOD.length}`);
  });

  it('survives a stream of random bytes and still reads the frame after it', () => {
    const random = prng(7);
    for (let round = 0; round < 20; round++) {
      const junk = new Uint8Array(2000).map(() => Math.floor(random() * 256));
      const input = new Uint8Array([...junk, 10, ...bytes(GOOD)]);
      const frames = feedRandomSplits(input, round);
      expect(frames.filter((f) => !f.startsWith('error:')).at(-1)).toBe('reply:true:+OK good');
    }
  });
});

describe('EslParser event-plain events over the read buffer', () => {
  it('keeps every event readable after later chunks (a buffer an event points into is never reused)', () => {
    const headers = Array.from({ length: 300 }, (_, i) => syntheticChannelEvent(i));
    const big = encodeEventPlainFrame({ 'Event-Name': 'MESSAGE', 'Unique-ID': 'big' }, 'x'.repeat(200_000));
    const input = bytes(headers.map((h) => encodeEventPlainFrame(h)).join('') + big);
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      const parser = new EslParser();
      const events: SwitchEvent[] = [];
      for (let i = 0; i < input.length; ) {
        const n = 1 + Math.floor(random() * (seed === 1 ? 40 : 9000));
        for (const frame of parser.push(input.subarray(i, i + n)))
          if (frame.kind === 'event') events.push(frame.event);
        i += n;
      }
      expect(events).toHaveLength(headers.length + 1);
      headers.forEach((h, i) => {
        const ev = events[i]!;
        for (const [name, value] of Object.entries(h)) expect(ev.get(name)).toBe(value);
      });
      expect(events[headers.length]?.body).toHaveLength(200_000);
    }
  });
});
