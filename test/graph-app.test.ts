/**
 * `xcc ctrl app.json`: app files that are wrong in every way we can think of are refused before
 * anything connects, with one line naming the fault and exit code 2 (in-process through `main`, and
 * once as a spawned process); and the built-in addons' semantics that the IVR example cannot show
 * (an unanswered call counts as failed and bills nothing; report to a file).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/clock/index.js';
import type { BillingReport, CallEnd, MetricsCounters } from '../src/cli/app/index.js';
import type { CliIo } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import type { CmdResult } from '../src/graph/index.js';
import { startExample } from '../examples/graph/harness.js';

const ROOT = new URL('..', import.meta.url).pathname;
const MANUAL = { manual_trigger_life_cycle: [{ stage: 'start' }, { stage: 'stop' }] };

function io(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {},
      stop: new AbortController().signal,
      force: new AbortController().signal,
    },
    out,
    err,
  };
}

/** A valid app graph, to break one piece at a time. */
function appGraph(router: Record<string, unknown> = { flow: 'flow.mjs' }): Record<string, unknown> {
  return {
    nodes: [
      { type: 'extension', name: 'main', addon: 'main' },
      { type: 'extension', name: 'billing', addon: 'billing', property: { ten: MANUAL } },
      { type: 'extension', name: 'report', addon: 'report', property: { path: 'calls.jsonl', ten: MANUAL } },
      { type: 'extension', name: 'metrics', addon: 'metrics' },
      { type: 'extension', name: 'router', addon: 'call-router', property: router },
    ],
    connections: [
      {
        extension: 'router',
        event: [
          {
            names: ['call_start', 'call_answer', 'call_end'],
            dest: [{ extension: 'billing' }, { extension: 'report' }, { extension: 'metrics' }],
          },
        ],
      },
    ],
  };
}

function detail<T>(result: CmdResult): T {
  if (result.status !== 'ok') throw new Error(`${result.code} ${result.message}`);
  return result.detail as T;
}

describe('xcc ctrl app.json', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xcc-graph-app-'));
    await writeFile(join(dir, 'flow.mjs'), 'export default async function flow() {}\n');
    await writeFile(join(dir, 'bad.json'), '{ "graph": ');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function refused(app: unknown, name = 'app.json'): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, typeof app === 'string' ? app : JSON.stringify(app));
    const t = io();
    const code = await main(['node', 'xcc', 'ctrl', '--nats', 'nats://127.0.0.1:1', file], t.io);
    expect(code).toBe(2);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(/^xcc: /);
    expect(t.err[0]).not.toContain('\n');
    return t.err[0]!;
  }

  it.each([
    ['invalid JSON', '{ "graph": ', /app\.json: invalid JSON/],
    ['a missing graph', {}, /app\.json: graph: /],
    ['an unknown top-level field', { graph: appGraph(), extra: 1 }, /app\.json: .*extra/],
    ['a graph file that does not exist', { graph: 'nope.json' }, /graph file nope\.json: file not found/],
    [
      'an unknown addon',
      { graph: { nodes: [{ type: 'extension', name: 'x', addon: 'billingg' }] } },
      /graph: .*node "x".*unknown addon "billingg"/,
    ],
    [
      'a router without a flow',
      { graph: appGraph({ options: {} }) },
      /graph: node "router": property\.flow: /,
    ],
    [
      'a bad metrics property',
      {
        graph: {
          nodes: [{ type: 'extension', name: 'm', addon: 'metrics', property: { log_every_ms: -1 } }],
        },
      },
      /graph: node "m": property\.log_every_ms/,
    ],
    [
      'a connection to an unknown extension',
      {
        graph: {
          nodes: [{ type: 'extension', name: 'm', addon: 'metrics' }],
          connections: [{ extension: 'm', event: [{ name: 'x', dest: [{ extension: 'ghost' }] }] }],
        },
      },
      /graph: .*ghost/,
    ],
    [
      'a missing import_uri file',
      { graph: { nodes: [{ type: 'subgraph', name: 'sg', graph: { import_uri: 'sg.json' } }] } },
      /import_uri "sg\.json": file not found/,
    ],
    [
      'a per-call graph with an unknown addon',
      { graph: appGraph(), per_call: { nodes: [{ type: 'extension', name: 'b', addon: 'billing' }] } },
      /per_call: .*unknown addon "billing"/,
    ],
    [
      'a per-call graph without a router',
      {
        graph: { nodes: [{ type: 'extension', name: 'm', addon: 'metrics' }] },
        per_call: { nodes: [{ type: 'extension', name: 'b', addon: 'call-billing' }] },
      },
      /per_call: .*call-router/,
    ],
    [
      'a flow module that does not exist',
      { graph: appGraph({ flow: 'missing.mjs' }) },
      /missing\.mjs not found/,
    ],
  ])('refuses %s with one line naming the fault (exit 2)', async (_what, app, pattern) => {
    expect(await refused(app)).toMatch(pattern);
  });

  it('a spawned `xcc ctrl bad.json` exits 2 with one line on stderr', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'ctrl', join(dir, 'bad.json')],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, XCC_LOG_LEVEL: 'error' }, timeout: 30_000 },
    );
    expect(run.status).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^xcc: .*bad\.json: invalid JSON/);
  });

  it('a valid app passes validation and only then needs NATS', async () => {
    const t = io();
    await writeFile(join(dir, 'ok.json'), JSON.stringify({ graph: appGraph() }));
    const code = await main(
      ['node', 'xcc', 'ctrl', '--nats', 'nats://127.0.0.1:1', join(dir, 'ok.json')],
      t.io,
    );
    expect(code).toBe(2);
    expect(t.err.join(' ')).toMatch(/NATS/);
  });

  it('an unanswered call counts as failed, bills nothing, and is reported to the file', async () => {
    const clock = new VirtualClock();
    await writeFile(join(dir, 'silent.json'), JSON.stringify({ graph: appGraph({ flow: 'silent' }) }));
    const ex = await startExample({
      clock,
      out: () => {},
      appPath: join(dir, 'silent.json'),
      // Never answers: waits until the caller gives up.
      flows: {
        silent: (call) =>
          new Promise<void>((resolve) =>
            call.signal.addEventListener('abort', () => resolve(), { once: true }),
          ),
      },
    });
    try {
      ex.node.inject({
        cid_name: 'Caller',
        cid_number: '1',
        dest_number: '800',
        script: [{ wait: 4000 }, { hangup: {} }],
      });
      await clock.advance(10_000);
      const metrics = detail<MetricsCounters>(await ex.graph.sendCmd('metrics', 'metrics'));
      expect(metrics).toEqual({ calls: 1, answered: 0, failed: 1, active: 0 });
      const billing = detail<BillingReport>(await ex.graph.sendCmd('billing', 'billing'));
      expect(billing.records[0]).toMatchObject({
        state: 'ended',
        answered_at: undefined,
        billable_seconds: 0,
      });
      await ex.graph.close();
      const lines = (await readFile(join(dir, 'calls.jsonl'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(1);
      const record = JSON.parse(lines[0]!) as CallEnd;
      expect(record).toMatchObject({ cid_number: '1', billable_ms: 0, billable_seconds: 0 });
      expect(record.answered_at).toBeUndefined();
    } finally {
      await ex.stop();
    }
  });
});
