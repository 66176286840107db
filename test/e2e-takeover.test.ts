/**
 * Takeover through the SDK: a call handed over (`XNode.Channel` START on another controller's own
 * subject, as the Go SDK does it) to a controller created with `takeover: true`. Control and event
 * delivery move; the previous controller must let go of the call. Also: `Controller.close()` must
 * not wait forever for a flow that holds its call with `await call.ended`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Call, Controller, type DestroyInfo } from '../src/ctrl/index.js';
import { CallGoneError } from '../src/protocol/errors.js';
import {
  BOTH,
  deferred,
  encodeJson,
  MEMORY_ONLY,
  makeWorld,
  outcome,
  rawRequest,
  resultOf,
  Tap,
  type Transport,
  type World,
  withTimeout,
} from './support/fixtures.js';

let world: World | undefined;
let extra: Controller | undefined;
afterEach(async () => {
  await extra?.close();
  extra = undefined;
  await world?.close();
  world = undefined;
});

/**
 * Controller A answers the next call and plays a long prompt; controller B (takeover: true, started
 * afterwards so the queue group cannot hand it the original START) receives the call through an
 * `XNode.Channel` handover, takes it over and hangs it up.
 */
async function handover(transport: Transport) {
  const w = await makeWorld(transport, { ctrls: 1 });
  world = w;
  const a = w.ctrls[0]!;
  const aTap = new Tap(w.probe, w.subjects.ctrlOf(a.ctrlUuid));
  const aAnswered = deferred<Call>();
  const aPlay = deferred<Awaited<ReturnType<typeof outcome>>>();
  a.onCall(async (call) => {
    await call.answer();
    aAnswered.resolve(call);
    aPlay.resolve(await outcome(call.play('silence_stream://600000')));
  });
  const uuid = w.inject({});
  const aCall = await w.drive(aAnswered.promise);

  const b = new Controller({ bus: await w.connect('ctrl-b'), clock: w.clock, takeover: true });
  extra = b;
  const bTap = new Tap(w.probe, w.subjects.ctrlOf(b.ctrlUuid));
  const bEnded = deferred<DestroyInfo>();
  b.onCall(async (call) => {
    await call.getState();
    await call.hangup();
    bEnded.resolve(await call.ended);
  });
  await b.start();
  w.probe.publish(
    w.subjects.ctrlOf(b.ctrlUuid),
    encodeJson({
      jsonrpc: '2.0',
      method: 'XNode.Channel',
      params: { ...aCall.lastEvent, uuid, node_uuid: w.node.uuid, state: 'START' },
    }),
  );
  return { w, a, b, uuid, aCall, aPlay, bEnded, aTap, bTap };
}

describe.each(BOTH)('takeover through the SDK (%s)', (transport) => {
  it('takeover:true moves control and event delivery to the new controller', async () => {
    const { w, uuid, aPlay, bEnded, aTap, bTap } = await handover(transport);
    // B took the call over and its hangup produced a DESTROY delivered to B, not to A.
    const bEnd = await w.drive(bEnded.promise);
    expect(bEnd.reason).toBe('destroyed');
    await w.drive(bTap.channelState(uuid, 'DESTROY', w.waitMs));
    await w.settle();
    expect(aTap.states(uuid)).not.toContain('DESTROY');
    // A's running play was interrupted by the hangup (410).
    const played = await w.drive(aPlay.promise);
    expect(played.ok).toBe(false);
    expect((played as { error: unknown }).error).toBeInstanceOf(CallGoneError);
  });
});

describe.each(MEMORY_ONLY)('after a takeover (%s)', (transport) => {
  it('the previous controller lets go of the call within a minute (no leak until the 4 h reaper)', async () => {
    const { w, a, aCall, bEnded, aPlay } = await handover(transport);
    await w.drive(bEnded.promise);
    await w.drive(aPlay.promise);
    const aEnd = await w.drive(aCall.ended, { budgetMs: 60_000, stepMs: 1000 });
    expect(['taken-over', 'destroyed']).toContain(aEnd.reason);
    expect(a.leaks().calls).toBe(0);
  });
});

describe.each(MEMORY_ONLY)('controller close (%s)', (transport) => {
  it('close() cancels flows and resolves even when a flow holds its call with `await call.ended`', async () => {
    const w = await makeWorld(transport, { ctrls: 1 });
    world = w;
    const ctrl = w.ctrls[0]!;
    const holding = deferred<void>();
    ctrl.onCall(async (call) => {
      await call.answer();
      holding.resolve();
      await call.ended;
    });
    w.inject({});
    await w.drive(holding.promise);
    await withTimeout(w.drive(ctrl.close(), { budgetMs: 30_000 }), 10_000);
    expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0 });
  });
});

describe.each(BOTH)('auto-accept losing the race (%s)', (transport) => {
  it('a 419 on auto-accept drops the call silently: the flow never starts and the owner keeps control', async () => {
    const w = await makeWorld(transport, { ctrls: 1 });
    world = w;
    const ctrl = w.ctrls[0]!;
    let flows = 0;
    ctrl.onCall(async () => {
      flows++;
    });
    // The call is announced on a private subject and taken by a raw "other" controller first.
    const privateSubject = 'private.offers';
    const offers = new Tap(w.probe, privateSubject);
    await w.settle();
    const uuid = w.inject({ subject: privateSubject });
    const start = await w.drive(offers.channelState(uuid, 'START', w.waitMs));
    const other = await w.drive(
      rawRequest(w.probe, w.subjects.nodeOf(w.node.uuid), 'XNode.Answer', { ctrl_uuid: 'other-ctrl', uuid }),
    );
    expect(resultOf(other)).toMatchObject({ code: 200 });
    // Now our controller is handed the same START (no takeover): its Accept gets 419.
    w.probe.publish(w.subjects.ctrl, encodeJson({ jsonrpc: '2.0', method: 'Event.Channel', params: start }));
    const otherTap = new Tap(w.probe, w.subjects.ctrlOf('other-ctrl'));
    await w.drive(
      (async () => {
        while (ctrl.stats().lostRace === 0) await w.settle();
      })(),
    );
    expect(flows).toBe(0);
    expect(ctrl.leaks().calls).toBe(0);
    // The owner still controls the call: its hangup works and the DESTROY goes to it.
    await w.drive(
      rawRequest(w.probe, w.subjects.nodeOf(w.node.uuid), 'XNode.Hangup', { ctrl_uuid: 'other-ctrl', uuid }),
    );
    await w.drive(otherTap.channelState(uuid, 'DESTROY', w.waitMs));
    offers.close();
    otherTap.close();
  });
});
