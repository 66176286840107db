import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { ScaledClock } from './scaled-clock.js';

describe('ScaledClock (xcc demo --speed)', () => {
  it('divides delays and multiplies elapsed time by the speed', async () => {
    const real = new VirtualClock(1_000_000);
    const clock = new ScaledClock(10, real);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 10_000);
    expect(clock.pending).toBe(1);
    await real.advance(999);
    expect(fired).toEqual([]);
    await real.advance(1);
    expect(fired).toEqual([1_010_000]);
    expect(clock.pending).toBe(0);
  });

  it('sleep resolves in scaled time and releases its timer when aborted', async () => {
    const real = new VirtualClock(0);
    const clock = new ScaledClock(4, real);
    let done = false;
    const slept = clock.sleep(4000).then(() => {
      done = true;
    });
    await real.advance(1000);
    await slept;
    expect(done).toBe(true);
    const ac = new AbortController();
    const aborted = clock.sleep(4000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });

  it('rejects a speed that is not a positive number', () => {
    expect(() => new ScaledClock(0)).toThrow(RangeError);
    expect(() => new ScaledClock(Number.NaN)).toThrow(RangeError);
  });
});
