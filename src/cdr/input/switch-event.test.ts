import { describe, expect, it } from 'vitest';
import { encodeEventJson, encodeEventPlain } from './encode.js';
import { EslProtocolError } from './errors.js';
import {
  type CompactSwitchEvent,
  compactEvent,
  eventFromMap,
  HeaderSelection,
  parseEventJson,
  parseEventPlain,
  parseEventPlainBytes,
  type ReadBuffer,
  type SwitchEvent,
} from './switch-event.js';
import { syntheticChannelEvent } from './synthetic.js';

/** The seed's CHANNEL_CALLSTATE event body (trimmed), as FreeSWITCH writes it. */
const SEED_EVENT = `Event-Name: CHANNEL_CALLSTATE
Core-UUID: f852daae-6da9-4979-8dc8-fa11651a7891
FreeSWITCH-IPv6: %3A%3A1
Event-Date-Local: 2010-12-21%2014%3A21%3A54
Event-Date-Timestamp: 1292937714788536
Event-Sequence: 4711
Channel-Name: sofia/internal_et/8000%40sipdomain.de
Unique-ID: 005f03fa-c803-428e-92cb-10534ac780dd
Caller-Caller-ID-Name: Helmut%20Kuper
Caller-Caller-ID-Number: 8000
Caller-Destination-Number: ***6
Caller-Unique-ID: 005f03fa-c803-428e-92cb-10534ac780dd
Caller-Screen-Bit: true

`;

describe('SwitchEvent from event-plain', () => {
  it('exposes name, uuid, core uuid, µs timestamp and sequence of the seed event', () => {
    const ev = parseEventPlain(SEED_EVENT);
    expect(ev.name).toBe('CHANNEL_CALLSTATE');
    expect(ev.eventName).toBe('CHANNEL_CALLSTATE');
    expect(ev.subclass).toBeUndefined();
    expect(ev.uuid).toBe('005f03fa-c803-428e-92cb-10534ac780dd');
    expect(ev.coreUuid).toBe('f852daae-6da9-4979-8dc8-fa11651a7891');
    expect(ev.timestamp).toBe(1292937714788536);
    expect(ev.sequence).toBe(4711);
    expect(ev.body).toBeUndefined();
  });

  it('URL-decodes header values when asked', () => {
    const ev = parseEventPlain(SEED_EVENT);
    expect(ev.get('Caller-Caller-ID-Name')).toBe('Helmut Kuper');
    expect(ev.get('Channel-Name')).toBe('sofia/internal_et/8000@sipdomain.de');
    expect(ev.get('FreeSWITCH-IPv6')).toBe('::1');
    expect(ev.get('Caller-Destination-Number')).toBe('***6');
    // Asking twice gives the same value.
    expect(ev.get('Event-Date-Local')).toBe('2010-12-21 14:21:54');
    expect(ev.get('Event-Date-Local')).toBe('2010-12-21 14:21:54');
  });

  it('matches whole header names only (no prefix or suffix confusion)', () => {
    const ev = parseEventPlain(SEED_EVENT);
    expect(ev.get('Caller-ID-Name')).toBeUndefined();
    expect(ev.get('Name')).toBeUndefined();
    expect(ev.get('Event')).toBeUndefined();
    expect(ev.get('Caller-Unique-ID')).toBe('005f03fa-c803-428e-92cb-10534ac780dd');
    expect(ev.get('Caller-Screen-Bit')).toBe('true'); // the last header
    expect(ev.get('Event-Name')).toBe('CHANNEL_CALLSTATE'); // the first header
    expect(ev.get('unique-id')).toBeUndefined(); // names are case-sensitive
  });

  it('names CUSTOM events by their subclass', () => {
    const ev = parseEventPlain(
      encodeEventPlain({
        'Event-Name': 'CUSTOM',
        'Event-Subclass': 'callcenter::info',
        'CC-Action': 'agent-offering',
      }),
    );
    expect(ev.name).toBe('callcenter::info');
    expect(ev.eventName).toBe('CUSTOM');
    expect(ev.subclass).toBe('callcenter::info');
    expect(ev.get('CC-Action')).toBe('agent-offering');
  });

  it('gives undefined timestamp and sequence for garbage values instead of failing', () => {
    const ev = parseEventPlain('Event-Name: X\nEvent-Date-Timestamp: soon\nEvent-Sequence: -1\n\n');
    expect(ev.timestamp).toBeUndefined();
    expect(ev.sequence).toBeUndefined();
    expect(ev.uuid).toBeUndefined();
  });

  it('keeps a body after its own Content-Length, never reading headers out of it', () => {
    const ev = parseEventPlain(
      encodeEventPlain({ 'Event-Name': 'MESSAGE', To: 'a' }, 'Event-Name: fake\nTo: b\n'),
    );
    expect(ev.name).toBe('MESSAGE');
    expect(ev.get('To')).toBe('a');
    expect(ev.body).toBe('Event-Name: fake\nTo: b\n');
  });

  it('cuts a body to its Content-Length in UTF-8 bytes', () => {
    // G(1) r(1) ü(2) ß(2) = 6 bytes; 5 bytes cannot hold the ß.
    expect(parseEventPlain('Event-Name: MESSAGE\nContent-Length: 6\n\nGrüße').body).toBe('Grüß');
    expect(parseEventPlain('Event-Name: MESSAGE\nContent-Length: 5\n\nGrüße').body).toBe('Grü');
  });

  it('finds Event-Name anywhere in the header block, not only first', () => {
    const ev = parseEventPlain('Core-UUID: c\nEvent-Name: CUSTOM\nEvent-Subclass: fifo%3A%3Ainfo\n\n');
    expect(ev.name).toBe('fifo::info');
    expect(ev.coreUuid).toBe('c');
  });

  it('never takes a header from the body, whatever order headers are asked in', () => {
    const text = encodeEventPlain({ 'Event-Name': 'MESSAGE', A: '1', B: '2' }, 'C: body\nA: body\n');
    const ev = parseEventPlain(text);
    expect(ev.get('B')).toBe('2');
    expect(ev.get('C')).toBeUndefined();
    expect(ev.get('A')).toBe('1');
    expect(ev.get('C')).toBeUndefined();
    const fresh = parseEventPlain(text);
    expect(fresh.get('C')).toBeUndefined();
    expect(fresh.body).toBe('C: body\nA: body\n');
    expect(fresh.get('C')).toBeUndefined();
  });

  it('lists every header, decoded, in wire order', () => {
    const headers = syntheticChannelEvent(3);
    const ev = parseEventPlain(encodeEventPlain(headers));
    expect(ev.headers()).toEqual(headers);
    expect(Object.keys(ev.headers())).toEqual(Object.keys(headers));
  });

  it('rejects a body without Event-Name with a clear error', () => {
    expect(() => parseEventPlain('Unique-ID: x\n\n')).toThrow(EslProtocolError);
    expect(() => parseEventPlain('')).toThrow(/no Event-Name/);
  });

  it('round-trips every synthetic event through encode and parse', () => {
    for (let i = 0; i < 16; i++) {
      const headers = syntheticChannelEvent(i);
      const ev = parseEventPlain(encodeEventPlain(headers));
      for (const [name, value] of Object.entries(headers)) expect(ev.get(name)).toBe(value);
    }
  });
});

describe('SwitchEvent from header maps (event-json, NDJSON, YAML)', () => {
  it('reads event-json with _body, and the same derived fields', () => {
    const ev = parseEventJson(
      encodeEventJson(
        {
          'Event-Name': 'CUSTOM',
          'Event-Subclass': 'vm::maintenance',
          'Unique-ID': 'u',
          'Event-Sequence': '9',
        },
        'body',
      ),
    );
    expect(ev.name).toBe('vm::maintenance');
    expect(ev.uuid).toBe('u');
    expect(ev.sequence).toBe(9);
    expect(ev.body).toBe('body');
    expect(ev.get('_body')).toBeUndefined();
    expect(ev.get('toString')).toBeUndefined(); // no prototype leaks
  });

  it('turns numbers, booleans and arrays into FreeSWITCH strings and drops nulls', () => {
    const ev = eventFromMap({
      'Event-Name': 'CHANNEL_HANGUP_COMPLETE',
      'Event-Date-Timestamp': 1292937714788536,
      'Caller-Screen-Bit': true,
      variable_transfer_history: ['1:a:bl_xfer:1000/default/XML', '2:b:uuid_br:c'],
      variable_gone: null,
    });
    expect(ev.timestamp).toBe(1292937714788536);
    expect(ev.get('Caller-Screen-Bit')).toBe('true');
    expect(ev.get('variable_transfer_history')).toBe('ARRAY::1:a:bl_xfer:1000/default/XML|:2:b:uuid_br:c');
    expect(ev.get('variable_gone')).toBeUndefined();
  });

  it('rejects values that are not events', () => {
    expect(() => eventFromMap([1])).toThrow(/object of headers, got an array/);
    expect(() => eventFromMap(null)).toThrow(EslProtocolError);
    expect(() => eventFromMap({ 'Unique-ID': 'x' })).toThrow(/no Event-Name/);
    expect(() => parseEventJson('{')).toThrow(/not JSON/);
  });

  it('serialises to the event-json shape', () => {
    const ev = parseEventPlain(encodeEventPlain({ 'Event-Name': 'MESSAGE', A: 'b c' }, 'hi'));
    expect(JSON.parse(JSON.stringify(ev))).toEqual({
      'Event-Name': 'MESSAGE',
      A: 'b c',
      'Content-Length': '2',
      _body: 'hi',
    });
  });
});

describe('SwitchEvent over ESL frame bytes (what the ESL parser makes of event-plain frames)', () => {
  const selection = new HeaderSelection(
    ['Caller-Caller-ID-Name', 'Caller-Caller-ID-Number', 'Channel-Name', 'Answer-State', 'X-Empty', 'X-Odd'],
    ['CC-'],
  );

  /** `text` as UTF-8 bytes inside a larger buffer, with another event's bytes right after it. */
  function overBytes(text: string): SwitchEvent {
    const before = Buffer.from('Event-Name: JUNK\nUnique-ID: before\n\n');
    const after = Buffer.from('Unique-ID: after\nCC-Agent: after\nAnswer-State: after\n\n');
    const body = Buffer.from(text, 'utf8');
    const buf = Buffer.concat([before, body, after]) as ReadBuffer;
    return parseEventPlainBytes(buf, before.length, before.length + body.length);
  }

  const TEXTS = [
    SEED_EVENT,
    ...Array.from({ length: 16 }, (_, i) => encodeEventPlain(syntheticChannelEvent(i))),
    // raw UTF-8, percent-encoded UTF-8 and ASCII, broken escapes, an empty value, CRLF lines
    'Event-Name: CHANNEL_ANSWER\nUnique-ID: u1\nCaller-Caller-ID-Name: Grüße 你好\nChannel-Name: sofia/a/b%40c\r\n' +
      'Caller-Caller-ID-Number: %C3%BC%zz 100%\nX-Empty: \nAnswer-State: answered\r\n\r\n',
    // repeated headers (the first wins), lines that are not `Name: value`, prefix-kept names
    'Event-Name: CHANNEL_ANSWER\nUnique-ID: u2\nAnswer-State: first\nAnswer-State: second\nX-Odd:nospace\n' +
      'garbage line\nCC-Agent: 1001%40default\nCC-Agent: 1002\nCC-Queue: support\nEvent-Sequence: 7\n\n',
    // a body that looks like headers, which must not be read as headers
    encodeEventPlain(
      { 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': 'j1' },
      'Unique-ID: not-a-header\nCC-X: y\n',
    ),
    // not on the fast path: Event-Name not first, CUSTOM with its subclass
    'Core-UUID: c\nEvent-Name: CHANNEL_HANGUP\nUnique-ID: u3\n\n',
    'Event-Name: CUSTOM\nEvent-Subclass: callcenter%3A%3Ainfo\nCC-Action: agent-offering\nUnique-ID: u4\n\n',
  ];

  it('compacts frame bytes to exactly the record the decoded text gives, whatever the values hold', () => {
    for (const text of TEXTS) {
      const fromText = parseEventPlain(text);
      const fromBytes = overBytes(text);
      expect(compactEvent(fromBytes, selection).headers()).toEqual(
        compactEvent(fromText, selection).headers(),
      );
    }
  });

  it('compacts alike wherever a name, colon, newline, % escape or UTF-8 byte falls in a 4-byte word', () => {
    // The byte scan reads four bytes at a time: names of every length up to 9 (kept and not), values
    // of every length up to 9 with a `%41` or a `ü` at every position, events at every alignment.
    const names = Array.from({ length: 9 }, (_, n) => 'Nabcdefgh'.slice(0, n + 1));
    const words = new HeaderSelection(names.filter((_, n) => n % 2 === 0));
    const values: string[] = [];
    for (let len = 0; len <= 9; len++) {
      const plain = 'v'.repeat(len);
      values.push(plain);
      for (let at = 0; at < len; at++) {
        values.push(`${plain.slice(0, at)}%41${plain.slice(at)}`, `${plain.slice(0, at)}ü${plain.slice(at)}`);
      }
    }
    for (let shift = 0; shift < 4; shift++) {
      for (let v = 0; v < values.length; v++) {
        const lines = names.map((name, n) => `${name}: ${values[(v + n) % values.length]}`);
        const text = `Event-Name: CHANNEL_ANSWER\nUnique-ID: u${v}\n${lines.join('\n')}\n\n`;
        const pad = Buffer.from('x'.repeat(shift));
        const body = Buffer.from(text, 'utf8');
        const buf = Buffer.concat([pad, body, Buffer.from('N: after\n\n')]) as ReadBuffer;
        const fromBytes = parseEventPlainBytes(buf, pad.length, pad.length + body.length);
        expect(compactEvent(fromBytes, words).headers()).toEqual(
          compactEvent(parseEventPlain(text), words).headers(),
        );
      }
    }
  });

  it('answers name, derived fields, any header, all headers and the body like the text event', () => {
    for (const text of TEXTS) {
      const fromText = parseEventPlain(text);
      for (const compactFirst of [false, true]) {
        const ev = overBytes(text);
        if (compactFirst) compactEvent(ev, selection);
        expect([ev.name, ev.eventName, ev.subclass, ev.uuid, ev.coreUuid, ev.timestamp, ev.sequence]).toEqual(
          [
            fromText.name,
            fromText.eventName,
            fromText.subclass,
            fromText.uuid,
            fromText.coreUuid,
            fromText.timestamp,
            fromText.sequence,
          ],
        );
        // `get` before anything decodes the text: these are read from the bytes.
        for (const name of Object.keys(fromText.headers())) expect(ev.get(name)).toBe(fromText.get(name));
        expect(ev.get('Not-There')).toBeUndefined();
        expect(ev.get('CC-X')).toBe(fromText.get('CC-X'));
        expect(ev.headers()).toEqual(fromText.headers());
        expect(ev.body).toBe(fromText.body);
      }
    }
  });

  it('shares values equal to the previous event of the leg and decodes only those that changed', () => {
    const first = compactEvent(overBytes(TEXTS[1]!), selection);
    const changed = TEXTS[1]!.replace('Channel-Name: ', 'Channel-Name: x');
    const next = compactEvent(overBytes(changed), selection, { previous: () => first });
    expect(next.get('Channel-Name')).toBe(`x${first.get('Channel-Name')}`);
    expect(next.get('Core-UUID')).toBe(first.get('Core-UUID'));
    expect(next.headers()).toEqual(compactEvent(parseEventPlain(changed), selection).headers());
  });

  it("reuses a plain value made for another leg's event only when the bytes are the same", () => {
    // Each event is a new leg (no previous): the value of a slot may still come from the last
    // event of any leg, so lengths, prefixes and near misses must each give their own value.
    const states = [
      'CS_EXECUTE',
      'CS_EXECUTE',
      'CS_EXEC',
      'CS_EXECUTE2',
      '',
      'CS_EXECUTE',
      'cs_execute',
      'x',
    ];
    for (const [i, state] of states.entries()) {
      const text = `Event-Name: CHANNEL_STATE\nUnique-ID: leg-${i}\nAnswer-State: ${state}\nCC-Side: ${state}\n\n`;
      const next = compactEvent(overBytes(text), selection, { previous: () => undefined });
      expect(next.get('Answer-State'), `event ${i}`).toBe(state);
      expect(next.headers(), `event ${i}`).toEqual(compactEvent(parseEventPlain(text), selection).headers());
    }
  });

  it("compares escaped values by their wire bytes with the leg's previous event, and hands the wire forms on", () => {
    const event = (name: string, cid: string): string =>
      `Event-Name: CHANNEL_ANSWER\nUnique-ID: u9\nChannel-Name: sofia%2Finternal%2F1001%40pbx\n` +
      `Caller-Caller-ID-Name: ${name}\nCaller-Caller-ID-Number: ${cid}\n\n`;
    const texts = [
      event('Anna%20Schmidt', '%2B4930123'),
      event('Anna%20Schmidt', '%2B4930123'), // unchanged: the wire forms are handed on as they are
      event('Ben%20Meyer', '%2B4930123'), // an escaped value changed
      event('Ben%2520Meyer', '%2B4930123'), // a different escape of a similar text: decoded again
      event('Ben%2520Meyer', '+4930123'), // the same number unescaped: equal to the previous value
    ];
    let previous: CompactSwitchEvent | undefined;
    for (const [i, text] of texts.entries()) {
      const before = previous;
      const beforeRaw = before?.raw;
      const next = compactEvent(overBytes(text), selection, { previous: () => before });
      expect(next.headers(), `event ${i}`).toEqual(compactEvent(parseEventPlain(text), selection).headers());
      if (i === 1) expect(next.raw).toBe(beforeRaw);
      if (i === 2) expect(next.raw).not.toBe(beforeRaw);
      // Only the leg's latest event holds them.
      if (before !== undefined) expect(before.raw).toBeUndefined();
      previous = next;
    }
    expect(previous?.get('Caller-Caller-ID-Name')).toBe('Ben%20Meyer');
    expect(previous?.get('Caller-Caller-ID-Number')).toBe('+4930123');
  });

  it('rejects frame bytes without Event-Name like the text parser does', () => {
    const buf = Buffer.from('Unique-ID: x\n\n') as ReadBuffer;
    expect(() => parseEventPlainBytes(buf, 0, buf.length)).toThrow(EslProtocolError);
  });
});
