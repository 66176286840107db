import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './test-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const directory = {
  '1000': { answer_after_ms: 2000 },
  '1001': { answer_after_ms: 2000, early_media: 500 },
  '1002': { busy: true, ring_ms: 1000 },
  '1003': { no_answer: true },
  '1004': { reject: 'CALL_REJECTED' },
  '1005': { answer_after_ms: 4000 },
  '1006': { answer_after_ms: 1000, script: [{ wait: 3000 }, { hangup: {} }] },
};

const dest = (callParams: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({
  destination: { call_params: callParams, ...extra },
});

describe('XNode.Dial (reference §5.2, §7.1; decisions 4, 12)', () => {
  it('answers 200/SUCCESS when READY: CALLING → RINGING → ANSWERED → MEDIA → READY, events to the dialler', async () => {
    h = await startHarness({ directory });
    const p = h.call('XNode.Dial', dest([{ uuid: 'leg1', dest_number: '1000', cid_number: '9999' }]));
    await h.clock.advance(2000);
    expect(await p).toMatchObject({ code: 200, cause: 'SUCCESS', uuid: 'leg1', node_uuid: 'node1' });
    expect(h.states('leg1')).toEqual(['CALLING', 'RINGING', 'ANSWERED', 'MEDIA', 'READY']);
    expect(h.channelEvents('leg1').every((m) => m.subject === 'cn.xswitch.ctrl.c1')).toBe(true);
    expect(h.channelEvents('leg1')[0]?.params).toMatchObject({
      direction: 'outbound',
      dest_number: '1000',
      cid_number: '9999',
    });
  });

  it('with early media (ignore_early_media false): READY right after MEDIA, Dial answers then, ANSWERED later', async () => {
    h = await startHarness({ directory });
    const p = h.call('XNode.Dial', dest([{ uuid: 'leg1', dest_number: '1001' }]));
    await h.clock.advance(500);
    expect(await p).toMatchObject({ code: 200, uuid: 'leg1' });
    expect(h.states('leg1')).toEqual(['CALLING', 'RINGING', 'MEDIA', 'READY']);
    await h.clock.advance(1500);
    expect(h.states('leg1')).toEqual(['CALLING', 'RINGING', 'MEDIA', 'READY', 'ANSWERED']);
  });

  it('with ignore_early_media "true" (global or per leg): no MEDIA before ANSWERED, READY after it', async () => {
    h = await startHarness({ directory });
    const p = h.call(
      'XNode.Dial',
      dest([{ uuid: 'leg1', dest_number: '1001' }], { global_params: { ignore_early_media: 'true' } }),
    );
    await h.clock.advance(2000);
    expect(await p).toMatchObject({ code: 200 });
    expect(h.states('leg1')).toEqual(['CALLING', 'RINGING', 'ANSWERED', 'MEDIA', 'READY']);
    const q = h.call(
      'XNode.Dial',
      dest([{ uuid: 'leg2', dest_number: '1001', params: { ignore_early_media: 'true' } }]),
    );
    await h.clock.advance(2000);
    await q;
    expect(h.states('leg2')).toEqual(['CALLING', 'RINGING', 'ANSWERED', 'MEDIA', 'READY']);
  });

  it.each([
    ['1002', 'USER_BUSY'],
    ['1004', 'CALL_REJECTED'],
    ['5555', 'NO_ROUTE_DESTINATION'],
  ])(
    'a failed attempt to %s answers 480 with cause %s and the leg ends with DESTROY',
    async (number, cause) => {
      h = await startHarness({ directory, defaultBehaviour: null });
      const p = h.call('XNode.Dial', dest([{ uuid: 'leg1', dest_number: number }]));
      await h.clock.advance(1000);
      expect(await p).toMatchObject({ code: 480, message: `call failed: ${cause}`, cause, uuid: 'leg1' });
      expect(h.channelEvents('leg1').at(-1)?.params).toMatchObject({ state: 'DESTROY', cause });
      expect(h.node.channelCount).toBe(0);
    },
  );

  it('rings for CallParam.timeout seconds, then NO_ANSWER; leg_timeout works too; default is 60 s', async () => {
    h = await startHarness({ directory });
    const p = h.call('XNode.Dial', dest([{ uuid: 'a', dest_number: '1003', timeout: 5 }]));
    await h.clock.advance(4999);
    expect(h.node.channelCount).toBe(1);
    await h.clock.advance(1);
    expect(await p).toMatchObject({ code: 480, cause: 'NO_ANSWER' });
    const q = h.call('XNode.Dial', dest([{ uuid: 'b', dest_number: '1003', params: { leg_timeout: '7' } }]));
    await h.clock.advance(7000);
    expect(await q).toMatchObject({ code: 480, cause: 'NO_ANSWER' });
    const r = h.call('XNode.Dial', dest([{ uuid: 'c', dest_number: '1003' }]));
    await h.clock.advance(59_999);
    expect(h.node.channelCount).toBe(1);
    await h.clock.advance(1);
    expect(await r).toMatchObject({ code: 480, cause: 'NO_ANSWER' });
  });

  it('ringall rings every leg at once; the first to answer wins and the others end with LOSE_RACE', async () => {
    h = await startHarness({ directory });
    const p = h.call(
      'XNode.Dial',
      dest(
        [
          { uuid: 'slow', dest_number: '1005' },
          { uuid: 'fast', dest_number: '1000' },
        ],
        { ringall: true },
      ),
    );
    await h.tick();
    expect(h.states('slow')[0]).toBe('CALLING');
    expect(h.states('fast')[0]).toBe('CALLING');
    await h.clock.advance(2000);
    expect(await p).toMatchObject({ code: 200, uuid: 'fast' });
    expect(h.channelEvents('slow').at(-1)?.params).toMatchObject({ state: 'DESTROY', cause: 'LOSE_RACE' });
    expect(h.node.channelCount).toBe(1);
  });

  it('sequential (ringall false) tries the next leg only after the previous failed', async () => {
    h = await startHarness({ directory });
    const p = h.call(
      'XNode.Dial',
      dest([
        { uuid: 'busy', dest_number: '1002' },
        { uuid: 'ok', dest_number: '1000' },
      ]),
    );
    await h.tick();
    expect(h.states('ok')).toEqual([]);
    await h.clock.advance(1000);
    expect(h.states('busy').at(-1)).toBe('DESTROY');
    expect(h.states('ok')[0]).toBe('CALLING');
    await h.clock.advance(2000);
    expect(await p).toMatchObject({ code: 200, uuid: 'ok' });
  });

  it('rejects a duplicate pre-assigned uuid with 400 and dials nothing', async () => {
    h = await startHarness({ directory });
    const uuid = h.inject();
    const res = await h.call('XNode.Dial', dest([{ uuid, dest_number: '1000' }]));
    expect(res.code).toBe(400);
    expect(res.message).toMatch(/duplicate/);
    const twice = await h.call(
      'XNode.Dial',
      dest([
        { uuid: 'x', dest_number: '1000' },
        { uuid: 'x', dest_number: '1001' },
      ]),
    );
    expect(twice.code).toBe(400);
    expect(h.node.channelCount).toBe(1);
  });

  it('sync:false answers 202 at once, then Event.DialResult with the request id to the dialler', async () => {
    h = await startHarness({ directory });
    const res = await h.send('XNode.Dial', { sync: false, ...dest([{ uuid: 'leg1', dest_number: '1000' }]) });
    expect(res.result).toMatchObject({ code: 202, message: 'Accepted', node_uuid: 'node1', uuid: 'leg1' });
    await h.clock.advance(2000);
    const [dr] = h.events('Event.DialResult');
    expect(dr?.subject).toBe('cn.xswitch.ctrl.c1');
    expect(dr?.params).toMatchObject({
      id: res.id,
      node_uuid: 'node1',
      uuid: 'leg1',
      code: 200,
      cause: 'SUCCESS',
    });
  });

  it('max_duration hangs the answered leg up with ALLOTTED_TIMEOUT', async () => {
    h = await startHarness({ directory });
    const p = h.call('XNode.Dial', dest([{ uuid: 'leg1', dest_number: '1000', max_duration: 10 }]));
    await h.clock.advance(2000);
    await p;
    await h.clock.advance(10_000);
    expect(h.channelEvents('leg1').at(-1)?.params).toMatchObject({
      state: 'DESTROY',
      cause: 'ALLOTTED_TIMEOUT',
    });
  });

  it('a ringing Dial leg hung up by the controller ends the Dial with 480 and that cause; Answer on it is 400', async () => {
    h = await startHarness({ directory });
    const p = h.call('XNode.Dial', dest([{ uuid: 'leg1', dest_number: '1000' }]));
    await h.clock.advance(500);
    expect(await h.call('XNode.Answer', { uuid: 'leg1' })).toMatchObject({ code: 400 });
    await h.call('XNode.Hangup', { uuid: 'leg1', cause: 'ORIGINATOR_CANCEL' });
    expect(await p).toMatchObject({ code: 480, cause: 'ORIGINATOR_CANCEL' });
    expect(h.states('leg1')).toEqual(['CALLING', 'RINGING', 'DESTROY']);
    await h.clock.advance(5000);
    expect(h.node.leaks()).toMatchObject({ channels: 0, backgroundTasks: 0, timers: h.baseline.timers });
  });

  it('Dial apps answer 501 (never faked)', async () => {
    h = await startHarness({ directory });
    const res = await h.call('XNode.Dial', {
      ...dest([{ dest_number: '1000' }]),
      apps: [{ app: 'echo', data: '' }],
    });
    expect(res.code).toBe(501);
  });
});

describe('XNode.Bridge and friends (reference §6 flow_control, §8)', () => {
  const answeredInbound = async (): Promise<string> => {
    const uuid = h.inject();
    await h.call('XNode.Answer', { uuid });
    return uuid;
  };

  it('b-leg CALLING → RINGING → ANSWERED → MEDIA (no READY), BRIDGE on both, UNBRIDGE when b hangs up; Bridge answers 200 then', async () => {
    h = await startHarness({ directory });
    const a = await answeredInbound();
    const p = h.call('XNode.Bridge', {
      uuid: a,
      flow_control: 'NONE',
      ...dest([{ uuid: 'b', dest_number: '1006' }]),
    });
    await h.clock.advance(1000);
    expect(h.states('b')).toEqual(['CALLING', 'RINGING', 'ANSWERED', 'MEDIA', 'BRIDGE']);
    const bridgeEv = h.channelEvents(a).at(-1);
    expect(bridgeEv?.params).toEqual({
      node_uuid: 'node1',
      uuid: a,
      peer_uuid: 'b',
      state: 'BRIDGE',
      domain: 'test.local',
    });
    await h.clock.advance(3000);
    expect(await p).toMatchObject({ code: 200, uuid: a, peer_uuid: 'b' });
    expect(h.states('b')).toEqual([
      'CALLING',
      'RINGING',
      'ANSWERED',
      'MEDIA',
      'BRIDGE',
      'UNBRIDGE',
      'DESTROY',
    ]);
    expect(h.states(a)).toEqual(['START', 'ANSWERED', 'BRIDGE', 'UNBRIDGE']);
    expect(h.node.channelCount).toBe(1);
  });

  it.each([
    ['NONE', 'caller', [0, 1]],
    ['NONE', 'callee', [1, 0]],
    ['CALLER', 'caller', [0, 0]],
    ['CALLER', 'callee', [1, 0]],
    ['CALLEE', 'callee', [0, 0]],
    ['CALLEE', 'caller', [0, 1]],
    ['ANY', 'callee', [0, 0]],
  ] as const)(
    'flow_control %s: when the %s hangs up, [caller alive, callee alive] = %j',
    async (flow, who, [aAlive, bAlive]) => {
      h = await startHarness({ directory });
      const a = await answeredInbound();
      const p = h.call('XNode.Bridge', {
        uuid: a,
        flow_control: flow,
        ...dest([{ uuid: 'b', dest_number: '1000' }]),
      });
      await h.clock.advance(2000);
      await h.call('XNode.Hangup', { uuid: who === 'caller' ? a : 'b' });
      const res = await p;
      expect(res.code).toBe(who === 'caller' ? 410 : 200);
      const alive = new Set(h.node.channels().map((c) => c.uuid));
      expect([alive.has(a) ? 1 : 0, alive.has('b') ? 1 : 0]).toEqual([aAlive, bAlive]);
    },
  );

  it('a failed b-leg answers 480; continue_on_fail false hangs the a-leg up, a cause list continues only on those', async () => {
    h = await startHarness({ directory });
    const a = await answeredInbound();
    const r1 = await Promise.all([
      h.call('XNode.Bridge', { uuid: a, ...dest([{ dest_number: '1004' }]) }),
      h.clock.advance(10),
    ]);
    expect(r1[0]).toMatchObject({ code: 480, cause: 'CALL_REJECTED' });
    expect(h.node.channelCount).toBe(1);
    const r2 = await Promise.all([
      h.call('XNode.Bridge', {
        uuid: a,
        continue_on_fail: 'USER_BUSY,NO_ANSWER',
        ...dest([{ dest_number: '1004' }]),
      }),
      h.clock.advance(10),
    ]);
    expect(r2[0]).toMatchObject({ code: 480, cause: 'CALL_REJECTED' });
    expect(h.channelEvents(a).at(-1)?.params).toMatchObject({ state: 'DESTROY', cause: 'CALL_REJECTED' });
  });

  it('Stop while the b-leg rings cancels it (ORIGINATOR_CANCEL) and Bridge answers 410', async () => {
    h = await startHarness({ directory });
    const a = await answeredInbound();
    const p = h.call('XNode.Bridge', { uuid: a, ...dest([{ uuid: 'b', dest_number: '1000' }]) });
    await h.clock.advance(500);
    await h.call('XNode.Stop', { uuid: a });
    expect(await p).toMatchObject({ code: 410 });
    expect(h.channelEvents('b').at(-1)?.params).toMatchObject({
      state: 'DESTROY',
      cause: 'ORIGINATOR_CANCEL',
    });
  });

  it('ChannelBridge joins two legs and returns when the bridge ends; ChannelBridge2 returns at once; UnBridge separates', async () => {
    h = await startHarness({ directory });
    const a = await answeredInbound();
    const b = await answeredInbound();
    const p = h.call('XNode.ChannelBridge', { uuid: a, peer_uuid: b });
    await h.tick();
    expect(h.states(b).at(-1)).toBe('BRIDGE');
    expect(await h.call('XNode.UnBridge', { uuid: b })).toMatchObject({ code: 200 });
    expect(await p).toMatchObject({ code: 200, peer_uuid: b });
    expect(await h.call('XNode.ChannelBridge2', { uuid: a, peer_uuid: b })).toMatchObject({ code: 200 });
    expect(await h.call('XNode.GetState', { uuid: a })).toMatchObject({ bridged: true });
    expect(await h.call('XNode.ChannelBridge2', { uuid: a, peer_uuid: b })).toMatchObject({ code: 400 });
    expect(await h.call('XNode.ChannelBridge', { uuid: a, peer_uuid: 'ghost' })).toMatchObject({ code: 404 });
    expect(await h.call('XNode.ChannelBridge', { uuid: a, peer_uuid: a })).toMatchObject({ code: 400 });
    await h.call('XNode.UnBridge', { uuid: a });
    expect(await h.call('XNode.UnBridge', { uuid: a })).toMatchObject({ code: 400 });
  });
});

describe('XNode.Hangup flags (decision 10)', () => {
  it.each([
    ['SELF', [false, true]],
    [0, [false, true]],
    ['PEER', [true, false]],
    [1, [true, false]],
    ['BOTH', [false, false]],
    [2, [false, false]],
  ] as const)('flag %s: [a alive, b alive] = %j; data vars reach the CDR', async (flag, [aAlive, bAlive]) => {
    h = await startHarness({ directory, node: { channelParams: ['reason'] } });
    const a = h.inject();
    await h.call('XNode.Answer', { uuid: a });
    const b = h.inject();
    await h.call('XNode.Answer', { uuid: b });
    await h.call('XNode.ChannelBridge2', { uuid: a, peer_uuid: b });
    expect(await h.call('XNode.Hangup', { uuid: a, flag, data: { reason: 'test' } })).toMatchObject({
      code: 200,
    });
    const alive = new Set(h.node.channels().map((c) => c.uuid));
    expect([alive.has(a), alive.has(b)]).toEqual([aAlive, bAlive]);
    await h.tick();
    expect(h.events('Event.CDR')[0]?.params.cdr.reason).toBe('test');
  });

  it('flag PEER on an unbridged channel answers 400; a bad flag is invalid params naming the field', async () => {
    h = await startHarness({ directory });
    const a = h.inject();
    await h.call('XNode.Answer', { uuid: a });
    expect(await h.call('XNode.Hangup', { uuid: a, flag: 'PEER' })).toMatchObject({ code: 400 });
    const bad = await h.send('XNode.Hangup', { uuid: a, flag: 7 });
    expect(bad.error?.code).toBe(-32602);
    expect(bad.error?.message).toMatch(/params\.flag/);
    expect(h.node.channelCount).toBe(1);
  });
});
