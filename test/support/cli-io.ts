/**
 * Running `xcc` in-process in tests: a `CliIo` that records lines (`stop$.abort()` plays Ctrl-C), a
 * one-shot runner. Real-time waits: `until` in ./poll.js.
 */
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

export type FakeIo = CliIo & { stdout: string[]; stderr: string[]; stop$: AbortController };

export function fakeIo(): FakeIo {
  const stop = new AbortController();
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    env: { XCC_LOG_LEVEL: 'error' },
    stop: stop.signal,
    force: new AbortController().signal,
    stdout,
    stderr,
    stop$: stop,
  };
}

/** Runs `xcc ARGS…` to its end and returns the exit code and what it printed. */
export async function xcc(...args: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const io = fakeIo();
  const code = await main(['node', 'xcc', ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
