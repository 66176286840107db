/**
 * Node crash with a real process (issue 6, "a node process killed (its calls reaped)"): a real
 * nats-server, an `xcc node` child process heartbeating every 500 ms (`--heartbeat-ms`), and an in-test
 * Controller (RealClock, `nodeExpiryMs` 2 s, `sweepIntervalMs` 250 ms) holding N live calls injected
 * with `XNode.SimCall`. The node process is SIGKILLed: no DESTROY, no CDR, no NodeUnregister ever comes.
 * The controller must notice the silence (no NodeUpdate for `nodeExpiryMs`) and end every call's flow
 * with the reason `node-lost` within `nodeExpiryMs + sweepIntervalMs` of the kill, leaving nothing behind.
 *
 * Real time on purpose (processes and sockets). Every wait polls a condition against a deadline; the
 * deadline for the reap is 3× the bound so a loaded machine does not fail the test, and the measured
 * reap time is printed (docs/chaos.md "Crash tests" records it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/bus/index.js';
import { RealClock } from '../src/clock/index.js';
import { Controller, FlowCancelledError } from '../src/ctrl/index.js';
import { decode, encode, request, subjects } from '../src/protocol/index.js';
import { CallGoneError } from '../src/protocol/errors.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';
import { until } from './support/poll.js';

const ROOT = new URL('..', import.meta.url).pathname;
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const subs = subjects();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A running `xcc` child process (`node --import tsx src/cli/main.ts …`, as test/cli.test.ts runs it). */
class XccProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[]) {
    const env: NodeJS.ProcessEnv = { ...process.env, XCC_LOG_LEVEL: 'error' };
    for (const key of Object.keys(env))
      if (key.startsWith('XCC_NATS') || key === 'XCC_TENANT') delete env[key];
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  async waitFor(pattern: RegExp, ms = 20_000): Promise<void> {
    await until(
      () => `${pattern} on stdout: ${this.stdout}\n${this.stderr}`,
      () => {
        if (this.child.exitCode !== null)
          throw new Error(`xcc exited (${this.child.exitCode}): ${this.stderr}`);
        return pattern.test(this.stdout);
      },
      ms,
    );
  }
}

/** Injects one simulated inbound caller (no script: the caller stays until hung up) into `nodeUuid`. */
async function simCall(bus: NatsBus, nodeUuid: string, i: number): Promise<string> {
  const msg = request(
    'XNode.SimCall',
    { cid_number: `3${String(i).padStart(9, '0')}`, dest_number: '1000' },
    randomUUID(),
  );
  const reply = decode((await bus.request(subs.nodeOf(nodeUuid), encode(msg), { timeoutMs: 5_000 })).data);
  if (reply.kind !== 'response' || !('result' in reply.message))
    throw new Error(`SimCall refused: ${JSON.stringify(reply)}`);
  const uuid = reply.message.result.uuid;
  if (typeof uuid !== 'string') throw new Error(`SimCall: no uuid in ${JSON.stringify(reply.message)}`);
  return uuid;
}

/** How one flow's blocking prompt ended and what the call's end reason was. */
interface Outcome {
  uuid: string;
  /** The prompt rejected with CallGoneError (410) whose cause is the `node-lost` cancellation. */
  goneNodeLost: boolean;
  error: string;
  reason: string | undefined;
  cleaned: boolean;
  at: number;
}

describe('crash: a node process killed', () => {
  it('a node process killed: its calls are reaped within a bounded time (node expiry + sweep), with reason node-lost, and nothing leaks', async () => {
    const N = 25;
    const HEARTBEAT_MS = 500;
    const EXPIRY_MS = 2_000;
    const SWEEP_MS = 250;
    const BOUND_MS = EXPIRY_MS + SWEEP_MS;

    const server: NatsServerHandle = await startNatsServer();
    cleanups.push(() => server.stop());
    const clock = new RealClock();
    const ctrlBus = await NatsBus.connect({ servers: server.url, name: 'crash-ctrl' });
    const probe = await NatsBus.connect({ servers: server.url, name: 'crash-probe' });
    const ctrl = new Controller({
      bus: ctrlBus,
      clock,
      nodeExpiryMs: EXPIRY_MS,
      sweepIntervalMs: SWEEP_MS,
    });
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await ctrl.close();
      await ctrlBus.close();
      await probe.close();
    });

    const outcomes: Outcome[] = [];
    let answered = 0;
    ctrl.onCall(async (call) => {
      const o: Outcome = {
        uuid: call.uuid,
        goneNodeLost: false,
        error: 'none',
        reason: undefined,
        cleaned: false,
        at: 0,
      };
      call.defer(() => {
        o.cleaned = true;
      });
      await call.answer();
      answered++;
      try {
        await call.play('silence_stream://3600000');
      } catch (err) {
        o.error = err instanceof Error ? err.name : String(err);
        o.goneNodeLost =
          err instanceof CallGoneError &&
          err.cause instanceof FlowCancelledError &&
          err.cause.reason === 'node-lost';
      }
      o.reason = (await call.ended).reason;
      o.at = Date.now();
      outcomes.push(o);
    });
    await ctrl.start();
    // The controller's own timers (the sweep) once it runs; checked again after the reap.
    const timersBefore = clock.pending;
    const subsBefore = ctrlBus.subscriptionCount;

    const nodeUuid = `crash-node-${randomUUID().slice(0, 8)}`;
    const node = new XccProcess([
      'node',
      '--nats',
      server.url,
      '--node-uuid',
      nodeUuid,
      '--heartbeat-ms',
      String(HEARTBEAT_MS),
    ]);
    cleanups.push(async () => {
      if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
      await node.exited;
    });
    await node.waitFor(new RegExp(`xcc node ${nodeUuid} up`));

    const injected = new Set<string>();
    for (let i = 0; i < N; i++) injected.add(await simCall(probe, nodeUuid, i));
    await until(
      () => `${answered}/${N} calls answered`,
      () => answered === N,
      15_000,
    );
    expect(ctrl.nodes.get(nodeUuid)).toBeDefined();

    // A live node is never reaped: hold the calls past one whole expiry window (heartbeats keep it known).
    const heldFrom = Date.now();
    await until(
      () => 'holding',
      () => Date.now() - heldFrom > BOUND_MS,
      BOUND_MS * 2,
    );
    expect(ctrl.stats().reaped).toBe(0);
    expect(outcomes).toHaveLength(0);
    expect(ctrl.leaks()).toMatchObject({ calls: N, flows: N });

    // Crash: SIGKILL. No DESTROY, CDR or NodeUnregister will ever come.
    const killedAt = Date.now();
    node.child.kill('SIGKILL');
    expect(await node.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // The deadline of the wait is 3× the bound (a real-time test); the measured time is asserted below
    // only against the same generous margin and printed for the record.
    await until(
      () => `${outcomes.length}/${N} flows ended after the node was killed`,
      () => outcomes.length === N,
      3 * BOUND_MS,
    );
    const reapMs = Math.max(...outcomes.map((o) => o.at)) - killedAt;
    const firstMs = Math.min(...outcomes.map((o) => o.at)) - killedAt;
    console.log(
      `[crash-node-process] ${N} calls reaped ${firstMs}–${reapMs} ms after SIGKILL ` +
        `(bound: expiry ${EXPIRY_MS} + sweep ${SWEEP_MS} = ${BOUND_MS} ms; heartbeat ${HEARTBEAT_MS} ms)`,
    );
    expect(reapMs).toBeLessThan(3 * BOUND_MS);

    // Every call ended once, for the node-lost reason, its blocking prompt got the SDK's typed 410 and its
    // cleanup ran.
    expect(new Set(outcomes.map((o) => o.uuid))).toEqual(injected);
    for (const o of outcomes) {
      expect(o).toMatchObject({
        goneNodeLost: true,
        error: 'CallGoneError',
        reason: 'node-lost',
        cleaned: true,
      });
    }
    expect(ctrl.stats()).toMatchObject({ reaped: N, accepted: N, flowsFailed: 0 });
    expect(ctrl.nodes.get(nodeUuid)).toBeUndefined();

    // Nothing is left: no call record, flow, task, pending RPC, extra timer or subscription.
    await until(
      () => JSON.stringify(ctrl.leaks()),
      () => ctrl.leaks().calls === 0 && ctrl.leaks().tasks === 0 && ctrl.leaks().rpcPending === 0,
      5_000,
    );
    expect(ctrl.leaks()).toMatchObject({
      calls: 0,
      flows: 0,
      tasks: 0,
      rpcPending: 0,
      timers: timersBefore,
      subscriptions: subsBefore,
    });
    closed = true;
    await ctrl.close();
    expect(clock.pending).toBe(0);
    expect(ctrlBus.subscriptionCount).toBe(0);
  }, 30_000);
});
