/**
 * Controller liveness (docs/protocol.md "Controller liveness"), end to end on MemoryBroker + XNode +
 * SimMedia + Controllers in virtual time: a controller killed with 100 live calls (a peer takes every
 * call over within the bounded time), a clean close (immediate re-announce), an orphan nobody adopts (hung
 * up by the adopt rule), and the default (liveness off) orphaning nothing. Node crash reaping is proven
 * by test/e2e-scale.test.ts ("node crash").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Call, Controller } from '../src/ctrl/index.js';
import { isResumed } from '../src/ctrl/ctrl-heartbeat.js';
import { XNode } from '../src/node/index.js';
import { ORPHANED_VARIABLE } from '../src/protocol/index.js';
import {
  deferred,
  encodeJson,
  isChannelEvent,
  makeWorld,
  outcome,
  paramsOf,
  Tap,
  type World,
} from './support/fixtures.js';

let world: World | undefined;
const extra: Controller[] = [];
afterEach(async () => {
  if (world) {
    const w = world;
    world = undefined;
    await w.drive(
      (async () => {
        for (const c of extra.splice(0)) await c.close();
      })(),
      { budgetMs: 120_000, stepMs: 1000 },
    );
    await w.close();
  }
});

const LIVE = { ownerTimeoutMs: 15_000, checkIntervalMs: 1_000, adoptTimeoutMs: 10_000 };

/** A world whose node tracks controller liveness; controller A (liveness on) holds every call. */
async function livenessWorld(ctrlLiveness: boolean | object = true) {
  const w = await makeWorld('memory', {
    ctrls: 1,
    node: { ctrlLiveness: ctrlLiveness === true ? LIVE : ctrlLiveness },
    ctrl: { liveness: true },
  });
  world = w;
  return w;
}

/** A's flow: answer, then hold the call with a one-hour prompt. Resolves `held` after `n` answers. */
function holdCalls(a: Controller, n: number) {
  const held = deferred<void>();
  let answered = 0;
  const aCalls: Call[] = [];
  a.onCall(async (call) => {
    expect(isResumed(call)).toBe(false);
    await call.answer();
    aCalls.push(call);
    if (++answered === n) held.resolve();
    await outcome(call.play('silence_stream://3600000'));
  });
  return { held: held.promise, aCalls };
}

/** A peer controller whose flow plays a short prompt on resumed calls and returns (the call is hung up). */
async function peer(w: World, n: number) {
  const b = new Controller({ bus: await w.connect('ctrl-b'), clock: w.clock, liveness: true });
  extra.push(b);
  const done = deferred<void>();
  const resumed: { uuid: string; answered: boolean; state: string; played: boolean }[] = [];
  let fresh = 0;
  b.onCall(async (call) => {
    if (!isResumed(call)) {
      fresh++;
      return;
    }
    const record = { uuid: call.uuid, answered: call.answered, state: call.state, played: false };
    resumed.push(record);
    await call.play('silence_stream://1000');
    record.played = true;
    if (resumed.filter((r) => r.played).length === n) done.resolve();
  });
  await b.start();
  return { b, resumed, done: done.promise, fresh: () => fresh };
}

describe('controller crash: calls are not stranded', () => {
  it('a controller killed with 100 live calls: a peer takes every call over within owner timeout + check interval, and its flows end cleanly', async () => {
    const w = await livenessWorld();
    const clock = w.virtual!;
    const a = w.ctrls[0]!;
    const N = 100;
    // Node heartbeat + liveness check, A's heartbeat + sweep; B brings two, A takes two away.
    const timersBefore = clock.pending;
    const { held } = holdCalls(a, N);
    const uuids = new Set<string>();
    for (let i = 0; i < N; i++) uuids.add(w.inject({}));
    await w.drive(held);
    const { b, resumed, done, fresh } = await peer(w, N);
    await w.settle();

    // Crash: A's connection drops. No Event.CtrlUnregister, no more heartbeats, no hangups.
    await w.ctrlBuses[0]!.close();
    const killedAt = clock.now();
    // Within the owner timeout nothing moves (the last heartbeat may be up to 5 s old: 10 s is safe).
    await clock.advance(10_000);
    expect(w.node.ctrlLivenessStats()).toMatchObject({ orphaned: 0, expired: 0 });
    expect(resumed).toHaveLength(0);

    await w.drive(done, { budgetMs: 10_000, stepMs: 100 });
    // Bound: orphaned ≤ 15 s (owner timeout) + 1 s (check interval) after the kill; the prompt is 1 s.
    expect(clock.now() - killedAt).toBeLessThanOrEqual(15_000 + 1_000 + 1_000 + 200);
    expect(w.node.ctrlLivenessStats()).toMatchObject({ orphaned: N, expired: 1, unregistered: 0 });
    expect(new Set(resumed.map((r) => r.uuid))).toEqual(uuids);
    for (const r of resumed) {
      expect(r).toMatchObject({ answered: true, played: true });
      expect(r.state).not.toBe('START');
    }
    expect(fresh()).toBe(0);
    await w.settle();
    // The peer's flows returned: every call was hung up by the peer, none by the adopt rule.
    expect(w.node.channelCount).toBe(0);
    expect(b.stats()).toMatchObject({ offered: N, accepted: N, lostRace: 0, flowsFailed: 0 });
    expect(b.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });

    // The killed controller is closed by hand (its bus is gone): its flows end, nothing hangs.
    await w.drive(a.close(), { budgetMs: 60_000, stepMs: 1000 });
    expect(a.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });
    // A's heartbeat and sweep timers are gone; nothing else of the scenario is left on the clock.
    expect(clock.pending).toBe(timersBefore);
    expect(w.node.leaks()).toMatchObject({
      channels: 0,
      reservedUuids: 0,
      backgroundTasks: 0,
      rpcInflight: 0,
    });
    expect(w.broker!.stats().queued).toBe(0);
  }, 60_000);

  it('a clean controller close re-announces its calls at once: the peer takes them over without waiting for the owner timeout', async () => {
    const w = await livenessWorld();
    const clock = w.virtual!;
    const a = w.ctrls[0]!;
    const N = 3;
    const { held } = holdCalls(a, N);
    for (let i = 0; i < N; i++) w.inject({});
    await w.drive(held);
    const { b, resumed, done } = await peer(w, N);
    const closedAt = clock.now();
    await w.drive(a.close(), { budgetMs: 5_000, stepMs: 10 });
    await w.drive(done, { budgetMs: 5_000, stepMs: 10 });
    // Re-announced on the unregister, not after 15 s: only the 1 s prompt (and message turns) passed.
    expect(clock.now() - closedAt).toBeLessThan(2_000);
    expect(w.node.ctrlLivenessStats()).toMatchObject({ unregistered: 1, expired: 0, orphaned: N });
    expect(resumed.every((r) => r.answered && r.played)).toBe(true);
    await w.settle();
    expect(w.node.channelCount).toBe(0);
    expect(b.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });
    expect(a.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });
  });

  it('an orphaned call nobody takes over is hung up by the adopt rule (RECOVERY_ON_TIMER_EXPIRE)', async () => {
    const w = await livenessWorld();
    const a = w.ctrls[0]!;
    const { held } = holdCalls(a, 1);
    const queue = new Tap(w.probe, w.subjects.ctrl);
    const cdrs = new Tap(w.probe, w.subjects.cdr);
    const uuid = w.inject({});
    await w.drive(held);
    await w.ctrlBuses[0]!.close();
    await w.advance(17_000);
    // The re-announcement: the current state, the orphan flag, on the queue subject.
    const orphan = queue.seen.find((s) => isChannelEvent(s.json, uuid, 'ANSWERED'));
    expect(orphan).toBeDefined();
    const params = paramsOf(orphan!.json).params as Record<string, string>;
    expect(params[ORPHANED_VARIABLE]).toBe('true');
    expect(w.node.channels()[0]).toMatchObject({ uuid, owner: undefined });
    await w.advance(10_000);
    expect(w.node.channelCount).toBe(0);
    const cdr = cdrs.seen.find((s) => paramsOf(s.json).uuid === uuid);
    expect(JSON.stringify(cdr?.json)).toContain('RECOVERY_ON_TIMER_EXPIRE');
    queue.close();
    cdrs.close();
    await w.drive(a.close(), { budgetMs: 60_000, stepMs: 1000 });
  });

  it('a bridged call of a killed controller: both legs are re-announced in full (state BRIDGE, peer) and adopted', async () => {
    const w = await makeWorld('memory', {
      ctrls: 1,
      node: { ctrlLiveness: LIVE },
      ctrl: { liveness: true },
      directory: { '2000': { answer_after_ms: 200 } },
    });
    world = w;
    const a = w.ctrls[0]!;
    const bridged = deferred<void>();
    a.onCall(async (call) => {
      await call.answer();
      const r = outcome(call.bridge({ to: '2000' }));
      await call.waitFor('BRIDGE', { timeoutMs: 5_000 });
      bridged.resolve();
      await r;
    });
    const uuid = w.inject({});
    await w.drive(bridged.promise);
    const legs = w.node.channels();
    expect(legs).toHaveLength(2);
    const bLeg = legs.find((c) => c.direction === 'outbound')!;

    const b = new Controller({ bus: await w.connect('ctrl-b'), clock: w.clock, liveness: true });
    extra.push(b);
    const seen: Record<string, { direction: string; state: string; bridged: boolean; peer?: string }> = {};
    const both = deferred<void>();
    b.onCall(async (call) => {
      seen[call.uuid] = {
        direction: call.direction,
        state: call.state,
        bridged: call.bridged,
        ...(call.peerUuid === undefined ? {} : { peer: call.peerUuid }),
      };
      if (Object.keys(seen).length === 2) both.resolve();
      // Each flow returns once both legs are adopted: the controller hangs its leg up.
      await both.promise;
    });
    await b.start();
    await w.ctrlBuses[0]!.close();
    await w.drive(both.promise, { budgetMs: 20_000, stepMs: 100 });
    expect(seen[uuid]).toEqual({ direction: 'inbound', state: 'BRIDGE', bridged: true, peer: bLeg.uuid });
    expect(seen[bLeg.uuid]).toEqual({ direction: 'outbound', state: 'BRIDGE', bridged: true, peer: uuid });
    await w.drive(
      (async () => {
        while (w.node.channelCount > 0) await w.settle();
      })(),
      { budgetMs: 5_000 },
    );
    await w.drive(a.close(), { budgetMs: 60_000, stepMs: 1000 });
    expect(b.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });
  });

  it('a controller the node wrongly presumed dead takes its own re-announced call back (no hangup)', async () => {
    // Heartbeat slower than the node's owner timeout: the node orphans A's call although A is alive.
    const w = await makeWorld('memory', {
      ctrls: 1,
      node: { ctrlLiveness: LIVE },
      ctrl: { liveness: { heartbeatMs: 30_000 } },
    });
    world = w;
    const a = w.ctrls[0]!;
    const { held, aCalls } = holdCalls(a, 1);
    const uuid = w.inject({});
    await w.drive(held);
    await w.advance(17_000);
    expect(w.node.ctrlLivenessStats()).toMatchObject({ orphaned: 1, expired: 1 });
    await w.settle();
    // A got the re-announcement from the queue group and accepted it again (takeover).
    expect(w.node.channels()[0]).toMatchObject({ uuid, owner: a.ctrlUuid });
    await w.advance(15_000); // past the adopt timeout: still up
    expect(w.node.channelCount).toBe(1);
    expect(aCalls[0]!.isEnded).toBe(false);
  });

  it('liveness is opt-in: a node without it, or a controller without heartbeats, orphans nothing', async () => {
    // Node with liveness, controller without: the owner was never heard from, so it is never presumed dead.
    const w = await makeWorld('memory', { ctrls: 1, node: { ctrlLiveness: LIVE } });
    world = w;
    const { held } = holdCalls(w.ctrls[0]!, 2);
    w.inject({});
    w.inject({});
    await w.drive(held);
    await w.advance(60_000);
    expect(w.node.ctrlLivenessStats()).toMatchObject({ controllers: 0, orphaned: 0 });
    expect(w.node.channels().every((c) => c.owner === w.ctrls[0]!.ctrlUuid)).toBe(true);

    // Default node: no status subscription, no stats.
    const plain = await makeWorld('memory', { ctrls: 0 });
    expect(plain.node.ctrlLivenessStats()).toBeUndefined();
    await plain.close();
  });

  it('a malformed controller status on the status subject is ignored: no crash, nothing orphaned', async () => {
    const w = await livenessWorld();
    const { held } = holdCalls(w.ctrls[0]!, 1);
    w.inject({});
    await w.drive(held);
    w.probe.publish(
      w.subjects.status,
      encodeJson({ jsonrpc: '2.0', method: 'Event.CtrlUnregister', params: {} }),
    );
    w.probe.publish(
      w.subjects.status,
      encodeJson({ jsonrpc: '2.0', method: 'Event.CtrlHeartbeat', params: { ctrl_uuid: 7 } }),
    );
    w.probe.publish(w.subjects.status, new TextEncoder().encode('{not json'));
    await w.advance(20_000);
    expect(w.node.ctrlLivenessStats()).toMatchObject({ orphaned: 0, unregistered: 0, controllers: 1 });
    expect(w.node.channelCount).toBe(1);
  });

  it('rejects a non-positive liveness setting at construction', async () => {
    const none = undefined as never;
    expect(
      () => new XNode({ bus: none, clock: none, media: none, ctrlLiveness: { ownerTimeoutMs: 0 } }),
    ).toThrow(/ownerTimeoutMs/);
    expect(
      () =>
        new Controller({ bus: undefined as never, clock: undefined as never, liveness: { heartbeatMs: -1 } }),
    ).toThrow(/heartbeatMs/);
  });
});
