/**
 * Files written by simulated recordings: real WAV files of silence (mono, 16-bit) whose length is the
 * recorded time, confined under the record root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import wavefile from 'wavefile';
import { MediaError } from '../media.js';

/** Sample rates Record accepts (reference §6). */
export const RECORD_RATES: readonly number[] = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

/**
 * Where a recording path lands on disk: relative and absolute paths alike resolve under `recordRoot`
 * (an FS-style `/var/recordings/a.wav` becomes `<recordRoot>/var/recordings/a.wav`); a path escaping
 * the root with `..` is rejected.
 */
export function resolveRecordPath(recordRoot: string, requested: string): string {
  if (typeof requested !== 'string' || requested.trim() === '') {
    throw new MediaError('invalid', 'path: expected a non-empty file path');
  }
  const root = path.resolve(recordRoot);
  const relative = requested.replace(/^([a-zA-Z]:)?[\\/]+/, '');
  const file = path.resolve(root, relative);
  if (file === root || !file.startsWith(root + path.sep)) {
    throw new MediaError('invalid', `path: ${requested} escapes the record root`);
  }
  return file;
}

/**
 * Writes `ms` of silence at `rate` Hz as a 16-bit mono WAV file (creating directories).
 *
 * Synchronous on purpose: the simulator runs on virtual time, which cannot wait for the thread pool, so an
 * async write would let a test's clock race past a recording that is still being written. The files are
 * small (16 KB per second at 8 kHz) and the write happens once, when the recording ends.
 */
export async function writeSilenceWav(
  file: string,
  ms: number,
  rate: number,
): Promise<{ size: number; samples: number }> {
  const samples = Math.max(0, Math.round((ms * rate) / 1000));
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, rate, '16', new Int16Array(samples));
  const bytes = wav.toBuffer();
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  } catch (err) {
    throw new MediaError('io', `cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { size: bytes.length, samples };
}
