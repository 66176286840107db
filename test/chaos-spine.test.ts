/**
 * The spine (simulated node ⇄ controller SDK) under faults.
 *
 * 1. MemoryBus + VirtualClock with a `FaultBus` in front of the node's and the controller's connections:
 *    1 % loss and 1 % duplication on the event subjects (`cn.xswitch.ctrl`, `cn.xswitch.ctrl.>`, status
 *    and CDR: everything the node publishes that is not an RPC answer). Requirement: every call ends —
 *    no channel on the node and no call or flow in the controller is left once the reapers ran — and
 *    every flow either finishes or fails with a typed error. What the tests pin is what happens today.
 * 2. A real nats-server killed and restarted while calls are up: calls in a steady state survive;
 *    requests in flight complete once or fail with a typed error; nothing is left behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FaultBus, type FaultRule, MemoryBroker, NatsBus } from '../src/bus/index.js';
import { RealClock, VirtualClock } from '../src/clock/index.js';
import { type Call, Controller } from '../src/ctrl/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';

/** Event subjects: what the node publishes that is not an answer to a request. */
const EVENT_SUBJECTS = ['cn.xswitch.ctrl', 'cn.xswitch.ctrl.>', 'cn.xswitch.status.>', 'cn.xswitch.cdr'];

function lossy(traffic: 'publish' | 'deliver', loss: number, dup: number): FaultRule[] {
  return EVENT_SUBJECTS.map((subject) => ({ subject, traffic: [traffic], drop: loss, duplicate: dup }));
}

/** How a flow ended: "ok" or the error's class name. */
type FlowEnd = string;

async function runFlow(call: Call, holdMs: number): Promise<FlowEnd> {
  try {
    await call.answer();
    await call.play(`silence_stream://${holdMs}`);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.name : String(err);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('chaos spine on MemoryBus + VirtualClock', () => {
  async function spine(seed: number, calls: number) {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    const nodeBus = new FaultBus(broker.connect('node'), {
      seed,
      timers: clock,
      rules: lossy('publish', 0.01, 0.01),
    });
    const ctrlBus = new FaultBus(broker.connect('ctrl'), {
      seed: seed + 1,
      timers: clock,
      rules: lossy('deliver', 0.01, 0.01),
    });
    const media = new SimMedia({ clock, directory: {} });
    const node = new XNode({ bus: nodeBus, clock, media });
    await node.start();
    const ctrl = new Controller({ bus: ctrlBus, clock });
    await ctrl.start();
    const ends: FlowEnd[] = [];
    ctrl.onCall(async (call) => {
      ends.push(await runFlow(call, 2_000));
    });
    cleanups.push(async () => {
      const closing = (async () => {
        await ctrl.close();
        await node.stop();
        await media.stop();
        await nodeBus.close();
        await ctrlBus.close();
      })();
      // closing may need virtual time (a Stop/Hangup waiting for its answer)
      for (let i = 0; i < 200; i++) await clock.advance(1_000);
      await closing;
    });

    const injected: string[] = [];
    for (let i = 0; i < calls; i++) {
      const script = i % 2 === 0 ? [] : [{ wait: 1_000 + (i % 7) * 300 }, { hangup: {} }];
      injected.push(
        node.inject({
          cid_name: 'Chaos',
          cid_number: `1${String(i).padStart(9, '0')}`,
          dest_number: '1000',
          script,
        }),
      );
      await clock.advance(50);
    }
    return { clock, node, ctrl, nodeBus, ctrlBus, ends, injected };
  }

  /** Advances virtual time in steps until `done()` or `budgetMs`; returns the virtual ms it took. */
  async function until(
    clock: VirtualClock,
    done: () => boolean,
    budgetMs: number,
    stepMs = 1_000,
  ): Promise<number> {
    let t = 0;
    while (!done() && t < budgetMs) {
      await clock.advance(stepMs);
      // SimMedia does real file I/O now and then; give it a real turn of the event loop.
      await new Promise<void>((resolve) => setImmediate(resolve));
      t += stepMs;
    }
    return t;
  }

  // What happens today (seeds pinned so the run is reproducible; numbers from these runs are in docs/chaos.md):
  // - a lost START: the controller never hears of the call; the node's 10 s takeover rule hangs it up;
  // - every flow that started ends, either "ok" or CallGoneError (410: the caller hung up mid-prompt);
  // - the node has no channel left 10 s after the last call at most;
  // - a lost CHANNEL_DESTROY: the controller's hangup is answered but no DESTROY follows, so 5 s later it
  //   asks the node (GetState → 404) and releases the record, instead of waiting for the 4 h sweep.
  it.each([2026, 7, 99])(
    'with 1 percent loss and duplication on event subjects every call ends and nothing is stuck (seed %i)',
    async (seed) => {
      const calls = 200;
      const s = await spine(seed, calls);
      const nodeIn = await until(s.clock, () => s.node.channelCount === 0, 3_600_000);
      expect(s.node.channelCount).toBe(0);
      expect(nodeIn).toBeLessThanOrEqual(10_000);
      expect(s.node.leaks()).toMatchObject({
        channels: 0,
        reservedUuids: 0,
        backgroundTasks: 0,
        rpcInflight: 0,
      });

      // every flow ended, once, with a known outcome
      const offered = s.ctrl.stats().offered;
      expect(offered).toBeLessThanOrEqual(calls);
      expect(offered).toBeGreaterThan(calls * 0.95);
      // Flows whose DESTROY was lost end after the controller's 5 s check with the node.
      const ctrlIn = await until(s.clock, () => s.ctrl.leaks().flows === 0, 60_000);
      expect(ctrlIn).toBeLessThanOrEqual(10_000);
      expect(s.ends).toHaveLength(offered);
      for (const end of s.ends) expect(['ok', 'CallGoneError']).toContain(end);
      expect(s.ends.filter((e) => e === 'ok').length).toBeGreaterThan(calls * 0.6);
      expect(s.ctrl.leaks()).toMatchObject({ flows: 0, tasks: 0, rpcPending: 0 });

      // No Call record lingers: none is left for the max-lifetime sweep.
      expect(s.ctrl.leaks().calls).toBe(0);
      expect(s.ctrl.stats().reaped).toBe(0);

      // the faults really happened, both ways, and none is still pending
      for (const bus of [s.nodeBus, s.ctrlBus]) {
        expect(bus.stats.dropped).toBeGreaterThan(0);
        expect(bus.stats.duplicated).toBeGreaterThan(0);
        expect(bus.pendingFaults).toBe(0);
      }
    },
    60_000,
  );

  it('the same seed replays the same chaos', async () => {
    const run = async (): Promise<unknown> => {
      const s = await spine(31, 60);
      await until(s.clock, () => s.node.channelCount === 0, 3_600_000);
      return { ends: [...s.ends], node: s.nodeBus.stats, ctrl: s.ctrlBus.stats };
    };
    expect(await run()).toEqual(await run());
  }, 60_000);
});

describe('chaos spine on a real nats-server that is killed and restarted', () => {
  it('calls in a steady state survive a server crash; in-flight requests end once, with a result or a typed error', async () => {
    const server: NatsServerHandle = await startNatsServer();
    cleanups.push(() => server.stop());
    const clock = new RealClock();
    const connect = (name: string): Promise<NatsBus> =>
      NatsBus.connect({ servers: server.url, name, reconnectTimeWaitMs: 50 });
    const nodeBus = await connect('chaos-node');
    const ctrlBus = await connect('chaos-ctrl');
    const media = new SimMedia({ clock, directory: {} });
    const node = new XNode({ bus: nodeBus, clock, media });
    await node.start();
    const ctrl = new Controller({ bus: ctrlBus, clock });
    await ctrl.start();
    cleanups.push(async () => {
      await ctrl.close();
      await node.stop();
      await media.stop();
      await nodeBus.close();
      await ctrlBus.close();
    });
    const reconnects = { node: 0, ctrl: 0 };
    nodeBus.onReconnect(() => reconnects.node++);
    ctrlBus.onReconnect(() => reconnects.ctrl++);

    const calls = 4;
    const ends: FlowEnd[] = [];
    let answered = 0;
    let allAnswered!: () => void;
    const steady = new Promise<void>((resolve) => {
      allAnswered = resolve;
    });
    let allEnded!: () => void;
    const ended = new Promise<void>((resolve) => {
      allEnded = resolve;
    });
    ctrl.onCall(async (call) => {
      let end: FlowEnd;
      try {
        await call.answer();
        if (++answered === calls) allAnswered();
        // Long enough that the crash and the restart happen while the Play request is in flight. Without
        // the transaction layer an answer lost with the server is lost for good: the bounded timeout turns
        // that into RpcTimeoutError ("outcome unknown") instead of the method's default wait
        // (test/crash-nats-restart-reliable.test.ts shows the layer recovering such answers).
        await call.play('silence_stream://1500', { timeoutMs: 6_000 });
        end = 'ok';
      } catch (err) {
        end = err instanceof Error ? err.name : String(err);
      }
      ends.push(end);
      if (ends.length === calls) allEnded();
    });

    for (let i = 0; i < calls; i++)
      node.inject({ cid_name: 'Chaos', cid_number: `200000000${i}`, dest_number: '1000' });
    await withGuard(steady, 5_000, 'calls answered');

    server.kill();
    await new Promise<void>((resolve) => setTimeout(resolve, 200));
    await server.restart();

    await withGuard(ended, 15_000, 'flows ended');
    expect(reconnects.node).toBeGreaterThanOrEqual(1);
    expect(reconnects.ctrl).toBeGreaterThanOrEqual(1);
    // Each flow ended exactly once; today the Play answers buffered by the client through the outage
    // arrive after the reconnect, so the calls simply finish.
    expect(ends).toHaveLength(calls);
    for (const end of ends) expect(['ok', 'CallGoneError', 'RpcTimeoutError']).toContain(end);

    // hangupAfterFlow hangs every call up: nothing is left on either side
    const deadline = Date.now() + 10_000;
    while ((node.channelCount > 0 || ctrl.leaks().calls > 0) && Date.now() < deadline) {
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
    }
    expect(node.channelCount).toBe(0);
    expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, rpcPending: 0 });
  }, 40_000);
});

/** Rejects if `p` has not settled within `ms` real ms: a broken run fails instead of hanging. */
function withGuard<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
