/**
 * A real nats-server killed (SIGKILL) and restarted on the same port in the middle of calls, with the
 * seed-004 transaction layer on at both ends (issue 6: "a NATS server killed and restarted in the middle
 * of calls (calls in a steady state survive, requests in flight complete once)").
 *
 * In-test XNode (reply cache, `onExecute` counting executions per transaction id) and Controller
 * (`reliability: true`), each on its own NatsBus, RealClock. Some calls sit in a steady state (answered,
 * one long prompt); the others run back-to-back short Plays, so at the moment of the kill every one of
 * them has a Play request or answer in flight. Requests, answers and events sent while the server is
 * down or lost inside it are resent (same transaction id) after the reconnect and answered from the
 * reply cache: every flow ends ok and no transaction executes twice.
 *
 * Real time on purpose (a real server process and sockets); waits poll conditions against deadlines.
 * test/chaos-spine.test.ts has the same crash without the layer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/bus/index.js';
import { RealClock } from '../src/clock/index.js';
import { Controller } from '../src/ctrl/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';
import { startCrashLoad, tapRequestCopies } from './support/crash-calls.js';
import { until } from './support/poll.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('crash: a NATS server killed and restarted, reliability on at both ends', () => {
  it('a NATS server killed and restarted in the middle of calls: steady calls survive, requests in flight complete once, nothing is left', async () => {
    const STEADY = 5;
    const BUSY = 10;
    const PLAYS = 16;
    const SHORT_MS = 250;

    const server: NatsServerHandle = await startNatsServer();
    cleanups.push(() => server.stop());
    const clock = new RealClock();
    // The node retries every 50 ms, the controller every second: after the restart the node is back
    // first and the answers it had buffered reach a server where the controller is not subscribed yet —
    // they are lost. Only the controller's resends (buffered while it was away) can bring them back.
    const nodeBus = await NatsBus.connect({
      servers: server.url,
      name: 'restart-node',
      reconnectTimeWaitMs: 50,
    });
    const ctrlBus = await NatsBus.connect({
      servers: server.url,
      name: 'restart-ctrl',
      reconnectTimeWaitMs: 1_000,
    });

    const executions = new Map<string, number>();
    const media = new SimMedia({ clock, directory: {} });
    const node = new XNode({
      bus: nodeBus,
      clock,
      media,
      reliability: { onExecute: ({ id }) => executions.set(id, (executions.get(id) ?? 0) + 1) },
    });
    await node.start();
    const ctrl = new Controller({ bus: ctrlBus, clock, reliability: true });
    await ctrl.start();
    cleanups.push(async () => {
      await ctrl.close();
      await node.stop();
      await media.stop();
      await nodeBus.close();
      await ctrlBus.close();
    });

    // A tap on the node's own connection: every copy of every request the node receives (its subject and
    // the queue subject). A transaction id received more than once is a resend the reply cache answered.
    const tap = tapRequestCopies(nodeBus);
    cleanups.push(async () => tap.stop());
    const copies = tap.copies;
    await nodeBus.flush();

    const events = { nodeDown: 0, ctrlDown: 0, nodeUp: 0, ctrlUp: 0, nodeUpAt: 0, ctrlUpAt: 0 };
    nodeBus.onDisconnect(() => events.nodeDown++);
    ctrlBus.onDisconnect(() => events.ctrlDown++);
    nodeBus.onReconnect(() => {
      events.nodeUp++;
      events.nodeUpAt = Date.now();
    });
    ctrlBus.onReconnect(() => {
      events.ctrlUp++;
      events.ctrlUpAt = Date.now();
    });

    // Calls 0..STEADY-1 hold one prompt long enough to outlast the outage; the others loop short Plays.
    const { ends, plays, injected } = await startCrashLoad(ctrl, node, {
      steady: STEADY,
      busy: BUSY,
      plays: PLAYS,
      shortMs: SHORT_MS,
    });
    const executedBefore = executions.size;
    // Plays each busy flow had finished when the server died: all of them are mid-loop, so each one has
    // a Play request (or its answer) in flight across the outage.
    const playsAtKill = [...plays.values()];

    // Crash mid-Play: every busy flow has a Play request or answer in flight right now.
    const killedAt = Date.now();
    server.kill();
    await until(
      () => 'both clients notice the disconnect',
      () => events.nodeDown > 0 && events.ctrlDown > 0,
      5_000,
    );
    await server.restart();
    await until(
      () => 'both clients reconnected',
      () => events.nodeUp > 0 && events.ctrlUp > 0,
      10_000,
    );

    await until(
      () => `${ends.size} flows ended`,
      () => ends.size === STEADY + BUSY,
      25_000,
    );
    const duplicates = [...copies.values()].filter((c) => c.n > 1).length;
    // Steady calls' long Plays are always resent (answered 100 Trying): the crash shows in the others.
    const busyResent = [...copies.values()].filter((c) => c.n > 1 && plays.has(String(c.uuid))).length;
    const nodeBackMs = events.nodeUpAt - killedAt;
    const ctrlBackMs = events.ctrlUpAt - killedAt;
    console.log(
      `[crash-nats-restart-reliable] node back ${nodeBackMs} ms, controller back ${ctrlBackMs} ms after SIGKILL; ` +
        `${executions.size} transactions executed (${executions.size - executedBefore} after the kill), ` +
        `${duplicates} transaction ids received more than once by the node (${busyResent} of busy calls), ` +
        `all flows done ` +
        `${Date.now() - killedAt} ms after the kill`,
    );
    // Every flow, steady or mid-request, completed; none failed with "outcome unknown".
    expect(new Set(ends.keys())).toEqual(injected);
    expect([...ends.entries()].filter(([, end]) => end !== 'ok')).toEqual([]);
    for (const n of plays.values()) expect(n).toBe(PLAYS);
    // The crash hit every busy flow mid-loop. Whether a given in-flight Play reaches the node twice (its
    // answer lost, the controller's resend answered from the reply cache) or once (the request itself lost
    // in the dead server, then resent) depends on where the kill caught it; the log line says which.
    expect(playsAtKill).toHaveLength(BUSY);
    for (const n of playsAtKill) expect(n).toBeLessThan(PLAYS);
    // Exactly once: no transaction id executed twice on the node, whatever was resent.
    expect([...executions.values()].filter((n) => n > 1)).toEqual([]);
    // answer + plays per call (Accept too), all of them executed once.
    expect(executions.size).toBeGreaterThanOrEqual(STEADY * 2 + BUSY * (1 + PLAYS));

    // hangupAfterFlow hangs every call up: nothing is left on either side.
    await until(
      () => `node ${JSON.stringify(node.leaks())} ctrl ${JSON.stringify(ctrl.leaks())}`,
      () =>
        node.channelCount === 0 &&
        ctrl.leaks().calls === 0 &&
        ctrl.leaks().rpcPending === 0 &&
        node.leaks().rpcInflight === 0,
      10_000,
    );
    expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });
    expect(node.leaks()).toMatchObject({ channels: 0, reservedUuids: 0, backgroundTasks: 0, rpcInflight: 0 });
  }, 40_000);
});
