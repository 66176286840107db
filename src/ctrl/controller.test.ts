import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import {
  BadRequestError,
  CallFailedError,
  CallGoneError,
  CancelledError,
  ConflictError,
  decode,
  InternalError,
  isCancellation,
  type Logger,
  NodeUnavailableError,
  NoRespondersError,
  NotFoundError,
  NotImplementedError,
  RpcTimeoutError,
} from '../protocol/index.js';
import type { Call } from './call.js';
import { Controller } from './controller.js';
import type { FlowCancelledError } from './errors.js';
import { FakeNode } from './test-support/fake-node.js';

const CTRL = 'ctrl-1';

interface LogLine {
  level: string;
  obj: object;
  msg: string | undefined;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A flow that just holds the call until its signal aborts. */
function untilAborted(call: Call): Promise<void> {
  return new Promise((resolve) => call.signal.addEventListener('abort', () => resolve(), { once: true }));
}

describe('Controller', () => {
  let clock: VirtualClock;
  let broker: MemoryBroker;
  let node: FakeNode;
  let ctrl: Controller;
  let logs: LogLine[];

  beforeEach(async () => {
    clock = new VirtualClock();
    broker = new MemoryBroker({ clock });
    node = new FakeNode(broker.connect('node')).start();
    logs = [];
    ctrl = new Controller({
      bus: broker.connect('ctrl'),
      clock,
      ctrlUuid: CTRL,
      logger: recordingLogger(logs),
    });
    await ctrl.start();
  });

  afterEach(async () => {
    await ctrl.close();
    node.stop();
  });

  /** Offers an inbound call and returns the Call handed to the flow (the flow then runs `body`). */
  async function inbound(body: (call: Call) => Promise<void> = untilAborted): Promise<{
    call: Call;
    flow: Promise<void>;
  }> {
    let resolveCall!: (c: Call) => void;
    const got = new Promise<Call>((r) => {
      resolveCall = r;
    });
    let resolveFlow!: () => void;
    const flow = new Promise<void>((r) => {
      resolveFlow = r;
    });
    const off = ctrl.onCall(async (call) => {
      off();
      resolveCall(call);
      try {
        await body(call);
      } finally {
        resolveFlow();
      }
    });
    node.offer();
    const call = await got;
    return { call, flow };
  }

  it('announces itself with XNode.CtrlStartUp on start', async () => {
    await clock.tick();
    const [startup] = node.received('XNode.CtrlStartUp');
    expect(startup?.params.ctrl_uuid).toBe(CTRL);
    expect(startup?.id).toBeUndefined();
  });

  it('onCall gets the call only after Accept succeeded, with START fields', async () => {
    node.hold('XNode.Accept');
    let got: Call | undefined;
    ctrl.onCall(async (call) => {
      got = call;
    });
    const uuid = node.offer({ cid_number: '1234', dest_number: '9999', params: { foo: 'bar' } });
    const accept = await node.next('XNode.Accept');
    expect(accept.params).toMatchObject({ uuid, ctrl_uuid: CTRL });
    expect(accept.subject).toBe(`cn.xswitch.node.${node.uuid}`);
    await clock.tick();
    expect(got).toBeUndefined();
    accept.respond({ code: 200, uuid });
    await clock.tick();
    expect(got?.uuid).toBe(uuid);
    expect(got?.cidNumber).toBe('1234');
    expect(got?.destNumber).toBe('9999');
    expect(got?.variables).toEqual({ foo: 'bar' });
    expect(got?.nodeUuid).toBe(node.uuid);
    expect(got?.direction).toBe('inbound');
  });

  it('419 on Accept: the flow is not started and the call is dropped silently', async () => {
    node.handle('XNode.Accept', () => ({ code: 419, message: 'conflict' }));
    let started = false;
    ctrl.onCall(async () => {
      started = true;
    });
    node.offer();
    await clock.tick();
    expect(started).toBe(false);
    expect(ctrl.leaks().calls).toBe(0);
    expect(ctrl.stats().lostRace).toBe(1);
    expect(logs.some((l) => l.level === 'debug' && l.msg?.includes('419'))).toBe(true);
    expect(logs.some((l) => l.level === 'error' || l.level === 'warn')).toBe(false);
  });

  it('accepts with takeover:true when configured', async () => {
    await ctrl.close();
    ctrl = new Controller({ bus: broker.connect('c2'), clock, ctrlUuid: 'ctrl-2', takeover: true });
    await ctrl.start();
    ctrl.onCall(async () => {});
    node.offer();
    const accept = await node.next('XNode.Accept');
    expect(accept.params.takeover).toBe(true);
  });

  it('a flow returning normally hangs the call up with NORMAL_CLEARING, then forgets it after DESTROY', async () => {
    const { call, flow } = await inbound(async () => {});
    await flow;
    const hangup = await node.next('XNode.Hangup');
    expect(hangup.params).toMatchObject({ uuid: call.uuid, cause: 'NORMAL_CLEARING' });
    const info = await call.ended;
    expect(info.reason).toBe('destroyed');
    expect(info.cause).toBe('NORMAL_CLEARING');
    expect(info.durationSec).toBe(3);
    await clock.tick();
    expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, rpcPending: 0 });
  });

  it('a flow that throws is logged with the call uuid and the call is hung up with NORMAL_TEMPORARY_FAILURE', async () => {
    const boom = new Error('boom');
    const { call } = await inbound(async () => {
      throw boom;
    });
    const hangup = await node.next('XNode.Hangup');
    expect(hangup.params.cause).toBe('NORMAL_TEMPORARY_FAILURE');
    const line = logs.find((l) => l.level === 'error' && l.msg === 'call flow failed');
    expect(line?.obj).toMatchObject({ uuid: call.uuid, err: boom });
    expect(ctrl.stats().flowsFailed).toBe(1);
  });

  describe('wire mapping', () => {
    it('maps every channel API onto its XNode method and params', async () => {
      const { call } = await inbound();
      node.handle('XNode.Hangup', () => ({ code: 200 }));
      const peer = 'peer-1';
      await call.answer({ channelParams: ['a'] });
      await call.hangup({ cause: 'USER_BUSY', flag: 'BOTH', variables: { x: '1' } });
      await call.play('/tmp/a.wav');
      await call.play({ type: 'TEXT', data: 'hello', engine: 'ali', voice: 'aiqi' });
      await call.stop();
      await call.broadcast('b.wav', { option: 'ALEG' });
      await call.record({
        path: '/r.wav',
        limitSec: 10,
        beep: 'default',
        terminators: '#',
        silenceSec: 3,
        thresh: 200,
        rate: 8000,
      });
      await call.record({ path: '/r.wav', action: 'START' });
      await call.readDtmf({
        min: 1,
        max: 4,
        timeoutMs: 7000,
        digitTimeoutMs: 1500,
        terminators: '#',
        prompt: 'menu.wav',
        regex: '^\\d+$',
        invalidPrompt: 'bad.wav',
      });
      await call.readDigits({ max: 2 });
      node.handle('XNode.DetectSpeech', () => ({ code: 200, data: { type: 'Speech.End', text: 'yes' } }));
      await call.detectSpeech({ prompt: 'q.wav', speech: { engine: 'asr', no_input_timeout: 5000 } });
      await call.sendDtmf('12#');
      await call.bridge({
        to: 'user/1001',
        flowControl: 'ANY',
        continueOnFail: ['USER_BUSY', 'NO_ANSWER'],
        ringback: '%(1000,4000,450)',
      });
      await call.channelBridge(peer, { flowControl: 'CALLER', bridgeDelay: 100 });
      await call.channelBridge2(peer);
      await call.unbridge();
      await call.hold('TOGGLE', { display: 'music' });
      await call.mute({ direction: 'READ', level: 1, flag: 'FIRST' });
      await call.setVar({ k: 'v' }, { channelParams: ['k'] });
      await call.getVar(['k']);
      await call.getState();
      await call.conference('room1', { profile: 'default', flags: ['mute'] });
      await call.accept({ takeover: true, channelParams: ['z'] });

      const sent = node.requests
        .filter((r) => r.params.uuid === call.uuid)
        .map((r) => {
          const { ctrl_uuid, uuid, ...rest } = r.params;
          expect(ctrl_uuid).toBe(CTRL);
          return [r.method, rest];
        });
      expect(sent).toEqual([
        ['XNode.Accept', { takeover: false }],
        ['XNode.Answer', { channel_params: ['a'] }],
        ['XNode.Hangup', { cause: 'USER_BUSY', flag: 'BOTH', data: { x: '1' } }],
        ['XNode.Play', { media: { type: 'FILE', data: '/tmp/a.wav' } }],
        ['XNode.Play', { media: { type: 'TEXT', data: 'hello', engine: 'ali', voice: 'aiqi' } }],
        ['XNode.Stop', {}],
        ['XNode.Broadcast', { media: { type: 'FILE', data: 'b.wav' }, option: 'ALEG' }],
        [
          'XNode.Record',
          {
            path: '/r.wav',
            action: 'RECORD',
            limit: 10,
            beep: 'default',
            terminators: '#',
            silence_seconds: 3,
            thresh: 200,
            rate: 8000,
          },
        ],
        ['XNode.Record', { path: '/r.wav', action: 'START' }],
        [
          'XNode.ReadDTMF',
          {
            min_digits: 1,
            max_digits: 4,
            timeout: 7000,
            digit_timeout: 1500,
            terminators: '#',
            media: { type: 'FILE', data: 'menu.wav' },
            regex: '^\\d+$',
            media_invalid: { type: 'FILE', data: 'bad.wav' },
          },
        ],
        ['XNode.ReadDigits', { max_digits: 2 }],
        [
          'XNode.DetectSpeech',
          { speech: { engine: 'asr', no_input_timeout: 5000 }, media: { type: 'FILE', data: 'q.wav' } },
        ],
        ['XNode.SendDTMF', { dtmf: '12#' }],
        [
          'XNode.Bridge',
          {
            destination: { call_params: [{ dial_string: 'user/1001' }] },
            flow_control: 'ANY',
            ringback: '%(1000,4000,450)',
            continue_on_fail: 'USER_BUSY,NO_ANSWER',
          },
        ],
        ['XNode.ChannelBridge', { peer_uuid: peer, flow_control: 'CALLER', bridge_delay: 100 }],
        ['XNode.ChannelBridge2', { peer_uuid: peer }],
        ['XNode.UnBridge', {}],
        ['XNode.Hold', { action: 'TOGGLE', display: 'music' }],
        ['XNode.Mute', { direction: 'READ', level: 1, flag: 'FIRST' }],
        ['XNode.SetVar', { data: { k: 'v' }, channel_params: ['k'] }],
        ['XNode.GetVar', { data: ['k'] }],
        ['XNode.GetState', {}],
        ['XNode.Conference', { name: 'room1', profile: 'default', flags: ['mute'] }],
        ['XNode.Accept', { takeover: true, channel_params: ['z'] }],
      ]);
    });

    it('maps results to typed values', async () => {
      const { call } = await inbound();
      node.handle('XNode.ReadDTMF', () => ({ code: 202, dtmf: '42', terminator: '#' }));
      expect(await call.readDtmf({ max: 2 })).toEqual({ digits: '42', terminator: '#', reason: 'ok' });
      node.handle('XNode.ReadDTMF', () => ({ code: 200, dtmf: '', reason: 'timeout' }));
      expect(await call.readDtmf()).toEqual({ digits: '', terminator: undefined, reason: 'timeout' });
      node.handle('XNode.GetVar', () => ({ code: 200, data: { a: '1' } }));
      expect(await call.getVar(['a', 'b'])).toEqual({ a: '1' });
      node.handle('XNode.Record', () => ({ code: 200, path: '/x.wav', terminator: '*' }));
      expect(await call.record({ path: '/x.wav' })).toEqual({ path: '/x.wav', terminator: '*' });
      node.handle('XNode.GetState', () => ({ code: 200, answered: true, channel_state: 'CS_EXECUTE' }));
      expect(await call.getState()).toMatchObject({ answered: true, channel_state: 'CS_EXECUTE' });
      node.handle('XNode.Bridge', () => ({ code: 200, cause: 'SUCCESS' }));
      expect(await call.bridge({ to: '1001' })).toEqual({ cause: 'SUCCESS' });
    });

    it.each([
      [400, BadRequestError],
      [404, NotFoundError],
      [410, CallGoneError],
      [419, ConflictError],
      [480, CallFailedError],
      [500, InternalError],
      [501, NotImplementedError],
      [603, NodeUnavailableError],
    ] as const)('result code %i rejects with %s', async (code, cls) => {
      const { call } = await inbound();
      node.handle('XNode.Play', () => ({ code, message: `code ${code}`, cause: 'USER_BUSY' }));
      const err = await call.play('a.wav').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect((err as CallGoneError).code).toBe(code);
      expect((err as CallGoneError).method).toBe('XNode.Play');
    });

    it('timeout: the node is told to stop and the call rejects with RpcTimeoutError', async () => {
      const { call } = await inbound();
      node.hold('XNode.Play');
      const p = call.play('long.wav', { timeoutMs: 1000 }).catch((e: unknown) => e);
      await clock.advance(1000);
      const err = await p;
      expect(err).toBeInstanceOf(RpcTimeoutError);
      expect(node.received('XNode.Stop').map((r) => r.params.uuid)).toEqual([call.uuid]);
      expect(ctrl.leaks().rpcPending).toBe(0);
    });

    it('channelBridge waits for the whole bridge, not the 5 s default of quick commands', async () => {
      const { call } = await inbound();
      node.hold('XNode.ChannelBridge');
      let settled = false;
      const p = call.channelBridge('peer-1').then(
        () => {
          settled = true;
        },
        (e: unknown) => {
          settled = true;
          throw e;
        },
      );
      const req = await node.next('XNode.ChannelBridge');
      await clock.advance(600_000);
      expect(settled).toBe(false);
      req.respond({ code: 200, uuid: call.uuid });
      await p;
      expect(node.received('XNode.UnBridge')).toEqual([]);
    });

    it("a DESTROY lost after the flow's hangup: the node is asked after 5 s and a 404 releases the call", async () => {
      node.handle('XNode.Hangup', (req) => ({ code: 200, uuid: req.params.uuid }));
      node.handle('XNode.GetState', (req) => ({
        code: 404,
        message: 'cannot locate session by uuid',
        uuid: req.params.uuid,
      }));
      const { call, flow } = await inbound(async () => {});
      await flow;
      await clock.tick();
      expect(node.received('XNode.Hangup')).toHaveLength(1);
      expect(ctrl.leaks().calls).toBe(1);
      await clock.advance(5_000);
      expect(node.received('XNode.GetState').map((r) => r.params.uuid)).toEqual([call.uuid]);
      expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, rpcPending: 0 });
      expect(ctrl.stats().reaped).toBe(0);
    });

    it('no responders: NoRespondersError', async () => {
      const { call } = await inbound();
      node.stop();
      await expect(call.getState()).rejects.toBeInstanceOf(NoRespondersError);
    });

    it('bad options are a BadRequestError before anything is sent', async () => {
      const { call } = await inbound();
      const before = node.requests.length;
      await expect(call.record({ path: '' })).rejects.toBeInstanceOf(BadRequestError);
      await expect(call.readDtmf({ terminators: 'x' })).rejects.toThrow(/terminators/);
      expect(node.requests.length).toBe(before);
    });
  });

  describe('cancellation', () => {
    it('aborting play sends XNode.Stop first, then rejects with CancelledError', async () => {
      const { call } = await inbound();
      node.hold('XNode.Play');
      node.hold('XNode.Stop');
      const ac = new AbortController();
      let settled = false;
      const p = call.play('a.wav', { signal: ac.signal }).then(
        () => {
          settled = true;
        },
        (e: unknown) => {
          settled = true;
          return e;
        },
      );
      const play = await node.next('XNode.Play');
      const stop = node.next('XNode.Stop');
      ac.abort();
      const stopReq = await stop;
      expect(stopReq.params.uuid).toBe(call.uuid);
      await clock.tick();
      expect(settled).toBe(false); // waits for the node to confirm the stop
      stopReq.respond({ code: 200 });
      play.respond({ code: 410, message: 'stopped' }); // late: goes nowhere
      const err = await p;
      expect(err).toBeInstanceOf(CancelledError);
      expect(isCancellation(err)).toBe(true);
      await clock.tick();
      expect(ctrl.leaks().rpcPending).toBe(0);
    });

    it('aborting bridge sends XNode.UnBridge', async () => {
      const { call } = await inbound();
      node.hold('XNode.Bridge');
      const ac = new AbortController();
      const p = call.bridge({ to: 'user/1', signal: ac.signal }).catch((e: unknown) => e);
      await node.next('XNode.Bridge');
      ac.abort();
      expect(isCancellation(await p)).toBe(true);
      expect(node.received('XNode.UnBridge')).toHaveLength(1);
      expect(node.received('XNode.Stop')).toHaveLength(0);
    });

    it.each([
      ['readDtmf', (c: Call, signal: AbortSignal) => c.readDtmf({ signal })],
      ['readDigits', (c: Call, signal: AbortSignal) => c.readDigits({ signal })],
      ['detectSpeech', (c: Call, signal: AbortSignal) => c.detectSpeech({ signal })],
      ['record', (c: Call, signal: AbortSignal) => c.record({ path: '/a.wav', signal })],
      ['conference', (c: Call, signal: AbortSignal) => c.conference('r', { signal })],
    ] as const)('aborting %s sends XNode.Stop', async (_name, op) => {
      const { call } = await inbound();
      for (const m of [
        'XNode.ReadDTMF',
        'XNode.ReadDigits',
        'XNode.DetectSpeech',
        'XNode.Record',
        'XNode.Conference',
      ]) {
        node.hold(m);
      }
      const ac = new AbortController();
      const p = op(call, ac.signal).catch((e: unknown) => e);
      await clock.tick();
      ac.abort();
      expect(isCancellation(await p)).toBe(true);
      expect(node.received('XNode.Stop')).toHaveLength(1);
    });

    it('DESTROY aborts the flow, blocking primitives reject, and defer() cleanup runs newest first past a failing step', async () => {
      node.hold('XNode.Play');
      const order: string[] = [];
      let flowError: unknown;
      const { call, flow } = await inbound(async (c) => {
        c.defer(() => {
          order.push('first');
        });
        c.defer(() => {
          order.push('second');
          throw new Error('cleanup failed');
        });
        c.defer(async () => {
          await Promise.resolve();
          order.push('third');
        });
        try {
          await c.play('a.wav');
        } catch (err) {
          flowError = err;
          throw err;
        }
      });
      await node.next('XNode.Play');
      node.channel(CTRL, call.uuid, 'DESTROY', { cause: 'NORMAL_CLEARING' });
      await flow;
      await call.ended;
      await clock.tick();
      // Deterministic whichever comes first, the node's 410 or the DESTROY: CallGoneError naming the reason.
      expect(flowError).toBeInstanceOf(CallGoneError);
      expect(((flowError as CallGoneError).cause as FlowCancelledError).reason).toBe('destroyed');
      expect(logs.some((l) => l.msg === 'call flow failed')).toBe(false);
      expect(call.signal.aborted).toBe(true);
      expect(order).toEqual(['third', 'second', 'first']);
      const line = logs.find((l) => l.msg === 'call cleanup failed');
      expect(line?.level).toBe('error');
      expect((line?.obj as { err: AggregateError } | undefined)?.err.errors).toHaveLength(1);
      // No Stop to a dead channel, no hangup after DESTROY.
      expect(node.received('XNode.Stop')).toHaveLength(0);
      expect(node.received('XNode.Hangup')).toHaveLength(0);
      expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, rpcPending: 0 });
    });

    it('410 from the node when the far end hangs up rejects with CallGoneError', async () => {
      node.hold('XNode.Play');
      let err: unknown;
      const { call, flow } = await inbound(async (c) => {
        err = await c.play('a.wav').catch((e: unknown) => e);
      });
      const play = await node.next('XNode.Play');
      play.respond({ code: 410, message: 'gone' });
      node.channel(CTRL, call.uuid, 'DESTROY', { cause: 'NORMAL_CLEARING' });
      await flow;
      expect(err).toBeInstanceOf(CallGoneError);
    });

    it('a 419 on a controlled call means takeover: the flow is cancelled and the call is not hung up', async () => {
      node.handle('XNode.Play', () => ({ code: 419, message: 'taken over' }));
      const { call, flow } = await inbound(async (c) => {
        await c.play('a.wav').catch(() => {});
        await c.waitFor('DESTROY'); // rejects at once: the call is no longer ours
      });
      await flow;
      expect(call.signal.aborted).toBe(true);
      expect((call.signal.reason as FlowCancelledError).reason).toBe('taken-over');
      expect((await call.ended).reason).toBe('taken-over');
      await clock.tick();
      expect(node.received('XNode.Hangup')).toHaveLength(0);
      expect(ctrl.leaks().calls).toBe(0);
    });

    it('out-of-order events after DESTROY are ignored with a log line', async () => {
      const { call, flow } = await inbound();
      node.channel(CTRL, call.uuid, 'DESTROY', { cause: 'NORMAL_CLEARING' });
      node.channel(CTRL, call.uuid, 'ANSWERED', { answered: true });
      await flow;
      await clock.tick();
      expect(call.state).toBe('DESTROY');
      expect(call.answered).toBe(false);
      expect(
        logs.some((l) => l.msg?.includes('event after the call ended') || l.msg?.includes('unknown channel')),
      ).toBe(true);
    });

    it('events for unknown uuids and malformed events are dropped without a crash', async () => {
      node.channel(CTRL, 'nobody', 'ANSWERED');
      node.publish(`cn.xswitch.ctrl.${CTRL}`, 'Event.Channel', { uuid: 'x', state: 'NOPE' });
      node.publish(`cn.xswitch.ctrl.${CTRL}`, 'Event.DTMF', {
        uuid: 'nobody',
        node_uuid: 'n',
        dtmf_digit: '1',
      });
      await clock.tick();
      expect(logs.some((l) => l.level === 'debug' && l.msg === 'event for an unknown channel dropped')).toBe(
        true,
      );
      expect(logs.some((l) => l.level === 'warn' && l.msg === 'invalid Event.Channel ignored')).toBe(true);
    });
  });

  describe('events and waiting', () => {
    it('events() yields channel events and leaving the loop unsubscribes; waitFor resolves on the state', async () => {
      const { call } = await inbound();
      const seen: string[] = [];
      const loop = (async () => {
        for await (const ev of call.events()) {
          seen.push(ev.state);
          if (ev.state === 'ANSWERED') break;
        }
      })();
      const answered = call.waitFor('ANSWERED');
      node.channel(CTRL, call.uuid, 'RINGING');
      node.channel(CTRL, call.uuid, 'ANSWERED', { answered: true, params: { v: '1' } });
      await loop;
      expect(seen).toEqual(['RINGING', 'ANSWERED']);
      expect((await answered).state).toBe('ANSWERED');
      expect(call.answered).toBe(true);
      expect(call.variables.v).toBe('1');
    });

    it('waitFor a state the call already passed resolves at once with the latest event', async () => {
      const { call } = await inbound();
      node.channel(CTRL, call.uuid, 'ANSWERED', { answered: true });
      node.channel(CTRL, call.uuid, 'BRIDGE', { peer_uuid: 'p1' });
      await clock.tick();
      expect(call.state).toBe('BRIDGE');
      expect((await call.waitFor('ANSWERED')).state).toBe('BRIDGE');
    });

    it('waitFor times out with RpcTimeoutError and releases its timer', async () => {
      const { call } = await inbound();
      const timers = clock.pending;
      const p = call.waitFor('BRIDGE', { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(clock.pending).toBe(timers + 1);
      await clock.advance(500);
      expect(await p).toBeInstanceOf(RpcTimeoutError);
      expect(clock.pending).toBe(timers);
    });

    it('notifications() yields DTMF events for the call', async () => {
      const { call } = await inbound();
      const it = call.notifications()[Symbol.asyncIterator]();
      const next = it.next();
      node.publish(`cn.xswitch.ctrl.${CTRL}`, 'Event.DTMF', {
        uuid: call.uuid,
        node_uuid: node.uuid,
        dtmf_digit: '5',
      });
      const r = await next;
      expect(r.value).toMatchObject({ method: 'Event.DTMF', params: { dtmf_digit: '5' } });
      await it.return?.();
    });
  });

  describe('dial', () => {
    it('pre-assigns the leg uuid, sends XNode.Dial to the node queue and resolves with the READY leg', async () => {
      const leg = await ctrl.dial({
        to: 'user/1000',
        from: '100',
        cidName: 'Bob',
        ignoreEarlyMedia: true,
        variables: { a: 'b' },
        channelParams: ['x'],
      });
      const [dial] = node.received('XNode.Dial');
      expect(dial?.subject).toBe('cn.xswitch.node');
      const destination = dial?.params.destination as {
        call_params: Record<string, unknown>[];
        global_params: Record<string, string>;
      };
      expect(destination.call_params[0]).toMatchObject({
        dial_string: 'user/1000',
        cid_number: '100',
        cid_name: 'Bob',
        timeout: 30,
        uuid: leg.uuid,
      });
      expect(destination.global_params).toEqual({ a: 'b', ignore_early_media: 'true' });
      expect(leg.state).toBe('READY');
      expect(leg.nodeUuid).toBe(node.uuid);
      expect(leg.direction).toBe('outbound');
      await leg.hangup();
      await leg.ended;
      await clock.tick();
      expect(ctrl.leaks().calls).toBe(0);
    });

    it('a failed attempt rejects with CallFailedError carrying the cause', async () => {
      node.handle('XNode.Dial', () => ({ code: 480, message: 'call failed: USER_BUSY', cause: 'USER_BUSY' }));
      const err = await ctrl.dial({ to: '1000' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CallFailedError);
      expect((err as CallFailedError).hangupCause).toBe('USER_BUSY');
      expect(ctrl.leaks().calls).toBe(0);
    });

    it('603 while the node shuts down rejects with NodeUnavailableError', async () => {
      node.handle('XNode.Dial', () => ({ code: 603, message: 'node shutting down' }));
      await expect(ctrl.dial({ to: '1000' })).rejects.toBeInstanceOf(NodeUnavailableError);
    });

    it('aborting a ringing dial hangs the leg up and rejects with CancelledError', async () => {
      node.hold('XNode.Dial');
      const ac = new AbortController();
      const p = ctrl.dial({ to: 'user/1', signal: ac.signal }).catch((e: unknown) => e);
      const dial = await node.next('XNode.Dial');
      const uuid = (dial.params.destination as { call_params: { uuid: string }[] }).call_params[0]!.uuid;
      node.channel(CTRL, uuid, 'CALLING', { direction: 'outbound' });
      node.channel(CTRL, uuid, 'RINGING', { direction: 'outbound' });
      await clock.tick();
      ac.abort();
      const err = await p;
      expect(isCancellation(err)).toBe(true);
      const [hangup] = node.received('XNode.Hangup');
      expect(hangup?.params).toMatchObject({ uuid, cause: 'ORIGINATOR_CANCEL' });
      expect(hangup?.subject).toBe(`cn.xswitch.node.${node.uuid}`);
      await clock.tick();
      expect(ctrl.leaks()).toMatchObject({ calls: 0, rpcPending: 0 });
    });

    it('a leg of an aborted dial that shows up later is hung up on sight', async () => {
      node.hold('XNode.Dial');
      const ac = new AbortController();
      const p = ctrl.dial({ to: 'user/1', signal: ac.signal }).catch((e: unknown) => e);
      const dial = await node.next('XNode.Dial');
      const uuid = (dial.params.destination as { call_params: { uuid: string }[] }).call_params[0]!.uuid;
      ac.abort();
      expect(isCancellation(await p)).toBe(true);
      expect(node.received('XNode.Hangup')).toHaveLength(0);
      node.channel(CTRL, uuid, 'CALLING', { direction: 'outbound' });
      await clock.tick();
      expect(node.received('XNode.Hangup').map((r) => r.params.uuid)).toEqual([uuid]);
      await clock.tick();
      expect(ctrl.leaks().calls).toBe(0);
    });

    it('a leg owned by a flow (signal: call.signal) is hung up when the flow ends', async () => {
      let leg: Call | undefined;
      const { flow } = await inbound(async (c) => {
        leg = await ctrl.dial({ to: 'user/2', signal: c.signal });
      });
      await flow;
      await clock.tick();
      const hungUp = node.received('XNode.Hangup').map((r) => r.params.uuid);
      expect(hungUp).toContain(leg?.uuid);
      expect((await leg!.ended).reason).toBe('destroyed');
    });

    it('dial timeout hangs the legs up and rejects with RpcTimeoutError', async () => {
      node.hold('XNode.Dial');
      const p = ctrl.dial({ to: 'user/1', nodeUuid: node.uuid, timeoutMs: 5000 }).catch((e: unknown) => e);
      await clock.advance(15_000);
      expect(await p).toBeInstanceOf(RpcTimeoutError);
      expect(node.received('XNode.Hangup')).toHaveLength(1);
    });
  });

  describe('reaping', () => {
    it('node expiry reaps its calls: flows cancelled with node-lost and cleanup run', async () => {
      node.status('Event.NodeRegister');
      await clock.tick();
      expect(ctrl.nodes.get(node.uuid)?.info.name).toBe('fake');
      const changes: string[] = [];
      ctrl.nodes.on((c) => changes.push(c.kind));
      let cleaned = false;
      let reason: unknown;
      const { call, flow } = await inbound(async (c) => {
        c.defer(() => {
          cleaned = true;
        });
        await c.waitFor('DESTROY').catch((e: unknown) => {
          reason = e;
        });
      });
      await clock.advance(30_000);
      node.status('Event.NodeUpdate');
      await clock.advance(50_000);
      expect(call.isEnded).toBe(false); // updated at 30 s: still alive at 80 s
      await clock.advance(20_000);
      await flow;
      expect(reason).toBeInstanceOf(CallGoneError);
      expect(((reason as CallGoneError).cause as FlowCancelledError).reason).toBe('node-lost');
      expect(cleaned).toBe(true);
      expect(changes).toEqual(['updated', 'expired']);
      expect(ctrl.nodes.size).toBe(0);
      expect((await call.ended).reason).toBe('node-lost');
      await clock.tick();
      expect(ctrl.leaks().calls).toBe(0);
    });

    it('calls older than maxChannelLifetimeMs are reaped', async () => {
      await ctrl.close();
      ctrl = new Controller({
        bus: broker.connect('c3'),
        clock,
        ctrlUuid: 'ctrl-3',
        maxChannelLifetimeMs: 60_000,
      });
      await ctrl.start();
      const { call, flow } = await inbound();
      await clock.advance(70_000);
      await flow;
      expect((await call.ended).reason).toBe('max-lifetime');
      expect(node.received('XNode.Hangup').at(-1)?.params).toMatchObject({
        uuid: call.uuid,
        cause: 'ALLOTTED_TIMEOUT',
      });
      await clock.tick();
      expect(ctrl.leaks().calls).toBe(0);
    });
  });

  describe('close', () => {
    it('close() cancels flows (node told to stop), waits for cleanup, hangs up, and releases everything', async () => {
      node.hold('XNode.Play');
      const baseline = { timers: clock.pending, subs: broker.stats().subscriptions };
      let cleaned = false;
      const { call } = await inbound(async (c) => {
        c.defer(async () => {
          await clock.sleep(1000);
          cleaned = true;
        });
        await c.play('a.wav');
      });
      await node.next('XNode.Play');
      const closing = ctrl.close();
      await clock.advance(1000);
      await closing;
      expect(cleaned).toBe(true);
      expect(node.received('XNode.Stop').map((r) => r.params.uuid)).toEqual([call.uuid]);
      expect(node.received('XNode.Hangup').map((r) => r.params.uuid)).toEqual([call.uuid]);
      expect((call.signal.reason as FlowCancelledError).reason).toBe('controller-closed');
      expect((await call.ended).reason).toBe('controller-closed');
      expect(ctrl.leaks()).toEqual({
        calls: 0,
        flows: 0,
        tasks: 0,
        timers: 0,
        subscriptions: 0,
        rpcPending: 0,
      });
      expect(baseline.timers).toBe(1); // the sweep interval, now cancelled
      await expect(ctrl.dial({ to: '1' })).rejects.toThrow(/closed/);
    });

    it('close() resolves even when a flow holds its call with await call.ended, and still hangs it up', async () => {
      node.handle('XNode.Hangup', () => ({ code: 200 })); // no DESTROY: close must not wait for one
      const { call } = await inbound(async (c) => {
        await c.ended;
      });
      await ctrl.close();
      expect((await call.ended).reason).toBe('controller-closed');
      expect(node.received('XNode.Hangup').map((r) => r.params.uuid)).toEqual([call.uuid]);
      expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0 });
    });

    it('a 404 "cannot locate session" lets go of the call (its DESTROY was missed)', async () => {
      node.handle('XNode.GetState', () => ({ code: 404, message: 'cannot locate session by uuid' }));
      node.handle('XNode.Play', () => ({ code: 404, message: 'file not found' }));
      const { call, flow } = await inbound(async (c) => {
        await expect(c.play('missing.wav')).rejects.toBeInstanceOf(NotFoundError);
        expect(c.isEnded).toBe(false); // a missing file is not a missing channel
        await c.getState();
      });
      await flow;
      expect((await call.ended).reason).toBe('destroyed');
      await clock.tick();
      expect(node.received('XNode.Hangup')).toHaveLength(0);
      expect(ctrl.leaks().calls).toBe(0);
    });

    it('calls() iterator receives accepted calls; close ends the iteration', async () => {
      const got: string[] = [];
      const loop = (async () => {
        for await (const call of ctrl.calls()) got.push(call.uuid);
      })();
      const a = node.offer();
      const b = node.offer();
      await clock.tick();
      await ctrl.close();
      await loop;
      expect(got).toEqual([a, b]);
    });

    it('node→ctrl requests are answered -32601 instead of hanging', async () => {
      const bus = broker.connect('x');
      const reply = await bus.request(
        'cn.xswitch.ctrl',
        new TextEncoder().encode(
          JSON.stringify({ jsonrpc: '2.0', id: 'r1', method: 'XCtrl.Dialplan', params: {} }),
        ),
        { timeoutMs: 1000 },
      );
      const decoded = decode(reply.data);
      expect(decoded.kind).toBe('response');
      expect(decoded.kind === 'response' && 'error' in decoded.message && decoded.message.error.code).toBe(
        -32601,
      );
    });
  });
});
