/**
 * Test harness for a real `nats-server`: spawns the binary on a free port with a temporary config,
 * waits until it accepts TCP connections, and kills it on `stop()`/`kill()` or when the test process
 * exits. `restart()` brings it back on the same port so clients can reconnect. Real time is used here
 * on purpose: this is about sockets and processes, not about our own timers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The one line printed when the binary is missing (same text as scripts/ensure-nats-server.mjs). */
export const NATS_SERVER_INSTRUCTION =
  "nats-server is required for the tests: run 'sudo apt-get install nats-server' (Debian) or put the nats-server binary on PATH";

// Debian installs nats-server in /usr/sbin, which ordinary users often lack on PATH.
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of the `nats-server` binary (PATH first, then the sbin folders), or undefined. */
export function findNatsServer(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...SBIN_DIRS]) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder; keep looking
    }
  }
  return undefined;
}

export type NatsServerAuth = { user: string; pass: string } | { token: string };

export interface NatsServerOptions {
  /** Server `max_payload` in bytes. Default: the server's own (1 MiB). */
  maxPayload?: number;
  /** Require user/password or token authentication. Default: none. */
  auth?: NatsServerAuth;
  /** Raw lines appended to the generated config (e.g. an nkey `authorization` block). */
  extraConfig?: string;
  /** Extra command-line arguments for `nats-server`. */
  args?: string[];
  /** How long to wait for the port to accept connections. Default 10 000 ms. */
  startTimeoutMs?: number;
}

export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Terminates the server (SIGTERM, SIGKILL after 5 s) and removes its temporary files. Idempotent. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), e.g. to simulate a crash. Files stay for `restart()`. */
  kill(): void;
  /** Stops the server if it runs, then starts it again on the same port and waits until it is ready. */
  restart(): Promise<void>;
}

/** Every live child, killed synchronously if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function renderConfig(port: number, options: NatsServerOptions): string {
  const lines = [`listen: "127.0.0.1:${port}"`];
  if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
  const auth = options.auth;
  if (auth !== undefined) {
    if ('token' in auth) lines.push(`authorization { token: ${JSON.stringify(auth.token)} }`);
    else
      lines.push(
        `authorization { user: ${JSON.stringify(auth.user)}, password: ${JSON.stringify(auth.pass)} }`,
      );
  }
  if (options.extraConfig !== undefined) lines.push(options.extraConfig);
  return lines.join('\n') + '\n';
}

/**
 * Starts a real `nats-server` on a free port.
 *
 * @example
 * const server = await startNatsServer({ maxPayload: 4096 });
 * const bus = await NatsBus.connect({ servers: server.url });
 * // ...
 * await bus.close();
 * await server.stop();
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = findNatsServer();
  if (bin === undefined) throw new Error(NATS_SERVER_INSTRUCTION);
  installExitHook();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'openxcc-nats-'));
  const configFile = join(dir, 'nats.conf');
  await writeFile(configFile, renderConfig(port, options));
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;

  let child: ChildProcess | undefined;
  let stopped = false;

  const launch = async (): Promise<void> => {
    const proc = spawn(bin, ['-c', configFile, ...(options.args ?? [])], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    live.add(proc);
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      // keep only the tail: enough to explain a failed start
      stderr = (stderr + chunk).slice(-4000);
    });
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      live.delete(proc);
    });
    proc.once('error', () => {
      exited = true;
      live.delete(proc);
    });
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`nats-server exited during start-up:\n${stderr}`);
      if (await tryConnect(port)) return;
      await delay(20);
    }
    proc.kill('SIGKILL');
    throw new Error(
      `nats-server did not accept connections on port ${port} within ${startTimeoutMs} ms:\n${stderr}`,
    );
  };

  const terminate = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // after kill() the signal is already sent; only wait for the exit
    if (!proc.killed) proc.kill('SIGTERM');
    const force = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  };

  try {
    await launch();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate();
      await rm(dir, { recursive: true, force: true });
    },
    kill() {
      const proc = child;
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      // terminate() waits for this exit, so a restart() right after kill() does not race the old port
      proc.kill('SIGKILL');
    },
    async restart() {
      if (stopped) throw new Error('nats-server harness: restart() after stop()');
      await terminate();
      await launch();
    },
  };
}
