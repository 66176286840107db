import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import { Controller } from './controller.js';
import { FakeNode } from './test-support/fake-node.js';

describe('Controller leak check', () => {
  it('after 1000 inbound calls (half with a dialled leg, a quarter cancelled mid-play) nothing is left', async () => {
    const clock = new VirtualClock();
    const broker = new MemoryBroker({ clock });
    const node = new FakeNode(broker.connect('node')).start();
    node.handle('XNode.Play', (req, n) => {
      // Every fourth call: the far end hangs up during playback (410 + DESTROY), else 200.
      const uuid = req.params.uuid as string;
      if (Number(uuid.slice(3)) % 4 === 0) {
        n.channel(req.params.ctrl_uuid as string, uuid, 'DESTROY', { cause: 'NORMAL_CLEARING' });
        return { code: 410, message: 'gone', uuid };
      }
      return { code: 200, uuid };
    });
    const ctrl = new Controller({ bus: broker.connect('ctrl'), clock, ctrlUuid: 'leaky' });
    await ctrl.start();
    const baseline = {
      timers: clock.pending,
      subs: broker.stats().subscriptions,
      own: ctrl.leaks().subscriptions,
    };
    let flows = 0;
    let cleanups = 0;
    ctrl.onCall(async (call) => {
      flows++;
      call.defer(() => {
        cleanups++;
      });
      await call.answer();
      await call.play('hello.wav');
      if (Number(call.uuid.slice(3)) % 2 === 1) {
        const leg = await ctrl.dial({ to: 'user/1000', signal: call.signal });
        leg.defer(() => {
          cleanups++;
        });
        await call.channelBridge2(leg);
      }
    });
    for (let i = 1; i <= 1000; i++) node.offer({ uuid: `in-${i}` });
    for (let i = 0; i < 20 && (ctrl.leaks().calls > 0 || ctrl.leaks().tasks > 0); i++) await clock.tick();
    expect(flows).toBe(1000);
    expect(cleanups).toBe(1000 + 500);
    expect(ctrl.leaks()).toEqual({
      calls: 0,
      flows: 0,
      tasks: 0,
      timers: baseline.timers,
      subscriptions: baseline.own,
      rpcPending: 0,
    });
    expect(broker.stats().subscriptions).toBe(baseline.subs);
    expect(ctrl.stats()).toMatchObject({ offered: 1000, accepted: 1000, dialled: 500, flowsFailed: 0 });
    await ctrl.close();
    node.stop();
    expect(broker.stats().subscriptions).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
