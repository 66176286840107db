import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './test-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('XNode status, shutdown and leaks', () => {
  it('sends NodeRegister at start, NodeUpdate every 20 s, NodeUnregister at stop, on the status subject', async () => {
    h = await startHarness();
    await h.tick();
    expect(h.events('Event.NodeRegister')).toHaveLength(1);
    expect(h.events('Event.NodeRegister')[0]?.subject).toBe('cn.xswitch.status.node');
    await h.call('XNode.Accept', { uuid: h.inject() });
    await h.clock.advance(19_999);
    expect(h.events('Event.NodeUpdate')).toHaveLength(0);
    await h.clock.advance(1);
    const [update] = h.events('Event.NodeUpdate');
    expect(update?.params).toMatchObject({
      uuid: 'node1',
      sessions: 1,
      sessions_since_startup: 1,
      session_peak_max: 1,
      uptime: 20,
      shutdown: false,
    });
    await h.clock.advance(20_000);
    expect(h.events('Event.NodeUpdate')).toHaveLength(2);
    await h.node.stop();
    await h.tick();
    expect(h.events('Event.NodeUnregister')).toHaveLength(1);
  });

  it('stop() hangs up remaining calls with SYSTEM_SHUTDOWN (CDR + DESTROY each) and releases everything', async () => {
    h = await startHarness();
    const uuid = h.inject();
    await h.call('XNode.Answer', { uuid });
    const play = h.call('XNode.Play', { uuid, media: { data: 'silence_stream://60000' } });
    await h.tick();
    await h.node.stop();
    expect(await play).toMatchObject({ code: 410 });
    await h.tick();
    expect(h.channelEvents(uuid).at(-1)?.params).toMatchObject({
      state: 'DESTROY',
      cause: 'SYSTEM_SHUTDOWN',
    });
    expect(h.events('Event.CDR')).toHaveLength(1);
    expect(h.node.leaks()).toMatchObject({
      channels: 0,
      backgroundTasks: 0,
      rpcInflight: 0,
      subscriptions: 0,
      conferences: 0,
    });
  });

  it('XNode.Shutdown: new calls get 603, existing calls finish, then the node stops', async () => {
    h = await startHarness();
    const uuid = h.inject();
    await h.call('XNode.Answer', { uuid });
    expect(await h.call('XNode.Shutdown', {})).toMatchObject({ code: 200 });
    await h.tick();
    expect(h.events('Event.NodeUpdate').at(-1)?.params.shutdown).toBe(true);
    expect(
      await h.call('XNode.Dial', { destination: { call_params: [{ dest_number: '1000' }] } }),
    ).toMatchObject({
      code: 603,
      message: 'node shutting down',
    });
    expect(await h.call('XNode.SimCall', { cid_number: '1', dest_number: '2' })).toMatchObject({ code: 603 });
    expect(() => h.inject()).toThrow(/shutting down/);
    // The existing call still works.
    expect(await h.call('XNode.SetVar', { uuid, data: { a: 'b' } })).toMatchObject({ code: 200 });
    await h.call('XNode.Hangup', { uuid });
    await h.tick();
    await h.tick();
    expect(h.events('Event.NodeUnregister')).toHaveLength(1);
    expect(h.node.leaks().subscriptions).toBe(0);
  });

  it('shutdown(grace) stops after the grace period even if calls remain', async () => {
    h = await startHarness();
    const uuid = h.inject();
    await h.call('XNode.Answer', { uuid });
    let stopped = false;
    const done = h.node.shutdown(5_000).then(() => {
      stopped = true;
    });
    await h.clock.advance(4_999);
    expect(stopped).toBe(false);
    await h.clock.advance(1);
    await done;
    expect(h.channelEvents(uuid).at(-1)?.params).toMatchObject({
      state: 'DESTROY',
      cause: 'SYSTEM_SHUTDOWN',
    });
  });

  it('XNode.SimCall injects an inbound call and answers its uuid', async () => {
    h = await startHarness();
    const res = await h.call('XNode.SimCall', {
      cid_number: '2000',
      dest_number: '3000',
      variables: { v: '1' },
    });
    expect(res).toMatchObject({ code: 200, node_uuid: 'node1' });
    await h.tick();
    expect(h.channelEvents(res.uuid)[0]?.params).toMatchObject({
      state: 'START',
      cid_number: '2000',
      dest_number: '3000',
    });
    const bad = await h.call('XNode.SimCall', { cid_number: '1', dest_number: '2', subject: 'bad subject' });
    expect(bad.code).toBe(400);
  });

  it('uses the tenant prefix for every subject', async () => {
    h = await startHarness({ node: { subjectOptions: { tenant: 'cherry' } } });
    const uuid = h.inject();
    await h.tick();
    expect(h.channelEvents(uuid)[0]?.subject).toBe('cherry.cn.xswitch.ctrl');
    expect(h.events('Event.NodeRegister')[0]?.subject).toBe('cherry.cn.xswitch.status.node');
  });

  it('after 1000 calls every channel, timer, task and subscription is back to baseline', async () => {
    h = await startHarness({ directory: { '*': { answer_after_ms: 100 } } });
    for (let i = 0; i < 250; i++) {
      // Inbound answered and hung up; inbound abandoned (10 s rule); Dial answered; Dial bridged.
      const a = h.inject({ script: [{ wait: 100 }, { dtmf: '1' }] });
      await h.call('XNode.Answer', { uuid: a });
      const play = h.call('XNode.Play', { uuid: a, media: { data: 'silence_stream://50' } });
      h.inject();
      const dial = h.call('XNode.Dial', { destination: { call_params: [{ dest_number: '1000' }] } });
      const bridge = h.call('XNode.Bridge', {
        uuid: a,
        destination: { call_params: [{ dest_number: '1001' }] },
      });
      await h.clock.advance(200);
      const d = await dial;
      expect(d.code).toBe(200);
      await h.call('XNode.Hangup', { uuid: d.uuid });
      await h.call('XNode.Hangup', { uuid: a, flag: 'BOTH' });
      expect((await bridge).code).toBe(410);
      expect((await play).code).toBe(200);
    }
    await h.clock.advance(10_000);
    expect(h.node.stats().sessionsSinceStartup).toBe(1000);
    expect(h.node.leaks()).toEqual({
      channels: 0,
      reservedUuids: 0,
      conferences: 0,
      backgroundTasks: 0,
      timers: h.baseline.timers,
      subscriptions: h.baseline.subscriptions,
      rpcInflight: 0,
    });
  });
});
