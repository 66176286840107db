/**
 * How long media plays in the simulator. Pure rules plus one file read: a WAV file's real length comes
 * from its header; streams and TTS text follow the documented estimates (docs/simulator.md).
 * Failures come back as `MediaError` values, never thrown from `mediaDurationMs`. File reads are
 * synchronous on purpose (see `wavDurationMs`).
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import wavefile from 'wavefile';
import { MediaError, type MediaSpec } from '../media.js';

/** Per-character time of CJK text (Han, kana, Hangul) in the TTS estimate. */
export const CJK_CHAR_MS = 80;
/** Per-word time of other text in the TTS estimate. */
export const WORD_MS = 350;
/** Shortest TTS estimate. */
export const MIN_SPEECH_MS = 300;
/** Bytes of a WAV file read to find its `fmt ` and `data` chunk headers. */
const WAV_HEAD_BYTES = 64 * 1024;

const CJK_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
const WORD_RE = /[\p{L}\p{N}]/u;

/**
 * Estimated speaking time of a text (used for TEXT/SSML media and for a caller's `say`):
 * 80 ms per CJK character plus 350 ms per other word, at least 300 ms. SSML tags are not spoken.
 *
 * @example
 * speechEstimateMs('press one for sales'); // 4 words → 1400
 * speechEstimateMs('您好'); // 2 CJK characters → 160 → 300 (minimum)
 */
export function speechEstimateMs(text: string, ssml = false): number {
  const plain = ssml ? text.replace(/<[^>]*>/g, ' ') : text;
  const cjk = plain.match(CJK_RE)?.length ?? 0;
  const words = plain
    .replace(CJK_RE, ' ')
    .split(/\s+/)
    .filter((w) => WORD_RE.test(w)).length;
  return Math.max(MIN_SPEECH_MS, cjk * CJK_CHAR_MS + words * WORD_MS);
}

/**
 * Length of a `tone_stream://` spec: the sum of `on + off` of every `%(on,off,freq…)` segment, times
 * the repetitions given by a leading `L=n;` or a trailing `;loops=n` (default 1; -1 = forever).
 * A spec without any `%(…)` segment is rejected.
 *
 * @example
 * toneStreamMs('tone_stream://%(1000,4000,450);loops=2'); // 10000
 */
export function toneStreamMs(spec: string): number | MediaError {
  const body = spec.replace(/^tone_stream:\/\//, '');
  const segments = [...body.matchAll(/%\(\s*(\d+)\s*,\s*(\d+)\s*(?:,[^)]*)?\)/g)];
  if (segments.length === 0) {
    return new MediaError('invalid', `cannot time ${spec}: expected %(on,off,freq) segments`);
  }
  const once = segments.reduce((sum, m) => sum + Number(m[1]) + Number(m[2]), 0);
  const loops = /(?:^|;)\s*L=(-?\d+)/.exec(body)?.[1] ?? /;\s*loops=(-?\d+)/.exec(body)?.[1];
  const n = loops === undefined ? 1 : Number(loops);
  if (n < 0) return Number.POSITIVE_INFINITY;
  return once * Math.max(1, n);
}

/**
 * Real length of a WAV file in ms from its header (data chunk size / byte rate); only the first
 * 64 KiB are read. Throws `MediaError` (not_found, invalid, io).
 *
 * Why synchronous: a header read takes microseconds, and doing it without yielding to real I/O keeps
 * play timing exact on a VirtualClock (an async read could finish after the test advanced time).
 */
export function wavDurationMs(file: string): number {
  let fd: number | undefined;
  let head: Buffer;
  let size: number;
  try {
    fd = openSync(file, 'r');
    size = fstatSync(fd).size;
    head = Buffer.alloc(Math.min(size, WAV_HEAD_BYTES));
    readSync(fd, head, 0, head.length, 0);
  } catch (err) {
    throw fileError(file, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(head, false);
  } catch (err) {
    throw new MediaError('invalid', `${file} is not a readable WAV file`, { cause: err });
  }
  const fmt = wav.fmt as { byteRate?: number };
  const data = wav.data as { chunkSize?: number };
  const byteRate = fmt.byteRate ?? 0;
  if (byteRate <= 0) throw new MediaError('invalid', `${file} has no byte rate in its WAV header`);
  // Files written by a streaming recorder may carry 0 (or garbage) as the data size: use what is on disk.
  let dataBytes = data.chunkSize ?? 0;
  if (dataBytes <= 0 || dataBytes > size) dataBytes = Math.max(0, size - 44);
  return Math.round((dataBytes / byteRate) * 1000);
}

function fileError(file: string, err: unknown): MediaError {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new MediaError('not_found', `file not found: ${file}`, { cause: err });
  if (code === 'EISDIR') return new MediaError('invalid', `${file} is a directory`, { cause: err });
  return new MediaError('io', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
}

/** Length of one FILE `data` item (a stream URL or a path), before loop/offset/silence. */
function fileDurationMs(data: string, mediaRoot: string): number {
  if (data.startsWith('silence_stream://')) {
    const n = Number.parseInt(data.slice('silence_stream://'.length), 10);
    if (Number.isNaN(n))
      throw new MediaError('invalid', `cannot time ${data}: expected silence_stream://<ms>`);
    return n < 0 ? Number.POSITIVE_INFINITY : n;
  }
  if (data.startsWith('tone_stream://')) {
    const ms = toneStreamMs(data);
    if (ms instanceof MediaError) throw ms;
    return ms;
  }
  if (data.startsWith('file_string://')) {
    const parts = data
      .slice('file_string://'.length)
      .split('!')
      .filter((p) => p !== '');
    if (parts.length === 0) throw new MediaError('invalid', `cannot time ${data}: no files`);
    let total = 0;
    for (const part of parts) total += fileDurationMs(part, mediaRoot);
    return total;
  }
  if (/^https?:\/\//i.test(data)) {
    throw new MediaError('not_found', `cannot fetch ${data}: the simulator has no network (404)`);
  }
  if (/^[a-z][a-z0-9_+.-]*:\/\//i.test(data)) {
    throw new MediaError('unsupported', `${data.split('://', 1)[0]}:// streams are not simulated`);
  }
  const file = path.resolve(mediaRoot, data);
  if (!/\.wav$/i.test(file)) {
    // Existence first, so a missing file is reported as missing whatever its extension.
    try {
      statSync(file);
    } catch (err) {
      throw fileError(file, err);
    }
    throw new MediaError('unsupported', `cannot time ${file}: only .wav files are simulated`);
  }
  return wavDurationMs(file);
}

/**
 * How long `media` plays, in ms (`Infinity` for endless streams), or the `MediaError` saying why it
 * cannot be played. FILE (default type): WAV header length, `silence_stream://N` → N,
 * `tone_stream://` per `toneStreamMs`, `file_string://a!b` → sum; relative paths resolve under
 * `mediaRoot`. TEXT/SSML: `speechEstimateMs`. Then `offset` (ms) is skipped, `loop` (0 = once)
 * multiplies, `silence_ms` is added once.
 */
export function mediaDurationMs(media: MediaSpec, mediaRoot: string): number | MediaError {
  if (typeof media.data !== 'string' || media.data === '') {
    return new MediaError('invalid', 'media.data: expected a non-empty string');
  }
  let once: number;
  const type = media.type ?? 'FILE';
  try {
    switch (type) {
      case 'TEXT':
        once = speechEstimateMs(media.data);
        break;
      case 'SSML':
        once = speechEstimateMs(media.data, true);
        break;
      case 'FILE':
        once = fileDurationMs(media.data, mediaRoot);
        break;
      default:
        return new MediaError('invalid', `media.type: unknown type ${String(type)}`);
    }
  } catch (err) {
    return err instanceof MediaError ? err : new MediaError('io', String(err), { cause: err });
  }
  const offset = nonNegative(media.offset);
  const loops = Math.max(1, Math.floor(nonNegative(media.loop)));
  return Math.max(0, once - offset) * loops + nonNegative(media.silence_ms);
}

const nonNegative = (v: number | undefined): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
