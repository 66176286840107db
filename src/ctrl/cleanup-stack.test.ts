import { describe, expect, it } from 'vitest';
import { CleanupStack } from './cleanup-stack.js';

describe('CleanupStack', () => {
  it('runs steps newest first, keeps going past a failing step, and aggregates the failures', async () => {
    const stack = new CleanupStack();
    const order: number[] = [];
    const e1 = new Error('one');
    const e3 = new Error('three');
    stack.defer(() => {
      order.push(1);
      throw e1;
    });
    stack.defer(async () => {
      await Promise.resolve();
      order.push(2);
    });
    stack.defer(() => Promise.reject(e3).finally(() => order.push(3)));
    const err = await stack.run();
    expect(order).toEqual([3, 2, 1]);
    expect(err).toBeInstanceOf(AggregateError);
    expect(err?.errors).toEqual([e3, e1]);
    expect(stack.size).toBe(0);
  });

  it('resolves undefined when every step succeeds, and runs a step deferred after run() at once', async () => {
    const late: AggregateError[] = [];
    const stack = new CleanupStack((e) => late.push(e));
    stack.defer(() => {});
    expect(await stack.run()).toBeUndefined();
    let ran = false;
    stack.defer(() => {
      ran = true;
      throw new Error('late');
    });
    expect(ran).toBe(true);
    await Promise.resolve();
    await Promise.resolve();
    expect(late[0]?.errors).toHaveLength(1);
  });
});
