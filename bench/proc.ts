/**
 * Child processes of the benchmark: spawn `node <script> args…`, wait for the line it prints when ready
 * (or for a JSON line with results), and stop it. Each child prints `ready` on stdout when it is serving.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory of the compiled bench files (dist/bench). */
export const benchDir = dirname(fileURLToPath(import.meta.url));

export interface BenchChild {
  readonly child: ChildProcess;
  /** Resolves with the next stdout line that satisfies `match` (rejects if the child exits first or on timeout). */
  nextLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when the child is gone. */
  stop(): Promise<void>;
}

/** Spawns `node [nodeArgs] dist/bench/<script> [args]` and waits for its `ready` line. */
export async function spawnBenchChild(
  script: string,
  args: string[],
  options: { nodeArgs?: string[]; readyTimeoutMs?: number } = {},
): Promise<BenchChild> {
  // Under tsx (development: `npx tsx bench/run.ts`) the siblings are .ts files and need the tsx loader.
  const fromSource = import.meta.url.endsWith('.ts');
  const file = join(benchDir, fromSource ? script.replace(/\.js$/, '.ts') : script);
  const loader = fromSource ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, ...(options.nodeArgs ?? []), file, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buffer = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      const i = waiters.findIndex((w) => w.match(line));
      if (i >= 0) waiters.splice(i, 1)[0]?.resolve(line);
      else lines.push(line);
      nl = buffer.indexOf('\n');
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killAtExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killAtExit);

  const nextLine = (match: (line: string) => boolean, timeoutMs: number): Promise<string> => {
    const i = lines.findIndex(match);
    if (i >= 0) return Promise.resolve(lines.splice(i, 1)[0] as string);
    return new Promise<string>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (l: string) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`${script}: no expected output within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(waiter);
      exited.then(
        () => {
          clearTimeout(timer);
          reject(new Error(`${script} exited (code ${child.exitCode}, signal ${child.signalCode})`));
        },
        () => {},
      );
    });
  };

  await nextLine((l) => l === 'ready', options.readyTimeoutMs ?? 15_000);
  return {
    child,
    nextLine,
    stop: async () => {
      process.removeListener('exit', killAtExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
