import { describe, expect, it } from 'vitest';
import {
  encodeEslFrame,
  encodeEventJson,
  encodeEventJsonFrame,
  encodeEventPlain,
  encodeEventPlainFrame,
} from './encode.js';
import { ReplayFormatError } from './errors.js';
import { readEvents, replayFormatFromName } from './replay.js';
import type { SwitchEvent } from './switch-event.js';
import { syntheticChannelEvent } from './synthetic.js';

const EVENTS = [0, 1, 2, 3].map((i) => syntheticChannelEvent(i));
const names = (events: SwitchEvent[]): string[] => events.map((e) => `${e.name}/${e.sequence}`);
const EXPECTED = EVENTS.map((h) => `${h['Event-Name']}/${h['Event-Sequence']}`);

function collect(
  text: string,
  format: Parameters<typeof readEvents>[1],
): { events: string[]; errors: string[] } {
  const errors: string[] = [];
  const events = readEvents(text, format, { onError: (e) => errors.push(e.message) });
  return { events: names(events), errors };
}

describe('readEvents esl-plain', () => {
  it('reads an ESL capture (frames), skipping replies and auth frames', () => {
    const text =
      encodeEslFrame('auth/request') +
      encodeEslFrame('command/reply', '', { 'Reply-Text': '+OK accepted' }) +
      EVENTS.map((h) => encodeEventPlainFrame(h)).join('');
    expect(collect(text, 'esl-plain')).toEqual({ events: EXPECTED, errors: [] });
  });

  it('reads bare event-plain blocks separated by blank lines, with bodies and extra blank lines', () => {
    const text =
      '\n\n' +
      encodeEventPlain(EVENTS[0] ?? {}) +
      '\n\n\n' +
      encodeEventPlain({ 'Event-Name': 'BACKGROUND_JOB', 'Event-Sequence': '5' }, 'line1\n\nline3 ü\n') +
      EVENTS.slice(1)
        .map((h) => encodeEventPlain(h))
        .join('');
    const events = readEvents(text, 'esl-plain');
    expect(names(events)).toEqual([EXPECTED[0], 'BACKGROUND_JOB/5', ...EXPECTED.slice(1)]);
    expect(events[1]?.body).toBe('line1\n\nline3 ü\n');
    expect(events[0]?.get('variable_effective_caller_id_name')).toBe('Müller & Söhne');
  });

  it('tolerates CRLF line ends and a BOM', () => {
    const text =
      '\ufeff' +
      EVENTS.map((h) => encodeEventPlain(h))
        .join('')
        .replace(/\n/g, '\r\n');
    expect(collect(text, 'esl-plain').events).toEqual(EXPECTED);
  });

  it('reports a bad block with its line and goes on', () => {
    const text =
      encodeEventPlain(EVENTS[0] ?? {}) + 'Unique-ID: no-name\n\n' + encodeEventPlain(EVENTS[1] ?? {});
    const lines = encodeEventPlain(EVENTS[0] ?? {}).split('\n').length;
    const { events, errors } = collect(text, 'esl-plain');
    expect(events).toEqual(EXPECTED.slice(0, 2));
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^line ${lines}: .*no Event-Name`))]);
  });

  it('reports a bad frame in a capture with its byte offset', () => {
    const first = encodeEventPlainFrame(EVENTS[0] ?? {});
    const text =
      first +
      'Content-Length: x\nContent-Type: text/event-plain\n\n' +
      encodeEventPlainFrame(EVENTS[1] ?? {});
    const { events, errors } = collect(text, 'esl-plain');
    expect(events).toEqual(EXPECTED.slice(0, 2));
    expect(errors[0]).toMatch(new RegExp(`^byte ${first.length}: bad Content-Length`));
  });

  it('throws the first bad entry as a ReplayFormatError without onError', () => {
    expect(() => readEvents('Unique-ID: x\n\n', 'esl-plain')).toThrow(ReplayFormatError);
  });
});

describe('readEvents esl-json', () => {
  it('reads a capture of event-json frames', () => {
    const text = EVENTS.map((h) => encodeEventJsonFrame(h)).join('');
    expect(collect(text, 'esl-json')).toEqual({ events: EXPECTED, errors: [] });
  });

  it('reads event-json bodies one after another, pretty-printed or not', () => {
    const text = EVENTS.map((h, i) => (i % 2 ? JSON.stringify(h, null, 2) : encodeEventJson(h))).join('\n');
    expect(collect(text, 'esl-json')).toEqual({ events: EXPECTED, errors: [] });
  });

  it('reads braces inside strings correctly and reports stray text', () => {
    const text = `{"Event-Name":"A","x":"}{\\""}\nstray\n{"Event-Name":"B"}`;
    const { events, errors } = collect(text, 'esl-json');
    expect(events).toEqual(['A/undefined', 'B/undefined']);
    expect(errors).toEqual(['line 2: text between JSON events']);
  });
});

describe('readEvents ndjson, json and yaml', () => {
  it('reads NDJSON, skipping blank lines and reporting bad lines by number', () => {
    const lines = EVENTS.map((h) => JSON.stringify(h));
    const text = [lines[0], '', 'not json', lines[1], '[1]', lines[2], lines[3], ''].join('\n');
    const { events, errors } = collect(text, 'ndjson');
    expect(events).toEqual(EXPECTED);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^line 3: /);
    expect(errors[1]).toMatch(/^line 5: .*got an array/);
  });

  it('reads a JSON list, or a map with an events list', () => {
    expect(collect(JSON.stringify(EVENTS), 'json').events).toEqual(EXPECTED);
    expect(collect(JSON.stringify({ events: EVENTS }), 'json').events).toEqual(EXPECTED);
    expect(collect('{"nope": 1}', 'json').errors).toEqual([expect.stringMatching(/^file: expected a list/)]);
    expect(collect('[', 'json').errors).toEqual([expect.stringMatching(/^file: not JSON/)]);
  });

  it('reads YAML header maps keeping every value a string as written', () => {
    const text = `
events:
  - Event-Name: CHANNEL_CREATE
    Unique-ID: a-1
    Event-Date-Timestamp: 1292937714788536
    Caller-Destination-Number: 0123
    Caller-Screen-Bit: true
  - Event-Name: CUSTOM
    Event-Subclass: "callcenter::info"
    CC-Action: member-queue-start
  - Unique-ID: no-name
`;
    const errors: string[] = [];
    const events = readEvents(text, 'yaml', { onError: (e) => errors.push(e.message) });
    expect(events.map((e) => e.name)).toEqual(['CHANNEL_CREATE', 'callcenter::info']);
    expect(events[0]?.get('Caller-Destination-Number')).toBe('0123');
    expect(events[0]?.get('Caller-Screen-Bit')).toBe('true');
    expect(events[0]?.timestamp).toBe(1292937714788536);
    expect(errors).toEqual([expect.stringMatching(/^entry 3: .*no Event-Name/)]);
  });

  it('reports a YAML syntax error for the file', () => {
    expect(() => readEvents('- a: [\n', 'yaml')).toThrow(/^file: not YAML/);
  });

  it('gives the same events from every format', () => {
    const plain = names(readEvents(EVENTS.map((h) => encodeEventPlain(h)).join(''), 'esl-plain'));
    const json = names(readEvents(JSON.stringify(EVENTS), 'json'));
    const nd = names(readEvents(EVENTS.map((h) => JSON.stringify(h)).join('\n'), 'ndjson'));
    expect(plain).toEqual(EXPECTED);
    expect(json).toEqual(EXPECTED);
    expect(nd).toEqual(EXPECTED);
  });
});

describe('replayFormatFromName', () => {
  it('maps file extensions to formats', () => {
    expect(replayFormatFromName('calls.ndjson')).toBe('ndjson');
    expect(replayFormatFromName('x.JSONL')).toBe('ndjson');
    expect(replayFormatFromName('s.yml')).toBe('yaml');
    expect(replayFormatFromName('s.json')).toBe('json');
    expect(replayFormatFromName('dump.esl')).toBe('esl-plain');
    expect(replayFormatFromName('noext')).toBeUndefined();
  });
});
