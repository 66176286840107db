import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import wavefile from 'wavefile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/index.js';
import {
  type CallerStep,
  type CollectOptions,
  type FarEndEvent,
  MediaError,
  type RecordOutcome,
  type SpeechOptions,
} from '../media.js';
import { SimConfigError } from './errors.js';
import { writeSilenceWav } from './recording-file.js';
import { SimMedia } from './sim-media.js';
import type { SimSession } from './sim-session.js';

let mediaRoot: string;
let recordRoot: string;
beforeAll(async () => {
  mediaRoot = await mkdtemp(path.join(os.tmpdir(), 'sim-session-media-'));
  recordRoot = await mkdtemp(path.join(os.tmpdir(), 'sim-session-rec-'));
  await writeSilenceWav(path.join(mediaRoot, 'prompt.wav'), 2000, 8000); // a real 2 s WAV file
});
afterAll(async () => {
  await rm(mediaRoot, { recursive: true, force: true });
  await rm(recordRoot, { recursive: true, force: true });
});

/** A backend, one session with `script`, far-end events stamped with ms since open, and a promise watcher. */
function setup(script: CallerStep[] = [], extra: { maxRecordSec?: number } = {}) {
  const clock = new VirtualClock();
  const media = new SimMedia({ clock, mediaRoot, recordRoot, ...extra });
  const t0 = clock.now();
  const events: [number, FarEndEvent][] = [];
  const session = media.open({ uuid: 'u1', direction: 'inbound', script }, (ev) =>
    events.push([clock.now() - t0, ev]),
  );
  const at = (): number => clock.now() - t0;
  return { clock, media, session, events, at, baseline: 0 };
}

/** Watches a promise: `state()` says whether and how it settled, and when (ms since `at`'s origin). */
function watch<T>(p: Promise<T>, at: () => number) {
  let settled: { ok: true; value: T; at: number } | { ok: false; error: unknown; at: number } | undefined;
  p.then(
    (value) => {
      settled = { ok: true, value, at: at() };
    },
    (error: unknown) => {
      settled = { ok: false, error, at: at() };
    },
  );
  return { state: () => settled };
}

const never = (): AbortSignal => new AbortController().signal;
const collect = (o: Partial<CollectOptions> = {}): CollectOptions => ({
  minDigits: 1,
  maxDigits: 1,
  timeoutMs: 5000,
  digitTimeoutMs: 2000,
  terminators: '',
  ...o,
});
const speech = (o: Partial<SpeechOptions> = {}): SpeechOptions => ({
  noInputTimeoutMs: 5000,
  speechTimeoutMs: 0,
  ...o,
});

describe('caller scripts run on the clock', () => {
  it('wait, dtmf (100 ms apart, duration 100), say (after its estimated length) and hangup', async () => {
    const { clock, events, session } = setup([
      { wait: 500 },
      { dtmf: '12' },
      { say: 'hello there' },
      { hangup: {} },
      { dtmf: '9' },
    ]);
    await clock.advance(10_000);
    expect(events).toEqual([
      [500, { kind: 'dtmf', digit: '1', durationMs: 100 }],
      [600, { kind: 'dtmf', digit: '2', durationMs: 100 }],
      [1400, { kind: 'speech', text: 'hello there' }],
      [1400, { kind: 'hangup', cause: 'NORMAL_CLEARING' }],
    ]);
    expect(session.hungUp).toBe(true);
    expect(session.scriptRunning).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('hangup carries its cause', async () => {
    const { clock, events } = setup([{ hangup: { cause: 'USER_BUSY' } }]);
    await clock.tick();
    expect(events).toEqual([[0, { kind: 'hangup', cause: 'USER_BUSY' }]]);
  });

  it('does not call back before open() has returned', () => {
    const { events } = setup([{ dtmf: '1' }, { hangup: {} }]);
    expect(events).toEqual([]);
  });

  it('after its script the caller stays on the line silently', async () => {
    const { clock, events, session } = setup([{ dtmf: '5' }]);
    await clock.advance(3_600_000);
    expect(events).toHaveLength(1);
    expect(session.hungUp).toBe(false);
    expect(session.closed).toBe(false);
  });

  it('rejects a bad script with a clear error', () => {
    const media = new SimMedia({ clock: new VirtualClock() });
    expect(() => media.open({ uuid: 'x', direction: 'inbound', script: [{ wait: -1 }] }, () => {})).toThrow(
      SimConfigError,
    );
    expect(() =>
      media.open(
        { uuid: 'x', direction: 'inbound', script: [{ bogus: 1 }] as unknown as CallerStep[] },
        () => {},
      ),
    ).toThrow('script[0].bogus: unknown step');
    expect(media.sessionCount).toBe(0);
  });

  it('an event handler that throws does not stop the script', async () => {
    const clock = new VirtualClock();
    const media = new SimMedia({ clock });
    const seen: string[] = [];
    media.open({ uuid: 'x', direction: 'inbound', script: [{ dtmf: '12' }] }, (ev) => {
      if (ev.kind === 'dtmf') seen.push(ev.digit);
      throw new Error('node bug');
    });
    await clock.advance(1000);
    expect(seen).toEqual(['1', '2']);
  });

  it('close() stops the script and releases its timers', async () => {
    const { clock, session, events } = setup([{ wait: 1000 }, { dtmf: '1' }]);
    await clock.advance(10);
    expect(clock.pending).toBe(1);
    session.close();
    session.close(); // idempotent
    await clock.advance(5000);
    expect(events).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});

describe('play lasts the media duration in clock time', () => {
  it('a 2 s WAV resolves after 2000 ms', async () => {
    const { clock, session, at } = setup();
    const p = watch(session.play({ type: 'FILE', data: 'prompt.wav' }, never()), at);
    await clock.advance(1999);
    expect(p.state()).toBeUndefined();
    await clock.advance(1);
    expect(p.state()).toEqual({ ok: true, value: { playedMs: 2000 }, at: 2000 });
  });

  it.each([
    [{ type: 'FILE' as const, data: 'silence_stream://1500' }, 1500],
    [{ type: 'TEXT' as const, data: 'one two', engine: 'ali' }, 700],
    [{ type: 'FILE' as const, data: 'prompt.wav', loop: 2, silence_ms: 300 }, 4300],
  ])('%j plays %i ms', async (media, ms) => {
    const { clock, session, at } = setup();
    const p = watch(session.play(media, never()), at);
    await clock.advance(ms - 1);
    expect(p.state()).toBeUndefined();
    await clock.advance(1);
    expect(p.state()?.at).toBe(ms);
  });

  it('aborting rejects with the signal reason and releases the timer', async () => {
    const { clock, session, at } = setup();
    const ctl = new AbortController();
    const p = watch(session.play({ data: 'silence_stream://5000' }, ctl.signal), at);
    await clock.advance(1000);
    expect(clock.pending).toBe(1);
    const reason = new Error('stopped');
    ctl.abort(reason);
    await clock.tick();
    expect(p.state()).toEqual({ ok: false, error: reason, at: 1000 });
    expect(clock.pending).toBe(0);
  });

  it('an already aborted signal rejects at once', async () => {
    const { session } = setup();
    const ctl = new AbortController();
    ctl.abort('why');
    await expect(session.play({ data: 'silence_stream://5' }, ctl.signal)).rejects.toBe('why');
  });

  it('endless media plays until aborted, without a timer', async () => {
    const { clock, session, at } = setup();
    const ctl = new AbortController();
    const p = watch(session.play({ data: 'silence_stream://-1' }, ctl.signal), at);
    await clock.advance(86_400_000);
    expect(p.state()).toBeUndefined();
    expect(clock.pending).toBe(0);
    ctl.abort('done');
    await clock.tick();
    expect(p.state()?.ok).toBe(false);
  });

  it.each([
    ['missing.wav', 'not_found'],
    ['https://example.com/x.wav', 'not_found'],
  ])('%s rejects with a MediaError (%s)', async (data, kind) => {
    const { session } = setup();
    const err = await session.play({ data }, never()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).kind).toBe(kind);
  });
});

describe('collectDigits follows play_and_get_digits', () => {
  type Case = {
    name: string;
    script: CallerStep[];
    options: Partial<CollectOptions>;
    expected: { digits: string; terminator: string; reason: 'ok' | 'timeout' };
    atMs: number;
  };
  const prompt = { type: 'FILE' as const, data: 'prompt.wav' }; // 2000 ms
  it.each<Case>([
    {
      name: 'pre-pressed digit counts at once',
      script: [{ dtmf: '1' }],
      options: { prompt },
      expected: { digits: '1', terminator: '', reason: 'ok' },
      atMs: 500,
    },
    {
      name: 'first-digit timeout runs after the prompt',
      script: [],
      options: { prompt, timeoutMs: 3000 },
      expected: { digits: '', terminator: '', reason: 'timeout' },
      atMs: 2500 + 3000,
    },
    {
      name: 'digit during the prompt barges in',
      script: [{ wait: 1000 }, { dtmf: '7' }],
      options: { prompt, maxDigits: 1 },
      expected: { digits: '7', terminator: '', reason: 'ok' },
      atMs: 1000,
    },
    {
      name: 'maxDigits ends input',
      script: [{ wait: 3000 }, { dtmf: '12345' }],
      options: { maxDigits: 3 },
      expected: { digits: '123', terminator: '', reason: 'ok' },
      atMs: 3200,
    },
    {
      name: 'terminator ends input and is not included',
      script: [{ wait: 3000 }, { dtmf: '42#' }],
      options: { maxDigits: 10, terminators: '#' },
      expected: { digits: '42', terminator: '#', reason: 'ok' },
      atMs: 3200,
    },
    {
      name: 'inter-digit timeout ends input with enough digits',
      script: [{ wait: 3000 }, { dtmf: '42' }],
      options: { minDigits: 2, maxDigits: 10, digitTimeoutMs: 1500 },
      expected: { digits: '42', terminator: '', reason: 'ok' },
      atMs: 3100 + 1500,
    },
    {
      name: 'fewer than minDigits at timeout → timeout',
      script: [{ wait: 3000 }, { dtmf: '4' }],
      options: { minDigits: 3, maxDigits: 10, digitTimeoutMs: 1500 },
      expected: { digits: '4', terminator: '', reason: 'timeout' },
      atMs: 3000 + 1500,
    },
    {
      name: 'no prompt: first-digit timeout runs from the start',
      script: [],
      options: { timeoutMs: 1000 },
      expected: { digits: '', terminator: '', reason: 'timeout' },
      atMs: 500 + 1000,
    },
  ])('$name', async ({ script, options, expected, atMs }) => {
    const { clock, session, at } = setup(script);
    // Collection starts at 500 ms, after the script may have pre-pressed digits.
    await clock.advance(500);
    const p = watch(session.collectDigits(collect(options), never()), at);
    await clock.advance(20_000);
    expect(p.state()).toEqual({ ok: true, value: expected, at: atMs });
    session.close();
    expect(clock.pending).toBe(0);
  });

  it('digits left over stay buffered for the next collection', async () => {
    const { clock, session } = setup([{ dtmf: '12#34' }]);
    await clock.advance(1000);
    expect(session.bufferedDigits).toBe('12#34');
    await expect(
      session.collectDigits(collect({ maxDigits: 5, terminators: '#' }), never()),
    ).resolves.toEqual({
      digits: '12',
      terminator: '#',
      reason: 'ok',
    });
    expect(session.bufferedDigits).toBe('34');
    const second = session.collectDigits(collect({ maxDigits: 5, digitTimeoutMs: 100 }), never());
    await clock.advance(100);
    await expect(second).resolves.toEqual({ digits: '34', terminator: '', reason: 'ok' });
  });

  it('a prompt that cannot play rejects the collection', async () => {
    const { session, clock } = setup();
    const err = await session
      .collectDigits(collect({ prompt: { data: 'missing.wav' } }), never())
      .catch((e: unknown) => e);
    expect((err as MediaError).kind).toBe('not_found');
    expect(clock.pending).toBe(0);
  });

  it.each([
    [{ maxDigits: 0 }, 'max_digits'],
    [{ minDigits: 3, maxDigits: 2 }, 'min_digits'],
    [{ timeoutMs: -1 }, 'timeout'],
    [{ terminators: 5 as unknown as string }, 'terminators'],
  ])('bad options %j are rejected (%s)', async (o, field) => {
    const { session } = setup();
    const err = await session.collectDigits(collect(o), never()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).message).toContain(field);
  });

  it('abort rejects with the reason and releases timers and the digit listener', async () => {
    const { clock, session, at } = setup([{ wait: 5000 }, { dtmf: '9' }]);
    const ctl = new AbortController();
    const p = watch(session.collectDigits(collect({ prompt }), ctl.signal), at);
    await clock.advance(1000);
    ctl.abort('stop');
    await clock.tick();
    expect(p.state()).toEqual({ ok: false, error: 'stop', at: 1000 });
    expect(clock.pending).toBe(1); // only the script's wait
    await clock.advance(5000);
    expect(session.bufferedDigits).toBe('9'); // nobody consumed it
  });
});

describe('detectSpeech is driven by the caller’s say steps', () => {
  it('resolves Speech.End with the text when the utterance ends', async () => {
    const { clock, session, at } = setup([{ wait: 1000 }, { say: 'I want sales' }]);
    const p = watch(session.detectSpeech(speech(), never()), at);
    await clock.advance(10_000);
    expect(p.state()).toEqual({
      ok: true,
      value: { type: 'Speech.End', text: 'I want sales', confidence: 0.9 },
      at: 2050,
    });
    expect(clock.pending).toBe(0);
  });

  it('no speech within noInputTimeoutMs after the prompt → ERROR no_input', async () => {
    const { clock, session, at } = setup();
    const p = watch(
      session.detectSpeech(speech({ prompt: { data: 'prompt.wav' }, noInputTimeoutMs: 3000 }), never()),
      at,
    );
    await clock.advance(10_000);
    expect(p.state()).toEqual({ ok: true, value: { type: 'ERROR', error: 'no_input' }, at: 5000 });
  });

  it('speech that began before the timeout is waited for', async () => {
    const { clock, session, at } = setup([{ wait: 900 }, { say: 'a b c d e f g h' }]); // 2800 ms
    const p = watch(session.detectSpeech(speech({ noInputTimeoutMs: 1000 }), never()), at);
    await clock.advance(10_000);
    expect(p.state()?.at).toBe(3700);
    expect(p.state()).toMatchObject({ ok: true, value: { type: 'Speech.End' } });
  });

  it('an utterance longer than speechTimeoutMs → ERROR speech_timeout, and it is not kept', async () => {
    const { clock, session, at } = setup([{ wait: 100 }, { say: 'a b c d e f g h' }]); // 2800 ms
    const p = watch(session.detectSpeech(speech({ speechTimeoutMs: 2000 }), never()), at);
    await clock.advance(10_000);
    expect(p.state()).toEqual({ ok: true, value: { type: 'ERROR', error: 'speech_timeout' }, at: 2100 });
    expect(session.queuedSpeech).toEqual([]);
  });

  it('speech said while nothing listens is kept until a DetectSpeech starts', async () => {
    const { clock, session, at } = setup([{ say: 'yes' }]);
    await clock.advance(5000);
    expect(session.queuedSpeech).toEqual(['yes']);
    const p = watch(session.detectSpeech(speech({ prompt: { data: 'prompt.wav' } }), never()), at);
    await clock.tick();
    expect(p.state()).toEqual({
      ok: true,
      value: { type: 'Speech.End', text: 'yes', confidence: 0.9 },
      at: 5000,
    });
    expect(session.queuedSpeech).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('speech barges into the prompt', async () => {
    const { clock, session, at } = setup([{ wait: 500 }, { say: 'stop' }]);
    const p = watch(session.detectSpeech(speech({ prompt: { data: 'prompt.wav' } }), never()), at);
    await clock.advance(850);
    expect(p.state()?.at).toBe(850);
    expect(clock.pending).toBe(0); // the prompt's timer is gone too
  });

  it('a DetectSpeech started mid-utterance hears it', async () => {
    const { clock, session, at } = setup([{ say: 'one two three' }]); // 1050 ms
    await clock.advance(500);
    const p = watch(session.detectSpeech(speech({ noInputTimeoutMs: 100 }), never()), at);
    await clock.advance(5000);
    expect(p.state()).toMatchObject({
      ok: true,
      value: { type: 'Speech.End', text: 'one two three' },
      at: 1050,
    });
  });

  it('with dtmf options, digits end it as type DTMF', async () => {
    const { clock, session, at } = setup([{ wait: 1000 }, { dtmf: '12#' }]);
    const p = watch(
      session.detectSpeech(speech({ dtmf: collect({ maxDigits: 5, terminators: '#' }) }), never()),
      at,
    );
    await clock.advance(10_000);
    expect(p.state()).toEqual({ ok: true, value: { type: 'DTMF', dtmf: '12', terminator: '#' }, at: 1200 });
  });

  it('with dtmf options, pre-pressed digits count', async () => {
    const { clock, session } = setup([{ dtmf: '3' }]);
    await clock.advance(1000);
    await expect(session.detectSpeech(speech({ dtmf: collect() }), never())).resolves.toEqual({
      type: 'DTMF',
      dtmf: '3',
      terminator: '',
    });
  });

  it('without dtmf options, digits are left buffered', async () => {
    const { clock, session, at } = setup([{ dtmf: '3' }]);
    const p = watch(session.detectSpeech(speech({ noInputTimeoutMs: 1000 }), never()), at);
    await clock.advance(2000);
    expect(p.state()).toMatchObject({ ok: true, value: { type: 'ERROR', error: 'no_input' } });
    expect(session.bufferedDigits).toBe('3');
  });

  it('abort rejects and releases everything', async () => {
    const { clock, session, at } = setup();
    const ctl = new AbortController();
    const p = watch(session.detectSpeech(speech({ prompt: { data: 'prompt.wav' } }), ctl.signal), at);
    await clock.advance(100);
    ctl.abort('bye');
    await clock.tick();
    expect(p.state()).toEqual({ ok: false, error: 'bye', at: 100 });
    expect(clock.pending).toBe(0);
  });
});

describe('record writes a real WAV file', () => {
  const readWav = async (file: string) => {
    const wav = new wavefile.WaveFile();
    wav.fromBuffer(await readFile(file));
    return wav;
  };

  it('ends at the limit, 8 kHz 16-bit mono silence of the recorded length', async () => {
    const { clock, session } = setup([{ wait: 100_000 }]);
    const p = session.record({ path: 'calls/a.wav', limitSec: 3 }, never());
    await clock.advance(3000);
    const out = await p;
    expect(out).toMatchObject({
      path: 'calls/a.wav',
      recordMs: 3000,
      samples: 24_000,
      completion_cause: 'success-maxtime',
    });
    expect(out.file).toBe(path.join(recordRoot, 'calls/a.wav'));
    expect((await stat(out.file!)).size).toBe(out.size);
    const wav = await readWav(out.file!);
    expect(wav.fmt).toMatchObject({ numChannels: 1, sampleRate: 8000, bitsPerSample: 16 });
    expect(wav.getSamples(false, Int16Array)).toHaveLength(24_000);
  });

  it('honours rate and maps absolute paths under the record root', async () => {
    const { clock, session } = setup([{ wait: 100_000 }]);
    const p = session.record({ path: '/var/rec/b.wav', limitSec: 1, rate: 16000 }, never());
    await clock.advance(1000);
    const out = await p;
    expect(out.file).toBe(path.join(recordRoot, 'var/rec/b.wav'));
    expect(out.samples).toBe(16_000);
    expect((await readWav(out.file!)).fmt).toMatchObject({ sampleRate: 16000 });
  });

  it('a terminator digit ends it and is reported', async () => {
    const { clock, session } = setup([{ wait: 2500 }, { dtmf: '#' }]);
    const p = session.record({ path: 'c.wav', limitSec: 60, terminators: '#*' }, never());
    await clock.advance(3000);
    await expect(p).resolves.toMatchObject({
      recordMs: 2500,
      terminator: '#',
      completion_cause: 'success-terminator',
    });
    expect(session.bufferedDigits).toBe('');
  });

  it('silence ends it silenceSec after the script ends', async () => {
    const { clock, session } = setup([{ say: 'leave a message after the tone please' }, { wait: 1000 }]);
    const p = session.record({ path: 'd.wav', limitSec: 60, silenceSec: 2 }, never());
    await clock.advance(10_000);
    // 7 words = 2450 ms, + 1000 wait = script ends at 3450, + 2000 silence.
    await expect(p).resolves.toMatchObject({ recordMs: 5450, completion_cause: 'success-silence' });
  });

  it('silence counts from the start when the caller is already silent', async () => {
    const { clock, session } = setup([]);
    await clock.tick();
    const p = session.record({ path: 'e.wav', silenceSec: 3 }, never());
    await clock.advance(10_000);
    await expect(p).resolves.toMatchObject({ recordMs: 3000, completion_cause: 'success-silence' });
  });

  it('abort rejects with the reason, still writes what was recorded, and reports it to onWritten', async () => {
    const { clock, session, media } = setup([{ wait: 100_000 }]);
    const ctl = new AbortController();
    const written: RecordOutcome[] = [];
    const p = session.record({ path: 'f.wav', limitSec: 60, onWritten: (o) => written.push(o) }, ctl.signal);
    await clock.advance(1234);
    ctl.abort('hangup');
    await expect(p).rejects.toBe('hangup');
    await media.stop(); // waits for background writes
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ recordMs: 1234, completion_cause: 'stopped' });
    expect((await readWav(written[0]!.file!)).getSamples(false, Int16Array)).toHaveLength(
      Math.round(1234 * 8),
    );
    expect(clock.pending).toBe(0);
  });

  it('the maximum recording length caps a recording without limit', async () => {
    const { clock, session } = setup([{ wait: 100_000 }], { maxRecordSec: 2 });
    const p = session.record({ path: 'g.wav' }, never());
    await clock.advance(2000);
    await expect(p).resolves.toMatchObject({ recordMs: 2000, completion_cause: 'success-maxtime' });
  });

  it.each([
    [{ path: '../escape.wav' }, 'escapes'],
    [{ path: 'a/../../b.wav' }, 'escapes'],
    [{ path: '' }, 'path'],
    [{ path: 'x.wav', rate: 11025 }, 'rate'],
  ])('bad request %j is rejected', async (o, mention) => {
    const { session } = setup();
    const err = await session.record(o, never()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).kind).toBe('invalid');
    expect((err as MediaError).message).toContain(mention);
  });
});

describe('session bookkeeping', () => {
  it('sendDtmf is recorded in order', () => {
    const { session } = setup();
    session.sendDtmf('12');
    session.sendDtmf('#');
    expect(session.sentDtmf).toEqual(['12', '#']);
  });

  it('close() cuts running operations with a closed MediaError and releases every timer', async () => {
    const { clock, session, at, media } = setup([{ wait: 60_000 }]);
    const ops = [
      watch(session.play({ data: 'silence_stream://10000' }, never()), at),
      watch(session.collectDigits(collect({ prompt: { data: 'prompt.wav' } }), never()), at),
      watch(session.detectSpeech(speech(), never()), at),
    ];
    await clock.advance(100);
    expect(clock.pending).toBeGreaterThan(2);
    session.close();
    await clock.tick();
    for (const op of ops) {
      const s = op.state();
      expect(s?.ok).toBe(false);
      expect(((s as { error: unknown }).error as MediaError).kind).toBe('closed');
    }
    expect(clock.pending).toBe(0);
    expect(media.sessionCount).toBe(0);
    await expect(session.play({ data: 'silence_stream://1' }, never())).rejects.toBeInstanceOf(MediaError);
  });

  it('leaves no timers after many calls (leak check)', async () => {
    const clock = new VirtualClock();
    const media = new SimMedia({ clock, mediaRoot, recordRoot });
    const baseline = clock.pending;
    for (let i = 0; i < 200; i++) {
      const s: SimSession = media.open(
        { uuid: `u${i}`, direction: 'inbound', script: [{ dtmf: '1' }, { say: 'hi' }, { hangup: {} }] },
        () => {},
      );
      const digits = s.collectDigits(collect(), never());
      const heard = s.detectSpeech(speech(), never());
      await clock.advance(1000);
      await digits;
      await heard;
      s.close();
    }
    expect(clock.pending).toBe(baseline);
    expect(media.sessionCount).toBe(0);
    await media.stop();
  });
});
