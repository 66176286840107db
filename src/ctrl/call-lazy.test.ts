/**
 * A Call creates its AbortController, its `ended` promise and its cleanup stack on first use (heap per
 * held call). These tests prove that reading them late sees exactly what reading them early would.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/index.js';
import type { Call } from './call.js';
import { Controller } from './controller.js';
import { FlowCancelledError } from './errors.js';
import { FakeNode } from './test-support/fake-node.js';

async function setup() {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const node = new FakeNode(broker.connect('node')).start();
  const ctrl = new Controller({ bus: broker.connect('ctrl'), clock, ctrlUuid: 'lazy' });
  await ctrl.start();
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await clock.tick();
  };
  return { clock, node, ctrl, settle };
}

describe('Call state created on first use', () => {
  it('signal and ended first read after DESTROY are already settled with the end reason', async () => {
    const { node, ctrl, settle } = await setup();
    let call: Call | undefined;
    let letGo = (): void => {};
    ctrl.onCall(async (c) => {
      call = c;
      await c.answer();
      // Holds the call without touching `signal` or `ended`.
      await new Promise<void>((resolve) => {
        letGo = resolve;
      });
    });
    const uuid = node.offer();
    await settle();
    node.channel('lazy', uuid, 'DESTROY', { cause: 'NORMAL_CLEARING', duration: '3' });
    await settle();
    if (!call) throw new Error('no call');
    expect(call.isEnded).toBe(true);
    const signal = call.signal;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(FlowCancelledError);
    expect((signal.reason as FlowCancelledError).reason).toBe('destroyed');
    expect(call.signal).toBe(signal);
    const ended = call.ended;
    expect(call.ended).toBe(ended);
    await expect(ended).resolves.toMatchObject({
      reason: 'destroyed',
      cause: 'NORMAL_CLEARING',
      durationSec: 3,
    });
    letGo();
    await ctrl.close();
    node.stop();
  });

  it('ended read before the end resolves once, with the first outcome', async () => {
    const { node, ctrl, settle } = await setup();
    const outcomes: string[] = [];
    ctrl.onCall(async (c) => {
      const info = await c.ended;
      outcomes.push(info.reason);
    });
    const uuid = node.offer();
    await settle();
    node.channel('lazy', uuid, 'DESTROY', { cause: 'NORMAL_CLEARING' });
    await settle();
    expect(outcomes).toEqual(['destroyed']);
    await ctrl.close();
    expect(outcomes).toEqual(['destroyed']);
    node.stop();
  });

  it('a cleanup step deferred after the cleanup ran (none was deferred before) runs at once', async () => {
    const { node, ctrl, settle } = await setup();
    let call: Call | undefined;
    ctrl.onCall(async (c) => {
      call = c;
    });
    node.offer();
    await settle();
    if (!call) throw new Error('no call');
    let ran = 0;
    call.defer(() => {
      ran++;
    });
    expect(ran).toBe(1);
    await ctrl.close();
    node.stop();
  });

  it('a call closed by the controller releases it even when nothing asked for released before', async () => {
    const { node, ctrl, settle } = await setup();
    let aborted = false;
    ctrl.onCall(async (c) => {
      await c.answer();
      await new Promise<void>((resolve) =>
        c.signal.addEventListener(
          'abort',
          () => {
            aborted = true;
            resolve();
          },
          { once: true },
        ),
      );
    });
    node.offer();
    await settle();
    expect(ctrl.leaks().calls).toBe(1);
    await ctrl.close();
    expect(aborted).toBe(true);
    expect(ctrl.leaks().calls).toBe(0);
    node.stop();
  });
});
