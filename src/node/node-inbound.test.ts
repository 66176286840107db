import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './test-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('XNode inbound calls (reference §3, §7.1)', () => {
  it('announces START on the ctrl queue subject with the call fields and string params', async () => {
    h = await startHarness();
    const uuid = h.inject({ variables: { foo: 'bar' } });
    await h.tick();
    const [start] = h.channelEvents(uuid);
    expect(start?.subject).toBe('cn.xswitch.ctrl');
    expect(start?.params).toMatchObject({
      state: 'START',
      direction: 'inbound',
      node_uuid: 'node1',
      uuid,
      cid_name: 'Alice',
      cid_number: '1000',
      dest_number: '9196',
      domain: 'test.local',
      context: 'default',
    });
    expect(typeof start?.params.create_epoch).toBe('number');
    expect(start?.params.params).toEqual({
      create_epoch: String(start?.params.create_epoch),
      ring_epoch: '0',
    });
  });

  it('hangs up a call nobody takes over within 10 s (RECOVERY_ON_TIMER_EXPIRE), not before', async () => {
    h = await startHarness();
    const uuid = h.inject();
    await h.clock.advance(9_999);
    expect(h.node.channelCount).toBe(1);
    await h.clock.advance(1);
    expect(h.node.channelCount).toBe(0);
    expect(h.states(uuid)).toEqual(['START', 'DESTROY']);
    expect(h.channelEvents(uuid)[1]?.params.cause).toBe('RECOVERY_ON_TIMER_EXPIRE');
  });

  it('Accept takes control: later events go to cn.xswitch.ctrl.<ctrl_uuid> and the 10 s rule is off', async () => {
    h = await startHarness();
    const uuid = h.inject();
    expect(await h.call('XNode.Accept', { uuid })).toMatchObject({ code: 200, node_uuid: 'node1', uuid });
    await h.clock.advance(30_000);
    expect(h.node.channelCount).toBe(1);
    expect(await h.call('XNode.Answer', { uuid })).toMatchObject({ code: 200 });
    await h.tick();
    const answered = h.channelEvents(uuid)[1];
    expect(answered?.subject).toBe('cn.xswitch.ctrl.c1');
    expect(answered?.params).toMatchObject({ state: 'ANSWERED', answered: true });
    expect(answered?.params.answer_epoch).toBeGreaterThan(0);
  });

  it('Answer implies Accept: START → ANSWERED → DESTROY with CDR before DESTROY', async () => {
    h = await startHarness();
    const uuid = h.inject();
    await h.call('XNode.Answer', { uuid });
    await h.clock.advance(5_000);
    expect(await h.call('XNode.Hangup', { uuid, cause: 'NORMAL_CLEARING' })).toMatchObject({ code: 200 });
    await h.tick();
    expect(h.states(uuid)).toEqual(['START', 'ANSWERED', 'DESTROY']);
    const cdrAt = h.log.findIndex((m) => m.method === 'Event.CDR');
    const destroyAt = h.log.findIndex((m) => m.method === 'Event.Channel' && m.params.state === 'DESTROY');
    expect(cdrAt).toBeGreaterThanOrEqual(0);
    expect(cdrAt).toBeLessThan(destroyAt);
    const cdr = h.log[cdrAt];
    expect(cdr?.subject).toBe('cn.xswitch.cdr');
    expect(cdr?.params).toMatchObject({ uuid, node_uuid: 'node1', node_ip: '127.0.0.1' });
    expect(cdr?.params.cdr).toMatchObject({
      caller_id_name: 'Alice',
      caller_id_number: '1000',
      destination_number: '9196',
      uuid,
      hangup_cause: 'NORMAL_CLEARING',
      direction: 'inbound',
      leg: 'a',
      duration: '5',
      billsec: '5',
      context: 'default',
    });
    expect(cdr?.params.cdr.answer_stamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const destroy = h.log[destroyAt];
    expect(destroy?.params).toMatchObject({
      cause: 'NORMAL_CLEARING',
      duration: '5',
      billsec: '5',
      billmsec: '5000',
    });
  });

  it('Ring gives the inbound path START → RINGING → ANSWERED', async () => {
    h = await startHarness();
    const uuid = h.inject();
    await h.call('XNode.Accept', { uuid });
    await h.call('XNode.Ring', { uuid });
    await h.call('XNode.Answer', { uuid });
    await h.tick();
    expect(h.states(uuid)).toEqual(['START', 'RINGING', 'ANSWERED']);
  });

  it('takeover race: two controllers Accept, exactly one wins and the loser gets 419', async () => {
    h = await startHarness();
    const uuid = h.inject();
    const [a, b] = await Promise.all([
      h.call('XNode.Accept', { uuid }, 'c1'),
      h.call('XNode.Accept', { uuid }, 'c2'),
    ]);
    expect([a.code, b.code].sort()).toEqual([200, 419]);
    expect(await h.call('XNode.Answer', { uuid }, 'c2')).toMatchObject({ code: a.code === 200 ? 419 : 200 });
  });

  it('takeover:true moves control and event delivery to the new controller', async () => {
    h = await startHarness();
    const uuid = h.inject();
    await h.call('XNode.Accept', { uuid }, 'c1');
    expect(await h.call('XNode.Accept', { uuid, takeover: true }, 'c2')).toMatchObject({ code: 200 });
    await h.call('XNode.Answer', { uuid }, 'c2');
    await h.tick();
    expect(h.channelEvents(uuid).at(-1)?.subject).toBe('cn.xswitch.ctrl.c2');
  });

  it('after a takeover the previous controller is refused with 419 and the new one drives the call', async () => {
    h = await startHarness();
    const uuid = h.inject();
    await h.call('XNode.Answer', { uuid }, 'c1');
    await h.call('XNode.Accept', { uuid, takeover: true }, 'c2');
    expect(await h.call('XNode.SetVar', { uuid, data: { a: '1' } }, 'c1')).toMatchObject({ code: 419 });
    expect(await h.call('XNode.Hangup', { uuid }, 'c1')).toMatchObject({ code: 419 });
    expect(await h.call('XNode.SetVar', { uuid, data: { a: '2' } }, 'c2')).toMatchObject({ code: 200 });
    expect(await h.call('XNode.GetVar', { uuid, data: ['a'] }, 'c2')).toMatchObject({ data: { a: '2' } });
  });

  it('commands before takeover answer 400 "accept first"; unknown uuids 404; missing ctrl_uuid 400', async () => {
    h = await startHarness();
    const uuid = h.inject();
    const play = await h.call('XNode.Play', { uuid, media: { data: 'silence_stream://100' } });
    expect(play).toMatchObject({ code: 400 });
    expect(play.message).toMatch(/accept first/);
    expect(await h.call('XNode.Answer', { uuid: 'nope' })).toMatchObject({
      code: 404,
      message: 'cannot locate session by uuid',
    });
    const noCtrl = await h.send('XNode.Accept', { uuid, ctrl_uuid: undefined });
    expect(noCtrl.result.code).toBe(400);
  });

  it('channel_params: static + Accept + SetVar subscriptions merge, de-duplicated, values as strings', async () => {
    h = await startHarness({ node: { channelParams: ['foo'] } });
    const uuid = h.inject({ variables: { foo: 'bar', x: '1' } });
    await h.call('XNode.Accept', { uuid, channel_params: ['x', 'foo', 'caller_id_number'] });
    await h.call('XNode.SetVar', { uuid, data: { y: '2' }, channel_params: ['y', 'x'] });
    await h.call('XNode.Answer', { uuid });
    await h.tick();
    const answered = h.channelEvents(uuid).at(-1);
    expect(answered?.params.params).toMatchObject({ foo: 'bar', x: '1', y: '2', caller_id_number: '1000' });
    expect(Object.keys(answered?.params.params ?? {})).toEqual([
      'create_epoch',
      'ring_epoch',
      'foo',
      'x',
      'caller_id_number',
      'y',
    ]);
    await h.call('XNode.Hangup', { uuid });
    await h.tick();
    expect(h.events('Event.CDR')[0]?.params.cdr).toMatchObject({ foo: 'bar', x: '1', y: '2' });
  });

  it('far-end DTMF reaches the owner as Event.DTMF; a far-end hangup ends the call with its cause', async () => {
    h = await startHarness();
    const uuid = h.inject({
      script: [{ wait: 500 }, { dtmf: '5' }, { wait: 500 }, { hangup: { cause: 'USER_BUSY' } }],
    });
    await h.call('XNode.Answer', { uuid });
    await h.clock.advance(2_000);
    const dtmf = h.events('Event.DTMF');
    expect(dtmf).toHaveLength(1);
    expect(dtmf[0]?.subject).toBe('cn.xswitch.ctrl.c1');
    expect(dtmf[0]?.params).toMatchObject({ uuid, node_uuid: 'node1', dtmf_digit: '5' });
    expect(h.channelEvents(uuid).at(-1)?.params).toMatchObject({ state: 'DESTROY', cause: 'USER_BUSY' });
  });

  it('announces START on the offer subject when one is given (the xcc app argument)', async () => {
    h = await startHarness();
    const uuid = h.inject({ subject: 'cn.xswitch.ctrl.special' });
    await h.tick();
    expect(h.channelEvents(uuid)[0]?.subject).toBe('cn.xswitch.ctrl.special');
  });
});
