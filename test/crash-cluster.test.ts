/**
 * A member of a real 3-server NATS cluster killed (SIGKILL) during calls (issue 6: "a member of a
 * 3-server NATS cluster killed"). The node's connection is on member A, the controller's on member B,
 * each given all three URLs; the seed-004 layer is on at both ends (`reliability`, the node counting
 * executions per transaction id with `onExecute`). Some calls sit in a steady state (answered, one long
 * prompt); the others run back-to-back short Plays, so requests and answers are in flight at the kill.
 *
 * Killing A: the node fails over to another member and re-subscribes; until its interest reaches B
 * again, requests for it are dropped by the cluster (resent by the controller), and its answers meanwhile
 * wait in its client's buffer. Killing B: the controller fails over; answers sent to it meanwhile are
 * lost and come back through its resends, answered from the node's reply cache. Either way every flow
 * ends ok and no transaction executes twice.
 *
 * Real time on purpose (server processes and sockets); waits poll conditions against deadlines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/bus/index.js';
import { RealClock } from '../src/clock/index.js';
import { Controller } from '../src/ctrl/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';
import { type NatsCluster, startNatsCluster } from './support/nats-cluster.js';
import { startCrashLoad, tapRequestCopies } from './support/crash-calls.js';
import { until } from './support/poll.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const STEADY = 5;
const BUSY = 10;
const PLAYS = 16;
const SHORT_MS = 250;

/**
 * Cluster, node on one member, controller on another (the client picks a member at random from the
 * list: the controller reconnects until it lands elsewhere), calls up and in flight.
 */
async function clusterWorld() {
  const cluster: NatsCluster = await startNatsCluster();
  cleanups.push(() => cluster.stop());
  const clock = new RealClock();
  const connect = (name: string): Promise<NatsBus> =>
    NatsBus.connect({ servers: cluster.urls, name, reconnectTimeWaitMs: 50 });

  const nodeBus = await connect('cluster-node');
  const nodeMember = await cluster.whereIs('cluster-node');
  if (nodeMember === undefined) throw new Error('the node connection is on no member');
  let ctrlBus = await connect('cluster-ctrl');
  let ctrlMember = await cluster.whereIs('cluster-ctrl');
  for (let i = 0; i < 30 && ctrlMember === nodeMember; i++) {
    await ctrlBus.close();
    ctrlBus = await connect('cluster-ctrl');
    ctrlMember = await cluster.whereIs('cluster-ctrl');
  }
  if (ctrlMember === undefined || ctrlMember === nodeMember)
    throw new Error(`the controller did not land on another member than the node's (${nodeMember})`);

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
  const finalCtrlBus = ctrlBus;
  cleanups.push(async () => {
    await ctrl.close();
    await node.stop();
    await media.stop();
    await nodeBus.close();
    await finalCtrlBus.close();
  });

  // A tap on the node's own connection: every copy of every request the node receives.
  const tap = tapRequestCopies(nodeBus);
  cleanups.push(async () => tap.stop());
  const copies = tap.copies;
  await nodeBus.flush();

  const reconnects = { node: 0, ctrl: 0 };
  nodeBus.onReconnect(() => reconnects.node++);
  finalCtrlBus.onReconnect(() => reconnects.ctrl++);

  const { ends, plays, injected } = await startCrashLoad(ctrl, node, {
    steady: STEADY,
    busy: BUSY,
    plays: PLAYS,
    shortMs: SHORT_MS,
  });
  return {
    cluster,
    node,
    ctrl,
    nodeMember,
    ctrlMember,
    executions,
    copies,
    reconnects,
    ends,
    plays,
    injected,
  };
}

type ClusterWorld = Awaited<ReturnType<typeof clusterWorld>>;

/** Kills `member`, waits for `who` to fail over and for every flow to end; returns figures for the log. */
async function killAndFinish(w: ClusterWorld, member: number, who: 'node' | 'ctrl') {
  const name = who === 'node' ? 'cluster-node' : 'cluster-ctrl';
  const executedBefore = w.executions.size;
  const killedAt = Date.now();
  w.cluster.kill(member);
  await until(
    () => `the ${who} reconnects`,
    () => w.reconnects[who] > 0,
    10_000,
  );
  const failoverMs = Date.now() - killedAt;
  // Where it is now (the monitoring endpoint lists the connection once the member has it).
  let now = await w.cluster.whereIs(name);
  for (const deadline = Date.now() + 5_000; now === undefined && Date.now() < deadline; ) {
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
    now = await w.cluster.whereIs(name);
  }
  await until(
    () => `${w.ends.size} flows ended`,
    () => w.ends.size === STEADY + BUSY,
    25_000,
  );
  return {
    failoverMs,
    doneMs: Date.now() - killedAt,
    now,
    executedAfter: w.executions.size - executedBefore,
    // Steady calls' long Plays are always resent (answered 100 Trying): the fault shows in the others.
    duplicates: [...w.copies.values()].filter((c) => c.n > 1).length,
    busyResent: [...w.copies.values()].filter((c) => c.n > 1 && w.plays.has(String(c.uuid))).length,
  };
}

/** What every scenario must end with: all flows ok, each transaction executed once, nothing left. */
async function expectCleanFinish(w: ClusterWorld): Promise<void> {
  expect(new Set(w.ends.keys())).toEqual(w.injected);
  expect([...w.ends.entries()].filter(([, end]) => end !== 'ok')).toEqual([]);
  for (const n of w.plays.values()) expect(n).toBe(PLAYS);
  expect([...w.executions.values()].filter((n) => n > 1)).toEqual([]);
  expect(w.executions.size).toBeGreaterThanOrEqual(STEADY * 2 + BUSY * (1 + PLAYS));
  await until(
    () => `node ${JSON.stringify(w.node.leaks())} ctrl ${JSON.stringify(w.ctrl.leaks())}`,
    () =>
      w.node.channelCount === 0 &&
      w.ctrl.leaks().calls === 0 &&
      w.ctrl.leaks().rpcPending === 0 &&
      w.node.leaks().rpcInflight === 0,
    10_000,
  );
  expect(w.ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });
  expect(w.node.leaks()).toMatchObject({ channels: 0, reservedUuids: 0, backgroundTasks: 0, rpcInflight: 0 });
}

describe('crash: a member of a 3-server NATS cluster killed during calls (reliability on at both ends)', () => {
  it("a member of a 3-server NATS cluster killed during calls: the node's server — the node fails over, steady calls finish ok, requests in flight complete once", async () => {
    const w = await clusterWorld();
    const r = await killAndFinish(w, w.nodeMember, 'node');
    console.log(
      `[crash-cluster] node's member ${w.nodeMember} killed (controller on ${w.ctrlMember}): node failed over ` +
        `to member ${r.now} in ${r.failoverMs} ms; all flows done ${r.doneMs} ms after the kill; ` +
        `${r.executedAfter} transactions executed after the kill, ${r.duplicates} received more than once (${r.busyResent} of busy calls)`,
    );
    expect(r.now).toBeDefined();
    expect(r.now).not.toBe(w.nodeMember);
    expect(w.reconnects.ctrl).toBe(0);
    await expectCleanFinish(w);
  }, 40_000);

  it("a member of a 3-server NATS cluster killed during calls: the controller's server — the controller fails over, steady calls finish ok, requests in flight complete once", async () => {
    const w = await clusterWorld();
    const r = await killAndFinish(w, w.ctrlMember, 'ctrl');
    console.log(
      `[crash-cluster] controller's member ${w.ctrlMember} killed (node on ${w.nodeMember}): controller failed ` +
        `over to member ${r.now} in ${r.failoverMs} ms; all flows done ${r.doneMs} ms after the kill; ` +
        `${r.executedAfter} transactions executed after the kill, ${r.duplicates} received more than once (${r.busyResent} of busy calls)`,
    );
    expect(r.now).toBeDefined();
    expect(r.now).not.toBe(w.ctrlMember);
    expect(w.reconnects.node).toBe(0);
    await expectCleanFinish(w);
  }, 40_000);
});
