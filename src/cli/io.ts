/**
 * Where a command writes and what it reads from its environment. Commands never touch `process.stdout`
 * or `process.env` directly, so they can run in-process (tests, embedding) as well as from `main.ts`.
 */

export interface CliIo {
  /** One human-readable line of output (no trailing newline). */
  out(line: string): void;
  /** One line of diagnostics for stderr. */
  err(line: string): void;
  /** Environment variables (XCC_NATS_URL…). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves when the user asks to stop (SIGINT/SIGTERM); `main.ts` wires the process signals.
   * The signal is aborted at that moment too.
   */
  readonly stop: AbortSignal;
  /** Aborted at the second SIGINT/SIGTERM: stop draining, end now (still cleanly). A third exits at once. */
  readonly force: AbortSignal;
  /**
   * Calls `fn` on each reload request (SIGHUP in `processIo`) until the returned function is called.
   * While one is registered the request never ends the process. Optional: without it, none come.
   *
   * @example
   * const off = io.onReload?.(() => reloadConfig());
   * try { await work(); } finally { off?.(); }
   */
  onReload?(fn: () => void): () => void;
}

/**
 * The process-backed `CliIo`: stdout/stderr lines, `process.env`, SIGINT/SIGTERM → `stop`, SIGHUP →
 * `onReload` handlers (only while one is registered does Node not end the process on SIGHUP).
 */
export function processIo(): { io: CliIo; dispose(): void } {
  const stop = new AbortController();
  const force = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stop.signal.aborted) {
      stop.abort(new Error(signal));
    } else if (!force.signal.aborted) {
      process.stderr.write(`xcc: ${signal} again: not waiting any longer (once more to exit at once)\n`);
      force.abort(new Error(signal));
    } else {
      process.stderr.write(`xcc: ${signal}: exiting now\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const reloadListeners = new Set<() => void>();
  const io: CliIo = {
    out: (line) => {
      process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      process.stderr.write(`${line}\n`);
    },
    env: process.env,
    stop: stop.signal,
    force: force.signal,
    onReload: (fn) => {
      const listener = (): void => fn();
      reloadListeners.add(listener);
      process.on('SIGHUP', listener);
      return () => {
        reloadListeners.delete(listener);
        process.off('SIGHUP', listener);
      };
    },
  };
  return {
    io,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A command that forgot its removal must not keep the signal away from Node after we are done.
      for (const listener of reloadListeners) process.off('SIGHUP', listener);
      reloadListeners.clear();
    },
  };
}

/** Resolves when `signal` aborts (at once if it already has). Never rejects. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
