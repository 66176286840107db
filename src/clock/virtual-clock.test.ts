import { describe, expect, it } from 'vitest';
import { RealClock } from './real-clock.js';
import { VirtualClock } from './virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers in time order, ties in scheduling order, only when time is advanced', async () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    expect(clock.pending).toBe(3);
    await clock.advance(9);
    expect(fired).toEqual([]);
    await clock.advance(11);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(20);
    expect(clock.pending).toBe(0);
  });

  it('lets promise chains started by a timer settle before the next timer fires', async () => {
    const clock = new VirtualClock(0);
    const log: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => log.push('chain of first'));
    }, 5);
    clock.setTimeout(() => log.push('second'), 5);
    await clock.advance(5);
    expect(log).toEqual(['chain of first', 'second']);
  });

  it('timers scheduled while advancing fire within the same advance when due', async () => {
    const clock = new VirtualClock(0);
    const at: number[] = [];
    clock.setTimeout(() => {
      at.push(clock.now());
      clock.setTimeout(() => at.push(clock.now()), 5);
    }, 5);
    await clock.advance(10);
    expect(at).toEqual([5, 10]);
  });

  it('setInterval repeats until cancelled and cancel is idempotent', async () => {
    const clock = new VirtualClock(0);
    let n = 0;
    const t = clock.setInterval(() => {
      n++;
      if (n === 3) t.cancel();
    }, 1000);
    await clock.advance(10_000);
    expect(n).toBe(3);
    t.cancel();
    expect(clock.pending).toBe(0);
  });

  it('sleep of a day resolves instantly in virtual time', async () => {
    const clock = new VirtualClock(0);
    let done = false;
    const p = clock.sleep(86_400_000).then(() => {
      done = true;
    });
    await clock.advance(86_399_999);
    expect(done).toBe(false);
    await clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('an aborted sleep rejects with the reason and releases its timer', async () => {
    const clock = new VirtualClock(0);
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    expect(clock.pending).toBe(1);
    ac.abort(new Error('hung up'));
    await expect(p).rejects.toThrow('hung up');
    expect(clock.pending).toBe(0);
    await expect(clock.sleep(5, ac.signal)).rejects.toThrow('hung up');
    expect(clock.pending).toBe(0);
  });
});

describe('RealClock', () => {
  it('counts pending timers and releases them on cancel', () => {
    const clock = new RealClock();
    const a = clock.setTimeout(() => {}, 60_000);
    const b = clock.setInterval(() => {}, 60_000);
    expect(clock.pending).toBe(2);
    a.cancel();
    b.cancel();
    a.cancel();
    expect(clock.pending).toBe(0);
  });

  it('fires a zero-delay timer (real time: this test is about the wall clock)', async () => {
    const clock = new RealClock();
    await clock.sleep(0);
    expect(clock.pending).toBe(0);
  });
});
