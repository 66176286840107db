import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/index.js';
import { storiesFromEvents } from '../engine.js';
import type { Extractor } from '../extractors/index.js';
import {
  encodeEventPlain,
  eventFromMap,
  parseEventPlain,
  readEvents,
  type SwitchEvent,
} from '../input/index.js';
import { CompactSwitchEvent, compactEvent, HeaderSelection } from '../input/switch-event.js';
import { replacedCallId } from './leg.js';
import { ROUTED_SELECTION } from './routed-headers.js';
import { type ReadyCall, Router, type RouterOptions } from './router.js';

const BASE = 1_700_000_000_000_000;
let seq = 0;
function ev(t: number, headers: Record<string, string>): SwitchEvent {
  seq++;
  return eventFromMap({
    'Core-UUID': 'core',
    'Event-Sequence': String(seq),
    'Event-Date-Timestamp': String(BASE + Math.round(t * 1e6)),
    ...headers,
  });
}

function setup(options: Partial<RouterOptions> = {}) {
  const clock = new VirtualClock();
  const ready: ReadyCall[] = [];
  const router = new Router({ clock, onReady: (c) => ready.push(c), ...options });
  return { clock, ready, router };
}

describe('compact events', () => {
  const headers = {
    'Event-Name': 'CHANNEL_ANSWER',
    'Core-UUID': 'core-1',
    'Event-Sequence': '42',
    'Event-Date-Timestamp': '1700000000000000',
    'Unique-ID': 'a-leg-uuid-0000000000000',
    'Caller-Caller-ID-Name': 'Müller & Söhne',
    'Caller-Caller-ID-Number': '+493012345',
    'Not-Routed-Header': 'x',
    'CC-Custom-Field': 'kept by prefix',
    variable_sip_refer_to: '<sip:1003@pbx?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>',
  };

  it('keep exactly the selected headers of event-plain and header-map events, decoded as get() gives them', () => {
    for (const source of [parseEventPlain(encodeEventPlain(headers)), eventFromMap(headers)]) {
      const compact = compactEvent(source, ROUTED_SELECTION);
      expect(compact).toBeInstanceOf(CompactSwitchEvent);
      for (const name of Object.keys(headers)) {
        const expected = ROUTED_SELECTION.keeps(name) ? source.get(name) : undefined;
        expect(compact.get(name), name).toBe(expected);
      }
      expect(compact.name).toBe('CHANNEL_ANSWER');
      expect(compact.uuid).toBe(headers['Unique-ID']);
      expect(compact.timestamp).toBe(1_700_000_000_000_000);
      expect(compact.sequence).toBe(42);
      expect(compact.coreUuid).toBe('core-1');
      expect(compact.body).toBeUndefined();
      expect(compact.headers()['Not-Routed-Header']).toBeUndefined();
    }
  });

  it('stop at the blank line, take the first of a repeated header, accept CRLF line ends', () => {
    const text =
      'Event-Name: CHANNEL_CREATE\r\nUnique-ID: first-uuid-000000000000\r\nUnique-ID: second\r\n' +
      'Content-Length: 24\r\n\nOther-Leg-Unique-ID: body';
    const source = parseEventPlain(text);
    const compact = compactEvent(source, ROUTED_SELECTION);
    expect(compact.uuid).toBe('first-uuid-000000000000');
    expect(compact.get('Unique-ID')).toBe(source.get('Unique-ID'));
    expect(compact.get('Other-Leg-Unique-ID')).toBeUndefined();
    expect(source.get('Other-Leg-Unique-ID')).toBeUndefined();
  });

  it('read as the event says when values are shared with the previous event of the leg', () => {
    const first = compactEvent(parseEventPlain(encodeEventPlain(headers)), ROUTED_SELECTION);
    const changed = {
      ...headers,
      'Event-Sequence': '43',
      'Caller-Caller-ID-Name': 'Anna',
      'Other-Type': 'originator',
    };
    const next = compactEvent(parseEventPlain(encodeEventPlain(changed)), ROUTED_SELECTION, {
      previous: () => first,
      intern: new Map(),
    });
    for (const name of Object.keys(changed)) {
      expect(next.get(name), name).toBe(
        ROUTED_SELECTION.keeps(name) ? changed[name as keyof typeof changed] : undefined,
      );
    }
    // A header the previous event had and this one lacks stays absent.
    const without = compactEvent(
      eventFromMap({ 'Event-Name': 'CHANNEL_STATE', 'Unique-ID': headers['Unique-ID'] }),
      ROUTED_SELECTION,
      {
        previous: () => first,
      },
    );
    expect(without.get('Caller-Caller-ID-Number')).toBeUndefined();
  });

  it('record names read that the selection does not keep (an undeclared extractor header)', () => {
    const selection = new HeaderSelection(['A-Header']);
    const compact = compactEvent(eventFromMap({ 'Event-Name': 'X', 'B-Header': 'b' }), selection);
    expect(compact.get('B-Header')).toBeUndefined();
    expect([...selection.unselected]).toEqual(['B-Header']);
    expect(selection.with(['B-Header']).keeps('B-Header')).toBe(true);
  });
});

describe('Router bounds', () => {
  it('keeps at most maxEventsPerCall events per open call; past the cap only hangups, and says so', async () => {
    const { clock, ready, router } = setup({ maxEventsPerCall: 50, quietMs: 1_000 });
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'cap' }));
    let largest = 0;
    for (let i = 1; i <= 500; i++) {
      router.ingest(ev(i / 100, { 'Event-Name': 'CHANNEL_CALLSTATE', 'Unique-ID': 'cap' }));
      router.flush();
      largest = Math.max(largest, router.largestCall);
    }
    expect(largest).toBe(50);
    expect(router.stats.retainedEvents).toBe(50);
    router.ingest(ev(10, { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': 'cap' }));
    router.flush();
    await clock.advance(1_000);
    expect(ready).toHaveLength(1);
    const call = ready[0]!;
    expect(call.events).toHaveLength(51);
    expect(call.events.at(-1)?.name).toBe('CHANNEL_HANGUP_COMPLETE');
    expect(call.anomalies).toContain('451 events past the per-call cap of 50 not kept');
    expect(router.stats.droppedByCap).toBe(451);
    expect(router.stats.retainedEvents).toBe(0);
    router.close();
  });

  it('after 100 000 calls are finalised, every router map is within its cap and empties after retainMs', async () => {
    const { clock, ready, router } = setup({ dedupKeys: 50_000, retainLegs: 10_000, quietMs: 1_000 });
    const calls = 100_000;
    for (let c = 0; c < calls; c++) {
      const a = `a${c}`;
      const b = `b${c}`;
      const t = c / 1000;
      router.ingest(
        ev(t, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': a, variable_sip_call_id: `sip-${a}` }),
      );
      router.ingest(ev(t, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': b, 'Channel-Call-UUID': a }));
      router.ingest(ev(t, { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': a }));
      router.ingest(ev(t, { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': b }));
      if (c % 10_000 === 9_999) {
        router.flush();
        await clock.advance(1_000);
        const stats = router.stats;
        expect(stats.dedupKeys).toBeLessThanOrEqual(50_000);
        expect(stats.retiredLegs).toBeLessThanOrEqual(10_000);
        expect(stats.openCalls).toBe(0);
      }
    }
    expect(ready).toHaveLength(calls);
    const stats = router.stats;
    expect(stats).toMatchObject({
      openCalls: 0,
      openLegs: 0,
      retainedEvents: 0,
      sharedLegs: 0,
      sipCallIds: 0,
    });
    expect(stats.dedupKeys).toBe(50_000);
    expect(stats.retiredLegs).toBe(10_000);
    await clock.advance(600_000);
    expect(router.stats.retiredLegs).toBe(0);
    expect(clock.pending).toBe(0);
  }, 60_000);
});

describe('REFER with Replaces (attended transfer by the phone)', () => {
  it('reads the Call-ID of the replaced dialog from Refer-To, escaped or not', () => {
    expect(replacedCallId('<sip:1003@pbx?Replaces=a84b%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>')).toBe(
      'a84b@host',
    );
    expect(replacedCallId('sip:1003@pbx?replaces=xyz;to-tag=1;from-tag=2')).toBe('xyz');
    expect(replacedCallId('<sip:1003@pbx>')).toBeUndefined();
    expect(replacedCallId(undefined)).toBeUndefined();
  });

  /** A (caller) ↔ B (agent), C (agent's consult call, SIP Call-ID consult-dialog) ↔ D (specialist). */
  function transferEvents(referFirst: boolean): SwitchEvent[] {
    const main = [
      ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'A', 'Call-Direction': 'inbound' }),
      ev(1, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'B', 'Channel-Call-UUID': 'A' }),
    ];
    const consult = [
      ev(10, {
        'Event-Name': 'CHANNEL_CREATE',
        'Unique-ID': 'C',
        'Call-Direction': 'inbound',
        variable_sip_call_id: 'consult-dialog@10.0.0.7',
      }),
      ev(11, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'D', 'Channel-Call-UUID': 'C' }),
    ];
    const refer = [
      ev(20, {
        'Event-Name': 'CHANNEL_HANGUP_COMPLETE',
        'Unique-ID': 'B',
        variable_sip_refer_to:
          '<sip:1003@pbx?Replaces=consult-dialog%4010.0.0.7%3Bto-tag%3Dt%3Bfrom-tag%3Df>',
      }),
    ];
    return referFirst ? [...main, ...refer, ...consult] : [...main, ...consult, ...refer];
  }

  for (const referFirst of [false, true]) {
    it(`joins the consultation call to the caller's call (REFER seen ${referFirst ? 'before' : 'after'} the dialog)`, () => {
      const { ready, router } = setup();
      for (const e of transferEvents(referFirst)) router.ingest(e);
      router.finalizeAll();
      expect(ready).toHaveLength(1);
      expect([...ready[0]!.legs.keys()].sort()).toEqual(['A', 'B', 'C', 'D']);
      expect(router.stats.sipCallIds).toBe(0);
      router.close();
    });
  }

  it('does not join on a REFER without Replaces (blind transfer)', () => {
    const { ready, router } = setup();
    const events = transferEvents(false);
    events[4] = ev(20, {
      'Event-Name': 'CHANNEL_HANGUP_COMPLETE',
      'Unique-ID': 'B',
      variable_sip_refer_to: '<sip:1003@pbx>',
    });
    for (const e of events) router.ingest(e);
    router.finalizeAll();
    expect(ready.map((c) => c.id).sort()).toEqual(['A', 'C']);
    router.close();
  });
});

describe('header selection of the story engine', () => {
  it('gives an extractor the extra headers it declares, and nothing it did not', async () => {
    const seen: (string | undefined)[] = [];
    const extractor: Extractor = {
      name: 'custom',
      headers: ['X-Custom-Tag'],
      observe(e) {
        seen.push(e.get('X-Custom-Tag'), e.get('X-Undeclared'));
      },
    };
    await storiesFromEvents(
      [
        ev(0, {
          'Event-Name': 'CHANNEL_CREATE',
          'Unique-ID': 'h1',
          'X-Custom-Tag': 'vip',
          'X-Undeclared': 'y',
        }),
      ],
      { clock: new VirtualClock(), extractors: [extractor] },
    );
    expect(seen).toEqual(['vip', undefined]);
  });

  it('keeps every header the default extractors read in every scenario file', async () => {
    const dir = join(import.meta.dirname, '../../../test/cdr/scenarios');
    ROUTED_SELECTION.unselected.clear();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const events = readEvents(readFileSync(join(dir, file), 'utf8'), 'yaml');
      await storiesFromEvents(events, { clock: new VirtualClock() });
    }
    expect([...ROUTED_SELECTION.unselected]).toEqual([]);
  });
});
