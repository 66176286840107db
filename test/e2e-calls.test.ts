/**
 * End-to-end scenarios through the controller SDK (`Controller`/`Call`) against a real XNode +
 * SimMedia: every method's success and failure path, each on MemoryBus + VirtualClock and again over a
 * real nats-server with the real clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Call } from '../src/ctrl/index.js';
import type { CallerStep, DestinationBehaviour } from '../src/node/media.js';
import {
  BadRequestError,
  CallFailedError,
  CallGoneError,
  isCancellation,
  NotFoundError,
} from '../src/protocol/errors.js';
import {
  BOTH,
  deferred,
  makeWorld,
  outcome,
  paramsOf,
  rawRequest,
  resultOf,
  Tap,
  type Transport,
  type World,
} from './support/fixtures.js';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const DIRECTORY: Record<string, DestinationBehaviour> = {
  '2000': { answer_after_ms: 200 },
  '2001': { answer_after_ms: 200, script: [{ wait: 400 }, { hangup: {} }] },
  busy: { busy: true, ring_ms: 100 },
  noanswer: { no_answer: true },
  rejected: { reject: 'CALL_REJECTED', ring_ms: 100 },
};

async function open(transport: Transport): Promise<World> {
  world = await makeWorld(transport, { directory: DIRECTORY });
  return world;
}

/**
 * Runs `flow` for the next inbound call on controller 0 and returns what it returns (or throws).
 * The flow's result is handed out through a deferred so the test can assert on it.
 */
async function inbound<T>(
  w: World,
  flow: (call: Call) => Promise<T>,
  script: CallerStep[] = [],
  budgetMs = 60_000,
): Promise<T> {
  const done = deferred<T>();
  const off = w.ctrls[0]!.onCall(async (call) => {
    try {
      done.resolve(await flow(call));
    } catch (err) {
      done.reject(err);
    }
  });
  try {
    w.inject({ script });
    return await w.drive(done.promise, { budgetMs });
  } finally {
    off();
  }
}

describe.each(BOTH)('Call methods, representative set (%s)', (transport) => {
  it('answer: the call is answered and the flow sees ANSWERED', async () => {
    const w = await open(transport);
    const answered = await inbound(w, async (call) => {
      await call.answer();
      await call.waitFor('ANSWERED', { timeoutMs: 5000 });
      return call.answered;
    });
    expect(answered).toBe(true);
  });

  it('play: a zero-length and a short prompt play to the end', async () => {
    const w = await open(transport);
    await inbound(w, async (call) => {
      await call.answer();
      await call.play('silence_stream://0');
      await call.play({ type: 'FILE', data: 'silence_stream://300' });
    });
  });

  it('stop: a running play is interrupted and rejects with CallGoneError (410)', async () => {
    const w = await open(transport);
    const err = await inbound(w, async (call) => {
      await call.answer();
      const playing = outcome(call.play('silence_stream://60000'));
      await call.getState(); // the Play request reached the node before the Stop
      await call.stop();
      const r = await playing;
      return r.ok ? undefined : r.error;
    });
    expect(err).toBeInstanceOf(CallGoneError);
    expect((err as CallGoneError).code).toBe(410);
  });

  it('readDtmf: digits typed by the caller are collected up to the terminator', async () => {
    const w = await open(transport);
    const input = await inbound(
      w,
      async (call) => {
        await call.answer();
        return call.readDtmf({ min: 1, max: 5, terminators: '#', timeoutMs: 3000, digitTimeoutMs: 1000 });
      },
      [{ dtmf: '42#' }],
    );
    expect(input).toMatchObject({ digits: '42', terminator: '#', reason: 'ok' });
  });

  it('readDtmf: no input within the timeout ends with reason timeout', async () => {
    const w = await open(transport);
    const input = await inbound(w, async (call) => {
      await call.answer();
      return call.readDtmf({ min: 1, max: 1, timeoutMs: 300, digitTimeoutMs: 300 });
    });
    expect(input).toMatchObject({ digits: '', reason: 'timeout' });
  });

  it('bridge: the callee answers, hangs up later, the bridge returns and the caller survives (flow_control NONE)', async () => {
    const w = await open(transport);
    const result = await inbound(w, async (call) => {
      await call.answer();
      const r = await call.bridge({ to: '2001', flowControl: 'NONE' });
      const state = await call.getState();
      return { r, state, ended: call.isEnded };
    });
    expect(result.ended).toBe(false);
    expect(result.state.code).toBe(200);
  });

  it.each([
    ['busy', 'USER_BUSY'],
    ['rejected', 'CALL_REJECTED'],
    ['unknown-number', 'NO_ROUTE_DESTINATION'],
  ])('dial %s fails with CallFailedError 480 and cause %s', async (to, cause) => {
    const w = await open(transport);
    const r = await w.drive(outcome(w.ctrls[0]!.dial({ to })));
    expect(r.ok).toBe(false);
    const err = (r as { error: unknown }).error;
    expect(err).toBeInstanceOf(CallFailedError);
    expect((err as CallFailedError).code).toBe(480);
    expect((err as CallFailedError).hangupCause).toBe(cause);
    expect(w.node.channelCount).toBe(0);
  });

  it('dial no-answer fails with cause NO_ANSWER when the ring timeout (1 s) expires', async () => {
    const w = await open(transport);
    const r = await w.drive(outcome(w.ctrls[0]!.dial({ to: [{ dest_number: 'noanswer', timeout: 1 }] })), {
      budgetMs: 5000,
    });
    expect(r.ok).toBe(false);
    expect((r as { error: CallFailedError }).error.hangupCause).toBe('NO_ANSWER');
  });

  it('dial success: the leg is READY, answered, and can be hung up', async () => {
    const w = await open(transport);
    const leg = await w.drive(w.ctrls[0]!.dial({ to: '2000' }));
    expect(leg.direction).toBe('outbound');
    // No early media: READY comes after ANSWERED (§7.1), so the leg is answered when dial resolves.
    expect(leg.state).toBe('READY');
    expect(leg.answered).toBe(true);
    await leg.hangup();
    const info = await w.drive(leg.ended);
    expect(info.reason).toBe('destroyed');
  });

  it('hangup flag PEER hangs up the bridged peer only; flag BOTH hangs up both legs', async () => {
    const w = await open(transport);
    const ctrl = w.ctrls[0]!;
    const res = await inbound(w, async (call) => {
      await call.answer();
      const b1 = await ctrl.dial({ to: '2000' });
      await call.channelBridge2(b1);
      await b1.waitFor('BRIDGE', { timeoutMs: 5000 });
      await call.hangup({ flag: 'PEER' });
      const b1End = await b1.ended;
      const aliveAfterPeer = !call.isEnded;
      const b2 = await ctrl.dial({ to: '2000' });
      await call.channelBridge2(b2);
      await b2.waitFor('BRIDGE', { timeoutMs: 5000 });
      await call.hangup({ flag: 'BOTH' });
      const [aEnd, b2End] = await Promise.all([call.ended, b2.ended]);
      return { b1End, aliveAfterPeer, aEnd, b2End };
    });
    expect(res.b1End.reason).toBe('destroyed');
    expect(res.aliveAfterPeer).toBe(true);
    expect(res.aEnd.reason).toBe('destroyed');
    expect(res.b2End.reason).toBe('destroyed');
  });

  it('setVar/getVar round-trip channel variables (strings)', async () => {
    const w = await open(transport);
    const vars = await inbound(w, async (call) => {
      await call.answer();
      await call.setVar({ customer_id: '4711', tier: 'gold' });
      return call.getVar(['customer_id', 'tier']);
    });
    expect(vars).toMatchObject({ customer_id: '4711', tier: 'gold' });
  });

  it('404: a command on an unknown uuid answers "cannot locate session by uuid"', async () => {
    const w = await open(transport);
    const r = resultOf(
      await rawRequest(w.probe, w.subjects.nodeOf(w.node.uuid), 'XNode.Play', {
        ctrl_uuid: 'someone',
        uuid: 'no-such-uuid',
        media: { type: 'FILE', data: 'silence_stream://10' },
      }),
    );
    expect(r).toMatchObject({ code: 404 });
    expect(String(r.message)).toMatch(/cannot locate session/);
  });

  it('410: the caller hanging up during play rejects the play with CallGoneError and ends the call', async () => {
    const w = await open(transport);
    const res = await inbound(
      w,
      async (call) => {
        await call.answer();
        const r = await outcome(call.play('silence_stream://60000'));
        const info = await call.ended;
        return { r, info };
      },
      [{ wait: 300 }, { hangup: { cause: 'NORMAL_CLEARING' } }],
    );
    expect(res.r.ok).toBe(false);
    const err = (res.r as { error: unknown }).error;
    // The node answers the Play with 410 (asserted at wire level below) and publishes DESTROY; whichever
    // reaches the SDK first, the play rejects with CallGoneError (410).
    expect(err).toBeInstanceOf(CallGoneError);
    expect((err as CallGoneError).code).toBe(410);
    expect(res.info).toMatchObject({ reason: 'destroyed', cause: 'NORMAL_CLEARING' });
  });
});

describe.each(BOTH)('410 at wire level (%s)', (transport) => {
  it('the caller hanging up during Play: the node answers the Play with 410', async () => {
    const w = await open(transport);
    const done = deferred<Record<string, unknown>>();
    w.ctrls[0]!.onCall(async (call) => {
      await call.answer();
      const r = await rawRequest(w.probe, w.subjects.nodeOf(w.node.uuid), 'XNode.Play', {
        ctrl_uuid: w.ctrls[0]!.ctrlUuid,
        uuid: call.uuid,
        media: { type: 'FILE', data: 'silence_stream://60000' },
      });
      done.resolve(resultOf(r));
    });
    w.inject({ script: [{ wait: 300 }, { hangup: {} }] });
    expect(await w.drive(done.promise)).toMatchObject({ code: 410 });
  });
});

describe.each(BOTH)('Call methods, the rest (%s)', (transport) => {
  it('accept then answer; a second accept by the same controller is fine', async () => {
    const w = await open(transport);
    const ok = await inbound(w, async (call) => {
      await call.accept();
      await call.answer();
      return call.answered;
    });
    expect(ok).toBe(true);
  });

  it('record (RECORD) blocks until the 10 s limit and reports the path and the cause', async () => {
    const w = await open(transport);
    const r = await inbound(w, async (call) => {
      await call.answer();
      const t0 = w.clock.now();
      const rec = await call.record({ path: 'e2e-record.wav', limitSec: 10 });
      return { rec, ms: w.clock.now() - t0 };
    });
    expect(r.rec.path).toMatch(/e2e-record\.wav$/);
    expect(r.ms).toBeGreaterThanOrEqual(10_000);
  });

  it('record START/STOP are quick commands', async () => {
    const w = await open(transport);
    const r = await inbound(w, async (call) => {
      await call.answer();
      await call.record({ path: 'e2e-bg.wav', action: 'START' });
      await call.play('silence_stream://500');
      const stopped = await call.record({ path: 'e2e-bg.wav', action: 'STOP' });
      const events = (await call.getState()).code;
      return { stopped, events };
    });
    expect(r.events).toBe(200);
  });

  it('readDigits: collects like ReadDTMF', async () => {
    const w = await open(transport);
    const input = await inbound(
      w,
      async (call) => {
        await call.answer();
        return call.readDigits({ min: 3, max: 3, timeoutMs: 3000 });
      },
      [{ dtmf: '123' }],
    );
    expect(input).toMatchObject({ digits: '123', reason: 'ok' });
  });

  it('readDtmf with regex: input failing the regex ends with reason invalid', async () => {
    const w = await open(transport);
    const input = await inbound(
      w,
      async (call) => {
        await call.answer();
        return call.readDtmf({ min: 1, max: 1, timeoutMs: 2000, regex: '^[12]$' });
      },
      [{ dtmf: '9' }],
    );
    expect(input.reason).toBe('invalid');
  });

  it('detectSpeech: what the caller says is recognised; silence ends with no_input', async () => {
    const w = await open(transport);
    const heard = await inbound(
      w,
      async (call) => {
        await call.answer();
        return call.detectSpeech({ speech: { engine: 'sim', no_input_timeout: 5000 } });
      },
      [{ wait: 200 }, { say: 'sales please' }],
    );
    expect(heard).toMatchObject({ type: 'Speech.End', text: 'sales please' });
    const silent = await inbound(w, async (call) => {
      await call.answer();
      return call.detectSpeech({ speech: { engine: 'sim', no_input_timeout: 1000 } });
    });
    expect(silent).toMatchObject({ type: 'ERROR', error: 'no_input' });
  });

  it('sendDtmf, hold, mute, broadcast and getState answer 200', async () => {
    const w = await open(transport);
    const state = await inbound(w, async (call) => {
      await call.answer();
      await call.sendDtmf('123');
      await call.hold('ON');
      await call.hold('OFF');
      await call.mute({ direction: 'READ' });
      await call.broadcast('silence_stream://100');
      return call.getState();
    });
    expect(state).toMatchObject({ code: 200 });
    expect(state.answered).toBe(true);
  });

  it('channelBridge joins two legs, unbridge splits them', async () => {
    const w = await open(transport);
    const ctrl = w.ctrls[0]!;
    const res = await inbound(w, async (call) => {
      await call.answer();
      const b = await ctrl.dial({ to: '2000' });
      await call.channelBridge2(b);
      await call.waitFor('BRIDGE', { timeoutMs: 5000 });
      await call.unbridge();
      await call.waitFor('UNBRIDGE', { timeoutMs: 5000 });
      await b.hangup();
      return b.ended;
    });
    expect(res.reason).toBe('destroyed');
  });

  it('conference: a member joins and leaves on stop', async () => {
    const w = await open(transport);
    const r = await inbound(w, async (call) => {
      await call.answer();
      const inRoom = outcome(call.conference('room-1'));
      await call.getState();
      await call.stop();
      return inRoom;
    });
    // Leaving by Stop is an interruption: 410 from the node (common decision 7).
    expect(r.ok).toBe(false);
    expect((r as { error: unknown }).error).toBeInstanceOf(CallGoneError);
  });

  it('bridge to a busy number fails with CallFailedError and the caller stays (continue_on_fail default)', async () => {
    const w = await open(transport);
    const res = await inbound(w, async (call) => {
      await call.answer();
      const r = await outcome(call.bridge({ to: 'busy' }));
      return { r, ended: call.isEnded };
    });
    expect(res.r.ok).toBe(false);
    expect((res.r as { error: CallFailedError }).error.hangupCause).toBe('USER_BUSY');
    expect(res.ended).toBe(false);
  });

  it('play failures: a missing file and an http URL (no network in the simulator) reject with NotFoundError', async () => {
    const w = await open(transport);
    const r = await inbound(w, async (call) => {
      await call.answer();
      const missing = await outcome(call.play('/no/such/file.wav'));
      const url = await outcome(call.play('http://example.invalid/x.wav'));
      const tts = await outcome(call.play({ type: 'TEXT', data: 'hello world' }));
      return { missing, url, tts };
    });
    expect((r.missing as { error: unknown }).error).toBeInstanceOf(NotFoundError);
    expect(String((r.missing as { error: Error }).error.message)).toMatch(/\/no\/such\/file\.wav/);
    expect((r.url as { error: unknown }).error).toBeInstanceOf(NotFoundError);
    expect(r.tts.ok).toBe(true);
  });

  it('setVar with a non-string value is refused with BadRequestError naming the field', async () => {
    const w = await open(transport);
    const r = await inbound(w, async (call) => {
      await call.answer();
      return outcome(call.setVar({ n: 5 as unknown as string }));
    });
    expect(r.ok).toBe(false);
    expect((r as { error: unknown }).error).toBeInstanceOf(BadRequestError);
    expect(String((r as { error: Error }).error.message)).toMatch(/params\.data\.n/);
  });

  it('dial ringall: the first leg to answer wins, the other is cancelled', async () => {
    world = await makeWorld(transport, {
      directory: { fast: { answer_after_ms: 200 }, slow: { answer_after_ms: 5000 } },
    });
    const w = world;
    const cdrs = new Tap(w.probe, w.subjects.cdr);
    const leg = await w.drive(
      w.ctrls[0]!.dial({ to: [{ dest_number: 'slow' }, { dest_number: 'fast' }], ringall: true }),
    );
    expect(leg.destNumber).toBe('fast');
    await w.settle();
    expect(w.node.channelCount).toBe(1);
    const loser = cdrs.events('Event.CDR').map((e) => paramsOf(e).cdr as Record<string, string>);
    expect(loser).toHaveLength(1);
    expect(loser[0]?.destination_number).toBe('slow');
    expect(['LOSE_RACE', 'ORIGINATOR_CANCEL']).toContain(loser[0]?.hangup_cause);
    await leg.hangup();
    cdrs.close();
  });

  it('dial aborted while ringing: CancelledError and the ringing leg is hung up on the node', async () => {
    const w = await open(transport);
    const ac = new AbortController();
    const dialling = outcome(
      w.ctrls[0]!.dial({ to: [{ dest_number: 'noanswer', timeout: 30 }], signal: ac.signal }),
    );
    await w.advance(500);
    expect(w.node.channelCount).toBe(1);
    ac.abort();
    const r = await w.drive(dialling);
    expect(r.ok).toBe(false);
    expect(isCancellation((r as { error: unknown }).error)).toBe(true);
    await w.advance(100);
    expect(w.node.channelCount).toBe(0);
  });

  it('play aborted by its signal: XNode.Stop reaches the node, CancelledError, and the channel plays again at once', async () => {
    const w = await open(transport);
    const r = await inbound(w, async (call) => {
      await call.answer();
      const ac = new AbortController();
      const playing = outcome(call.play('silence_stream://600000', { signal: ac.signal }));
      await call.getState();
      ac.abort();
      const aborted = await playing;
      const t0 = w.clock.now();
      await call.play('silence_stream://200');
      return { aborted, ms: w.clock.now() - t0 };
    });
    expect(r.aborted.ok).toBe(false);
    expect(isCancellation((r.aborted as { error: unknown }).error)).toBe(true);
    expect(r.ms).toBeLessThan(1000);
  });

  it('400 / 501 / 404 map to BadRequestError / NotImplementedError / NotFoundError', async () => {
    const w = await open(transport);
    const nodeSubject = w.subjects.nodeOf(w.node.uuid);
    const errs = await inbound(w, async (call) => {
      await call.answer();
      const bad = await outcome(call.readDtmf({ min: 5, max: 1, timeoutMs: 100 }));
      const ni = resultOf(
        await rawRequest(w.probe, nodeSubject, 'XNode.NativeAPI', { ctrl_uuid: 'x', cmd: 'reloadxml' }),
      );
      await call.hangup();
      await call.ended;
      const gone = await outcome(call.play('silence_stream://10'));
      return { bad, ni, gone };
    });
    expect(errs.ni).toMatchObject({ code: 501 });
    expect(errs.bad.ok).toBe(false);
    expect((errs.bad as { error: unknown }).error).toBeInstanceOf(BadRequestError);
    expect(errs.gone.ok).toBe(false);
    const goneErr = (errs.gone as { error: unknown }).error;
    // After DESTROY the SDK refuses locally (the call is gone) or the node answers 404.
    expect(
      goneErr instanceof NotFoundError || goneErr instanceof CallGoneError || isCancellation(goneErr),
    ).toBe(true);
  });
});
