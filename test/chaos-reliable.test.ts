/**
 * The spine with the seed-004 transaction layer switched on at both ends (`XNodeOptions.reliability`,
 * `ControllerOptions.reliability`), under loss and duplication on EVERY subject — requests, answers and
 * events alike. MemoryBus + VirtualClock, seeded FaultBus.
 *
 * Without the layer a lost request or answer ends the flow in `RpcTimeoutError` ("outcome unknown");
 * with it the originator resends the same transaction and the node's reply cache answers the resend,
 * so flows complete and no request executes twice on the node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FaultBus, type FaultRule, MemoryBroker } from '../src/bus/index.js';
import { VirtualClock } from '../src/clock/index.js';
import { type Call, Controller } from '../src/ctrl/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';

/**
 * Every subject, every message each side sends: publishes (events, reliable requests and answers), and
 * the requests and replies of plain request/reply (what the control run without the layer uses).
 */
function everywhere(loss: number, dup: number): FaultRule[] {
  return [{ subject: '>', traffic: ['publish', 'request', 'reply'], drop: loss, duplicate: dup }];
}

async function flow(call: Call): Promise<string> {
  try {
    await call.answer();
    await call.play('silence_stream://2000');
    await call.play('silence_stream://500');
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.name : String(err);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function world(seed: number, reliable: boolean, loss: number, dup: number) {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const nodeBus = new FaultBus(broker.connect('node'), { seed, timers: clock, rules: everywhere(loss, dup) });
  const ctrlBus = new FaultBus(broker.connect('ctrl'), {
    seed: seed + 1,
    timers: clock,
    rules: everywhere(loss, dup),
  });
  const executions = new Map<string, number>();
  const media = new SimMedia({
    clock,
    directory: { '2000': { answer_after_ms: 40_000 }, '2001': { answer_after_ms: 1_000 } },
  });
  const node = new XNode({
    bus: nodeBus,
    clock,
    media,
    reliability: reliable
      ? { onExecute: ({ id }) => executions.set(id, (executions.get(id) ?? 0) + 1) }
      : false,
  });
  await node.start();
  const ctrl = new Controller({ bus: ctrlBus, clock, reliability: reliable });
  await ctrl.start();
  const ends: string[] = [];
  ctrl.onCall(async (call) => {
    ends.push(await flow(call));
  });
  cleanups.push(async () => {
    const closing = (async () => {
      await ctrl.close();
      await node.stop();
      await media.stop();
      await nodeBus.close();
      await ctrlBus.close();
    })();
    for (let i = 0; i < 300; i++) await clock.advance(1_000);
    await closing;
  });
  return { clock, node, ctrl, nodeBus, ctrlBus, ends, executions };
}

type World = Awaited<ReturnType<typeof world>>;

async function run(w: World, calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) {
    w.node.inject({ cid_name: 'Rel', cid_number: `1${String(i).padStart(9, '0')}`, dest_number: '1000' });
    await w.clock.advance(50);
  }
  for (let t = 0; t < 600_000 && (w.ctrl.leaks().flows > 0 || w.node.channelCount > 0); t += 1_000) {
    await w.clock.advance(1_000);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('reliable spine: resends and the reply cache under loss and duplication on every subject', () => {
  it.each([11, 2026])(
    'with 2 percent loss and 2 percent duplication every flow completes and no request runs twice on the node (seed %i)',
    async (seed) => {
      const w = await world(seed, true, 0.02, 0.02);
      const calls = 150;
      await run(w, calls);
      expect(w.node.channelCount).toBe(0);
      expect(w.ctrl.leaks()).toMatchObject({ flows: 0, tasks: 0, rpcPending: 0 });
      const offered = w.ctrl.stats().offered;
      // A START lost on the way (an event, not a request) is a call the controller never heard of.
      expect(offered).toBeGreaterThan(calls * 0.9);
      expect(w.ends).toHaveLength(offered);
      // Lost requests and answers are resent: no flow fails with "outcome unknown".
      expect(w.ends.filter((e) => e !== 'ok')).toEqual([]);
      // Duplicated requests are answered from the reply cache, never executed again.
      expect(w.executions.size).toBeGreaterThan(offered * 3);
      expect([...w.executions.values()].filter((n) => n > 1)).toEqual([]);
      for (const bus of [w.nodeBus, w.ctrlBus]) {
        expect(bus.stats.dropped).toBeGreaterThan(0);
        expect(bus.stats.duplicated).toBeGreaterThan(0);
      }
    },
    60_000,
  );

  it('without the layer the same faults leave flows failing with an unknown outcome (the control run)', async () => {
    const w = await world(11, false, 0.02, 0.02);
    await run(w, 150);
    expect(w.ends.filter((e) => e === 'RpcTimeoutError').length).toBeGreaterThan(0);
  }, 60_000);

  it('a reliable Dial ringing for 40 s outlasts the 35 s long timer: the method timeout stretches the long phase', async () => {
    const w = await world(1, true, 0, 0);
    const dialled = w.ctrl.dial({ to: '2000', timeoutMs: 60_000 });
    const outcome = dialled.then(
      (call) => call,
      (err: unknown) => err,
    );
    for (let t = 0; t < 45_000; t += 500) await w.clock.advance(500);
    const call = await outcome;
    expect(call).toMatchObject({ uuid: expect.any(String) });
    await (call as Call).hangup();
    // one Dial execution despite the resends every 5 s of the long phase
    expect(w.executions.size).toBe(2);
  }, 30_000);
});
