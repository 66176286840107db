/**
 * End-to-end scenarios about many calls and failures: queue-group sharing between controllers (N),
 * the leak check after a thousand calls, and a node crash reaped by the controller (virtual time).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Call, FlowCancelledError } from '../src/ctrl/index.js';
import { CallGoneError, isCancellation } from '../src/protocol/errors.js';
import {
  BOTH,
  deferred,
  MEMORY_ONLY,
  makeWorld,
  paramsOf,
  Tap,
  type World,
  withTimeout,
} from './support/fixtures.js';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe.each(BOTH)('queue group of controllers (%s)', (transport) => {
  it('three controllers in a queue group share 300 calls: each gets a share, no call goes to two', async () => {
    const w = await makeWorld(transport, { ctrls: 3 });
    world = w;
    const TOTAL = 300;
    const cdrs = new Tap(w.probe, w.subjects.cdr);
    await w.settle();
    const byCtrl: string[][] = [[], [], []];
    let finished = 0;
    const all = deferred<void>();
    w.ctrls.forEach((ctrl, i) => {
      ctrl.onCall(async (call) => {
        byCtrl[i]!.push(call.uuid);
        await call.answer();
        await call.hangup();
        if (++finished === TOTAL) all.resolve();
      });
    });
    const injected = new Set<string>();
    for (let i = 0; i < TOTAL; i++) injected.add(w.inject({}));
    await w.drive(all.promise, { budgetMs: 60_000 });
    // Every CDR arrives (the last ones may trail the last flow's hangup answer).
    await w.drive(cdrs.next(() => cdrs.events('Event.CDR').length >= TOTAL, 20_000).catch(() => undefined));
    cdrs.close();

    const seen = byCtrl.flat();
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen)).toEqual(injected);
    for (const share of byCtrl) expect(share.length).toBeGreaterThan(0);
    expect(new Set(cdrs.events('Event.CDR').map((e) => paramsOf(e).uuid))).toEqual(injected);
    expect(w.node.channelCount).toBe(0);
  }, 60_000);
});

describe.each(MEMORY_ONLY)('leaks (%s)', (transport) => {
  it('after a thousand calls nothing is left: node channels, controller calls, timers, subscriptions, rpc pending', async () => {
    const w = await makeWorld(transport, { ctrls: 1, directory: { '2000': { answer_after_ms: 100 } } });
    world = w;
    const clock = w.virtual!;
    const ctrl = w.ctrls[0]!;
    await w.settle();
    const baseline = {
      timers: clock.pending,
      subscriptions: w.broker!.stats().subscriptions,
      ctrlSubs: w.ctrlBuses[0]!.subscriptionCount,
      nodeSubs: w.nodeBus.subscriptionCount,
    };
    const TOTAL = 1000;
    let done = 0;
    let failures = 0;
    const all = deferred<void>();
    ctrl.onCall(async (call: Call) => {
      try {
        await call.answer();
        await call.play('silence_stream://100');
        const { digits } = await call.readDtmf({ min: 1, max: 1, timeoutMs: 2000 });
        if (digits !== '7') throw new Error(`digits ${digits}`);
        if (done % 10 === 0) {
          // Every tenth call also dials an outbound leg, to exercise outbound channels too.
          const leg = await ctrl.dial({ to: '2000' });
          await leg.hangup();
        }
        await call.hangup();
      } catch {
        failures++;
      } finally {
        if (++done === TOTAL) all.resolve();
      }
    });
    for (let i = 0; i < TOTAL; i++) {
      w.inject({ script: [{ dtmf: '7' }] });
      if (i % 100 === 99) await clock.advance(50);
    }
    await w.drive(all.promise, { budgetMs: 600_000, stepMs: 100 });
    await clock.advance(1000);
    await w.settle();

    expect(failures).toBe(0);
    expect(w.node.channelCount).toBe(0);
    const leaks = ctrl.leaks();
    expect(leaks).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });
    expect(clock.pending).toBe(baseline.timers);
    expect(w.broker!.stats().subscriptions).toBe(baseline.subscriptions);
    expect(w.ctrlBuses[0]!.subscriptionCount).toBe(baseline.ctrlSubs);
    expect(w.nodeBus.subscriptionCount).toBe(baseline.nodeSubs);
    expect(w.broker!.stats().queued).toBe(0);
  }, 120_000);
});

describe.each(MEMORY_ONLY)('node crash (%s)', (transport) => {
  it('the node stops heartbeating: the controller expires it, reaps its calls and cancels their flows', async () => {
    const w = await makeWorld(transport, { ctrls: 1 });
    world = w;
    const ctrl = w.ctrls[0]!;
    const clock = w.virtual!;
    await w.settle();
    const HELD = 5;
    const started = deferred<void>();
    const outcomes: { cancelled: boolean; reason: string | undefined; cleaned: boolean }[] = [];
    let answered = 0;
    const flowsDone = deferred<void>();
    ctrl.onCall(async (call) => {
      const record = { cancelled: false, reason: undefined as string | undefined, cleaned: false };
      call.defer(() => {
        record.cleaned = true;
      });
      await call.answer();
      if (++answered === HELD) started.resolve();
      try {
        await call.play('silence_stream://3600000');
      } catch (err) {
        // The blocking primitive ends with the reason "node-lost": as a cancellation, or as a 410
        // CallGoneError whose cause is that cancellation.
        const why = err instanceof CallGoneError ? err.cause : err;
        record.cancelled =
          isCancellation(why) && why instanceof FlowCancelledError && why.reason === 'node-lost';
      }
      record.reason = (await call.ended).reason;
      outcomes.push(record);
      if (outcomes.length === HELD) flowsDone.resolve();
    });
    for (let i = 0; i < HELD; i++) w.inject({});
    await w.drive(started.promise);
    // The node registered before the controller subscribed; its next NodeUpdate (20 s) introduces it.
    await clock.advance(20_000);
    expect(ctrl.nodes.get(w.node.uuid)).toBeDefined();

    // Crash: the node's connection drops; no DESTROY, no NodeUnregister, no more NodeUpdate.
    world = undefined; // cleaned up by hand below: node.stop() on a dead bus is part of the test
    await w.nodeBus.close();
    // Nothing is reaped while the node is still within its expiry window (60 s by default).
    await clock.advance(30_000);
    expect(outcomes).toHaveLength(0);
    await clock.advance(45_000);
    await withTimeout(w.drive(flowsDone.promise, { budgetMs: 30_000 }), 10_000);
    await w.settle(); // defer() steps run right after each flow returns

    expect(outcomes).toHaveLength(HELD);
    for (const o of outcomes) {
      expect(o.cancelled).toBe(true);
      expect(o.reason).toBe('node-lost');
      expect(o.cleaned).toBe(true);
    }
    expect(ctrl.nodes.get(w.node.uuid)).toBeUndefined();
    expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, rpcPending: 0 });
    // The crashed node cannot stop cleanly (its bus is gone): close the rest by hand.
    world = undefined;
    await ctrl.close();
    await withTimeout(w.node.stop(), 2000);
    await w.media.stop();
    await w.probe.close();
  });
});
