import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import wavefile from 'wavefile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError, type MediaSpec } from '../media.js';
import { mediaDurationMs, speechEstimateMs, toneStreamMs, wavDurationMs } from './durations.js';

/** Writes a WAV fixture of `ms` at `rate` Hz, `bits` deep, `channels` wide. */
async function writeWavFixture(
  file: string,
  ms: number,
  rate = 8000,
  bits = '16',
  channels = 1,
): Promise<void> {
  const frames = Math.round((ms * rate) / 1000);
  const wav = new wavefile.WaveFile();
  const data = Array.from({ length: channels }, () => new Int16Array(frames));
  wav.fromScratch(channels, rate, bits, channels === 1 ? data[0]! : data);
  await writeFile(file, wav.toBuffer());
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'sim-durations-'));
  await writeWavFixture(path.join(root, 'three-seconds.wav'), 3000);
  await writeWavFixture(path.join(root, 'stereo-16k.wav'), 1500, 16000, '16', 2);
  await writeWavFixture(path.join(root, 'half.wav'), 500, 48000);
  await writeFile(path.join(root, 'not-a-wav.wav'), 'hello, this is text');
  await writeFile(path.join(root, 'song.mp3'), 'ID3');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('WAV files play for their real length', () => {
  it.each([
    ['three-seconds.wav', 3000],
    ['stereo-16k.wav', 1500],
    ['half.wav', 500],
  ])('%s lasts %i ms (header only)', async (name, ms) => {
    expect(wavDurationMs(path.join(root, name))).toBe(ms);
    expect(mediaDurationMs({ type: 'FILE', data: name }, root)).toBe(ms);
  });

  it('absolute paths are used as given; type defaults to FILE', async () => {
    expect(mediaDurationMs({ data: path.join(root, 'three-seconds.wav') }, '/nonexistent')).toBe(3000);
  });
});

describe('media that cannot be played is an error value naming the problem', () => {
  it.each<[string, MediaSpec, MediaError['kind'], string]>([
    ['a missing file', { type: 'FILE', data: 'nope/missing.wav' }, 'not_found', 'nope/missing.wav'],
    ['a missing non-wav', { type: 'FILE', data: 'missing.mp3' }, 'not_found', 'missing.mp3'],
    ['an http URL', { type: 'FILE', data: 'http://example.com/a.wav' }, 'not_found', '404'],
    ['an https URL', { type: 'FILE', data: 'https://example.com/a.wav' }, 'not_found', 'no network'],
    ['a non-wav file', { type: 'FILE', data: 'song.mp3' }, 'unsupported', 'song.mp3'],
    ['a corrupt wav', { type: 'FILE', data: 'not-a-wav.wav' }, 'invalid', 'not-a-wav.wav'],
    ['a directory', { type: 'FILE', data: '.' }, 'unsupported', 'only .wav'],
    ['another stream', { type: 'FILE', data: 'local_stream://moh' }, 'unsupported', 'local_stream'],
    ['a bad silence stream', { type: 'FILE', data: 'silence_stream://abc' }, 'invalid', 'silence_stream'],
    [
      'a tone stream without segments',
      { type: 'FILE', data: 'tone_stream://v=-7' },
      'invalid',
      'tone_stream',
    ],
    ['empty data', { type: 'FILE', data: '' }, 'invalid', 'media.data'],
  ])('%s', async (_name, media, kind, mentions) => {
    const d = mediaDurationMs(media, root);
    expect(d).toBeInstanceOf(MediaError);
    expect((d as MediaError).kind).toBe(kind);
    expect((d as MediaError).message).toContain(mentions);
  });

  it('the error carries the wire code', async () => {
    const d = mediaDurationMs({ data: 'missing.wav' }, root) as MediaError;
    expect(d.code).toBe(404);
  });
});

describe('streams', () => {
  it.each([
    ['silence_stream://1000', 1000],
    ['silence_stream://250,1400', 250],
    ['silence_stream://-1', Number.POSITIVE_INFINITY],
    ['tone_stream://%(1000,4000,450)', 5000],
    ['tone_stream://%(1000,4000,450);loops=2', 10000],
    ['tone_stream://L=3;%(100,100,350,440)', 600],
    ['tone_stream://%(2000,4000,440,480);loops=-1', Number.POSITIVE_INFINITY],
    ['tone_stream://v=-7;%(100,0,941.0,1477.0);%(200,50,400)', 350],
    ['file_string://three-seconds.wav!half.wav!silence_stream://200', 3700],
  ])('%s → %s ms', async (data, ms) => {
    expect(mediaDurationMs({ type: 'FILE', data }, root)).toBe(ms);
  });

  it('toneStreamMs is usable on its own', () => {
    expect(toneStreamMs('tone_stream://%(500,500,425)')).toBe(1000);
  });
});

describe('TTS text is estimated', () => {
  it.each([
    ['press one for sales', 4 * 350],
    ['hi', 350],
    ['a', 350],
    ['您好', 300], // 2 × 80 = 160, raised to the minimum
    ['欢迎致电客服中心请按一号键', 13 * 80],
    ['你好 world', 2 * 80 + 350],
    ['!!! ...', 300],
  ])('%j → %i ms', (text, ms) => {
    expect(speechEstimateMs(text)).toBe(ms);
  });

  it('SSML tags are not spoken', async () => {
    expect(
      mediaDurationMs({ type: 'SSML', data: '<speak>hello <break time="1s"/> there</speak>' }, root),
    ).toBe(700);
  });

  it('TEXT media uses the estimate', async () => {
    expect(mediaDurationMs({ type: 'TEXT', engine: 'ali', data: 'one two three' }, root)).toBe(1050);
  });
});

describe('loop, offset and silence_ms', () => {
  it.each<[Partial<MediaSpec>, number]>([
    [{ loop: 3 }, 9000],
    [{ loop: 0 }, 3000],
    [{ silence_ms: 500 }, 3500],
    [{ loop: 2, silence_ms: 500 }, 6500],
    [{ offset: 1000 }, 2000],
    [{ offset: 5000 }, 0],
    [{ offset: 1000, loop: 2 }, 4000],
  ])('%j', async (extra, ms) => {
    expect(mediaDurationMs({ type: 'FILE', data: 'three-seconds.wav', ...extra }, root)).toBe(ms);
  });
});
