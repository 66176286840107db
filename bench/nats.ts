/**
 * Minimal nats-server launcher for the benchmark: a free loopback port, a temp config, wait until the
 * port accepts connections, kill on stop and at process exit. (The test harness in test/support is not
 * part of the build, so the bench carries its own small copy of the spawn logic.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface BenchNatsServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface BenchNatsOptions {
  /** Server max_payload in bytes (default: the server's own default, 1 MiB). */
  maxPayload?: number;
  /** How long to wait for the port to open (default 10 000 ms). */
  startTimeoutMs?: number;
}

/** Asks the OS for a free loopback port (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `nats-server` on a free loopback port. Throws with a one-line instruction if the binary is missing. */
export async function startBenchNats(options: BenchNatsOptions = {}): Promise<BenchNatsServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'xcc-bench-nats-'));
  const conf = join(dir, 'nats.conf');
  const lines = [`listen: 127.0.0.1:${port}`];
  if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(findNatsBinary(), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const killAtExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killAtExit);

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    const failed = await Promise.race([spawnError, wait(0).then(() => undefined)]);
    if (failed) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `cannot start nats-server (${failed.message}): run 'sudo apt-get install nats-server' (Debian) or put the nats-server binary on PATH`,
      );
    }
    if (child.exitCode !== null)
      throw new Error(`nats-server exited with ${child.exitCode}: ${stderr.trim()}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not open port ${port} in time: ${stderr.trim()}`);
    }
    await wait(20);
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop: async () => {
      process.removeListener('exit', killAtExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await Promise.race([exited, wait(2000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `nats-server` from PATH, else the Debian sbin folders (often missing from an ordinary user's PATH). */
function findNatsBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return 'nats-server';
}
