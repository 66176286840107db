import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/index.js';
import type { InboundOffer } from '../media.js';
import { parseSimConfig } from './config.js';
import { SimConfigError } from './errors.js';
import { SimMedia } from './sim-media.js';

describe('the trickle offers inbound callers on the clock', () => {
  it('one caller every everyMs, scripts round-robin, through sink.inbound', async () => {
    const clock = new VirtualClock();
    const scripts = [[{ dtmf: '1' }], [{ say: 'hello' }]];
    const media = new SimMedia({ clock, trickle: { everyMs: 1000, scripts, from: '2000', to: '8000' } });
    const offers: [number, InboundOffer][] = [];
    const t0 = clock.now();
    media.start({
      inbound: (offer) => {
        offers.push([clock.now() - t0, offer]);
        return `uuid-${offers.length}`;
      },
    });
    await clock.advance(3500);
    expect(offers.map(([at]) => at)).toEqual([1000, 2000, 3000]);
    expect(offers.map(([, o]) => o.script)).toEqual([scripts[0], scripts[1], scripts[0]]);
    expect(offers[0]![1]).toMatchObject({
      cid_number: '2000',
      dest_number: '8000',
      cid_name: 'Sim caller 1',
    });
    await media.stop();
    await clock.advance(5000);
    expect(offers).toHaveLength(3);
    expect(clock.pending).toBe(0);
  });

  it('stops after maxCalls and keeps going when the node refuses a call', async () => {
    const clock = new VirtualClock();
    const media = new SimMedia({ clock, trickle: { everyMs: 100, scripts: [[]], maxCalls: 3 } });
    let calls = 0;
    media.start({
      inbound: () => {
        calls++;
        if (calls === 1) throw new Error('node shutting down');
        return 'u';
      },
    });
    await clock.advance(1000);
    expect(calls).toBe(3);
    expect(media.trickled).toBe(3);
    expect(clock.pending).toBe(0);
  });

  it('start twice is an error', () => {
    const media = new SimMedia({ clock: new VirtualClock() });
    media.start({ inbound: () => 'u' });
    expect(() => media.start({ inbound: () => 'u' })).toThrow('already started');
  });

  it.each([
    [{ everyMs: 0, scripts: [[]] }, 'trickle.everyMs'],
    [{ everyMs: 10, scripts: [] }, 'trickle.scripts'],
    [{ everyMs: 10, scripts: [[{ wait: -1 }]] }, 'trickle.scripts[0][0].wait'],
    [{ everyMs: 10, scripts: [[]], maxCalls: 0 }, 'trickle.maxCalls'],
  ])('a bad trickle %j is rejected at %s', (trickle, where) => {
    expect(() => new SimMedia({ clock: new VirtualClock(), trickle })).toThrow(`${where}: `);
  });

  it('a bad directory is rejected when the backend is built', () => {
    expect(
      () => new SimMedia({ clock: new VirtualClock(), directory: { '1000': { ring: 1 } as never } }),
    ).toThrow(SimConfigError);
  });
});

describe('stop() releases everything', () => {
  it('closes open sessions, ends their scripts and leaves no timers', async () => {
    const clock = new VirtualClock();
    const media = new SimMedia({ clock });
    const a = media.open(
      { uuid: 'a', direction: 'inbound', script: [{ wait: 10_000 }, { dtmf: '1' }] },
      () => {},
    );
    const b = media.open({ uuid: 'b', direction: 'outbound', script: [{ say: 'hi' }] }, () => {});
    const playing = a.play({ data: 'silence_stream://60000' }, new AbortController().signal);
    await clock.advance(10);
    expect(media.sessionCount).toBe(2);
    await media.stop();
    await expect(playing).rejects.toMatchObject({ kind: 'closed' });
    expect(a.closed && b.closed).toBe(true);
    expect(media.sessionCount).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

describe('sim config files (YAML or JSON)', () => {
  it('parses the YAML example of docs/simulator.md', () => {
    const config = parseSimConfig(`
directory:
  "1000": { answer_after_ms: 2000, script: [ { say: hello }, { hangup: } ] }
  "1001": { busy: true, ring_ms: 500 }
  "*": { no_answer: true }
default: null
trickle:
  every_ms: 5000
  from: 13800000000
  to: 9999
  max_calls: 10
  scripts:
    - [ { wait: 1000 }, { dtmf: "1" }, { wait: 8000 }, { hangup: } ]
`);
    expect(config).toEqual({
      directory: {
        '1000': { answer_after_ms: 2000, script: [{ say: 'hello' }, { hangup: {} }] },
        '1001': { busy: true, ring_ms: 500 },
        '*': { no_answer: true },
      },
      defaultBehaviour: null,
      trickle: {
        everyMs: 5000,
        from: '13800000000',
        to: '9999',
        maxCalls: 10,
        scripts: [[{ wait: 1000 }, { dtmf: '1' }, { wait: 8000 }, { hangup: {} }]],
      },
    });
    expect(() => new SimMedia({ clock: new VirtualClock(), ...config })).not.toThrow();
  });

  it('parses JSON', () => {
    expect(parseSimConfig('{"directory": {"1000": {"reject": "CALL_REJECTED"}}}')).toEqual({
      directory: { '1000': { reject: 'CALL_REJECTED' } },
    });
    expect(parseSimConfig('')).toEqual({});
  });

  it.each([
    ['directory: [1, 2]', 'directory: '],
    ['direktory: {}', 'direktory: unknown field'],
    ['trickle: { every_ms: 0, scripts: [[]] }', 'trickle.every_ms: '],
    ['trickle: { every_ms: 10, scripts: [[{ dtmf: x }]] }', 'trickle.scripts[0][0].dtmf: '],
    ['trickle: { every_ms: 10, scripts: [[]], extra: 1 }', 'trickle.extra: unknown field'],
    ['{ not yaml', 'config: not valid YAML/JSON'],
    ['- 1', 'config: expected a mapping'],
  ])('rejects %j', (text, message) => {
    expect(() => parseSimConfig(text)).toThrow(message);
  });
});
