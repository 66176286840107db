/**
 * The `xcc` command as a user runs it: real processes (`node --import tsx src/cli/main.ts …`), real exit
 * codes and output, and a real nats-server for the distributed commands. Real time is fine here (this is
 * about processes and sockets); each wait is bounded so a broken CLI fails instead of hanging.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/bus/index.js';
import { decode, encode, request } from '../src/protocol/envelope.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';
import { until } from './support/poll.js';

const ROOT = new URL('..', import.meta.url).pathname;
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test process's environment without XCC_* settings that would change what is tested. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XCC_LOG_LEVEL: 'error' };
  for (const key of Object.keys(env)) if (key.startsWith('XCC_NATS') || key === 'XCC_TENANT') delete env[key];
  return env;
}

/** A running `xcc` process with its output so far. */
class Xcc {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Finished>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  /** Resolves once stdout matches `pattern`; rejects after `ms` with what was printed. */
  async waitFor(pattern: RegExp, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.stdout)) {
      if (this.child.exitCode !== null)
        throw new Error(`xcc exited (${this.child.exitCode}): ${this.stderr}`);
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${pattern}: ${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGINT (Ctrl-C), then the exit. */
  async interrupt(): Promise<Finished> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    return this.exited;
  }
}

/** Runs `xcc args` to completion (killed after `ms`). */
async function xcc(args: string[], ms = 30_000): Promise<Finished> {
  const proc = new Xcc(args);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), ms);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

const nonEmptyLines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');

describe('xcc (no NATS needed)', () => {
  it('xcc --help lists every command', async () => {
    const r = await xcc(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['demo', 'node', 'ctrl', 'call', 'events'])
      expect(r.stdout).toMatch(new RegExp(`\\n\\s+${command} `));
  });

  it('a bad flag exits 2 with one line on stderr', async () => {
    const r = await xcc(['demo', '--bogus']);
    expect(r.code).toBe(2);
    expect(nonEmptyLines(r.stderr)).toEqual(["xcc: unknown option '--bogus'"]);
  });

  it('a bad flag value exits 2 with one line naming the flag', async () => {
    const r = await xcc(['demo', '--rate', 'fast']);
    expect(r.code).toBe(2);
    const lines = nonEmptyLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--rate.*fast.*positive number/);
  });

  it('xcc demo --calls 3 exits 0 after three calls with a summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xcc-cli-demo-'));
    try {
      const r = await xcc(
        ['demo', '--calls', '3', '--speed', '40', '--rate', '30', '--record-dir', dir],
        60_000,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const summaries = r.stdout.split('\n').filter((l) => l.startsWith('summary:'));
      expect(summaries.at(-1)).toMatch(/^summary: 3 calls \(3 ended, 3 answered\)/);
      // The live lines: arrival, IVR steps and hangups of each call.
      expect(r.stdout).toMatch(/#1 call from 1001 to 800/);
      expect(r.stdout).toMatch(/#1 pressed 1/);
      expect(r.stdout).toMatch(/#2 voicemail recorded at /);
      expect(r.stdout.match(/ hangup [A-Z_]+ after /g)?.length).toBeGreaterThanOrEqual(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing flow module exits 2 with one line', async () => {
    const r = await xcc(['ctrl', 'no/such/flow.ts']);
    expect(r.code).toBe(2);
    expect(nonEmptyLines(r.stderr)).toEqual(['xcc: flow module no/such/flow.ts not found']);
  });

  it('an unreachable NATS server exits 2 with one clear line', async () => {
    const r = await xcc(['events', '--nats', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(2);
    const lines = nonEmptyLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^xcc: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});

describe('xcc against a real nats-server', () => {
  let server: NatsServerHandle;
  let dir: string;

  beforeAll(async () => {
    server = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'xcc-cli-nats-'));
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('xcc call with no node running exits 1: no node answered', async () => {
    const r = await xcc(['call', '--nats', server.url, '--from', '1000', '--to', '800']);
    expect(r.code).toBe(1);
    expect(nonEmptyLines(r.stderr)).toEqual([
      'xcc: no node answered XNode.SimCall on cn.xswitch.node (is `xcc node` running?)',
    ]);
  });

  it.each([
    ['', []],
    [' (both with --reliable: the seed-004 layer)', ['--reliable']],
    [' (both with --batching: the layer with the transaction sender)', ['--batching']],
  ])(
    'xcc node + xcc ctrl + xcc call --script: the call is followed to DESTROY, then everything stops on Ctrl-C%s',
    async (_, flags) => {
      const node = new Xcc([
        'node',
        '--nats',
        server.url,
        '--node-uuid',
        'cli-node',
        '--record-dir',
        dir,
        ...flags,
      ]);
      const ctrl = new Xcc([
        'ctrl',
        '--nats',
        server.url,
        'examples/ivr.ts',
        '--set',
        'maxTries=1',
        ...flags,
      ]);
      const events = new Xcc(['events', '--nats', server.url]);
      try {
        await Promise.all([node.waitFor(/xcc node cli-node up/), ctrl.waitFor(/xcc ctrl \S+ running/)]);
        // The caller hangs up half-way through the greeting.
        const script = join(dir, 'caller.yaml');
        await writeFile(script, '- wait: 600\n- hangup: {}\n');
        const r = await xcc([
          'call',
          '--nats',
          server.url,
          '--from',
          '1000',
          '--to',
          '800',
          '--script',
          script,
          '--timeout',
          '15',
        ]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const lines = r.stdout.split('\n');
        expect(lines[0]).toMatch(/^call \S+ from 1000 to 800 on node cli-node$/);
        const states = lines.map((l) => / Event\.Channel (\w+) /.exec(l)?.[1]).filter(Boolean);
        expect(states[0]).toBe('START');
        expect(states).toContain('ANSWERED');
        expect(states.at(-1)).toBe('DESTROY');
        expect(r.stdout).toMatch(/XNode\.Answer/);
        expect(r.stdout).toMatch(/Event\.CDR/);
        expect(lines.filter((l) => l !== '').at(-1)).toMatch(/^call \S+ ended: NORMAL_CLEARING after \d+ s$/);
        // `xcc events` saw the same call.
        await events.waitFor(/Event\.Channel DESTROY/);
      } finally {
        const [n, c, e] = await Promise.all([node.interrupt(), ctrl.interrupt(), events.interrupt()]);
        expect(n.code).toBe(0);
        expect(n.stdout).toMatch(/xcc node cli-node stopped/);
        expect(c.code).toBe(0);
        expect(e.code).toBe(0);
      }
    },
  );

  it('a controller process killed (SIGKILL) with 100 live calls: with --liveness a peer controller process takes every call over', async () => {
    const flow = join(dir, 'hold.mjs');
    await writeFile(
      flow,
      [
        'export default async function hold(call) {',
        "  const resumed = call.variables.xcc_orphaned === 'true';",
        "  process.stdout.write(`flow ${call.uuid} ${resumed ? 'resumed' : 'new'}\\n`);",
        '  if (!resumed) await call.answer();',
        "  await call.play('silence_stream://120000');",
        '}',
        '',
      ].join('\n'),
    );
    const CALLS = 100;
    // The node is up before the controller starts, so it hears the controller's first heartbeat: a node
    // only re-announces calls of controllers it has heard (those without liveness are never orphaned).
    const node = new Xcc([
      'node',
      '--nats',
      server.url,
      '--node-uuid',
      'live-node',
      '--ctrl-liveness',
      '--grace',
      '1',
    ]);
    await node.waitFor(/xcc node live-node up/);
    const first = new Xcc(['ctrl', '--nats', server.url, flow, '--liveness', '--ctrl-uuid', 'ctrl-a']);
    let peer: Xcc | undefined;
    const bus = await NatsBus.connect({ servers: server.url, name: 'cli-test-caller' });
    const flowsOf = (proc: Xcc, kind: 'new' | 'resumed'): Set<string> =>
      new Set([...proc.stdout.matchAll(new RegExp(`flow (\\S+) ${kind}`, 'g'))].map((m) => m[1]!));
    try {
      await first.waitFor(/xcc ctrl ctrl-a running/);
      // 100 callers that stay on the line for two minutes (XNode.SimCall, what `xcc call` sends).
      const injected = await Promise.all(
        Array.from({ length: CALLS }, async (_, i) => {
          const params = {
            ctrl_uuid: `cli-test-${i}`,
            cid_number: String(1000 + i),
            dest_number: '800',
            script: [{ wait: 120_000 }, { hangup: {} }],
          };
          const reply = await bus.request(
            'cn.xswitch.node.live-node',
            encode(request('XNode.SimCall', params, `sim-${i}`)),
            { timeoutMs: 10_000 },
          );
          const decoded = decode(reply.data);
          if (decoded.kind !== 'response' || !('result' in decoded.message))
            throw new Error('SimCall failed');
          return String((decoded.message.result as { uuid: string }).uuid);
        }),
      );
      await until(
        () => `${flowsOf(first, 'new').size} of ${CALLS} flows started on ctrl-a`,
        () => flowsOf(first, 'new').size === CALLS,
      );
      expect(flowsOf(first, 'new')).toEqual(new Set(injected));
      peer = new Xcc(['ctrl', '--nats', server.url, flow, '--liveness', '--ctrl-uuid', 'ctrl-b']);
      await peer.waitFor(/xcc ctrl ctrl-b running/);
      first.child.kill('SIGKILL');
      // The node notices the silence (15 s without a heartbeat) and re-announces every call of ctrl-a.
      const p = peer;
      await until(
        () => `${flowsOf(p, 'resumed').size} of ${CALLS} calls resumed on ctrl-b`,
        () => flowsOf(p, 'resumed').size === CALLS,
        40_000,
      );
      expect(flowsOf(p, 'resumed')).toEqual(new Set(injected));
      expect(flowsOf(p, 'new').size).toBe(0);
    } finally {
      first.child.kill('SIGKILL');
      await bus.close();
      const [n, b] = await Promise.all([node.interrupt(), peer?.interrupt(), first.exited]);
      expect(n.code).toBe(0);
      expect(b?.code).toBe(0);
    }
  }, 120_000);
});
