/**
 * Running `xcc` in-process in tests: a `CliIo` that records lines (`stop$.abort()` plays Ctrl-C,
 * `reload()` plays `kill -HUP`), a one-shot runner. Real-time waits: `until` in ./poll.js.
 */
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

export type FakeIo = CliIo & {
  stdout: string[];
  stderr: string[];
  stop$: AbortController;
  /** Plays SIGHUP: calls every `onReload` handler; returns how many there were (0: it would have been lost). */
  reload(): number;
};

export function fakeIo(): FakeIo {
  const stop = new AbortController();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const reloadHandlers = new Set<() => void>();
  return {
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    env: { XCC_LOG_LEVEL: 'error' },
    stop: stop.signal,
    force: new AbortController().signal,
    onReload: (fn) => {
      // A wrapper per registration, so registering one function twice needs two removals, as with process.on.
      const handler = (): void => fn();
      reloadHandlers.add(handler);
      return () => {
        reloadHandlers.delete(handler);
      };
    },
    reload: () => {
      const handlers = [...reloadHandlers];
      for (const handler of handlers) handler();
      return handlers.length;
    },
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
