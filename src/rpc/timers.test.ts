import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import {
  DEFAULT_LONG_REQUEST_TIMER,
  DEFAULT_REQUEST_TIMER,
  LegTimer,
  timerLegs,
  timerProblems,
  timerWindowMs,
} from './timers.js';

describe('incremental timers (§2.1, §3.2)', () => {
  it('the default request timer has legs 0.5, 1, 2, 4 s and a 7.5 s window', () => {
    expect(timerLegs(DEFAULT_REQUEST_TIMER)).toEqual([500, 1000, 2000, 4000]);
    expect(timerWindowMs(DEFAULT_REQUEST_TIMER)).toBe(7500);
    expect(timerWindowMs(DEFAULT_LONG_REQUEST_TIMER)).toBe(35_000);
    expect(timerWindowMs({ waitMs: 1, maxRetries: 'infinity' })).toBe(Number.POSITIVE_INFINITY);
  });

  it('applies wait = max(0, wait * factor + incr) at each restart', () => {
    expect(timerLegs({ waitMs: 100, factor: 3, incrMs: 10, maxRetries: 2 })).toEqual([100, 310, 940]);
    expect(timerLegs({ waitMs: 100, factor: 0, incrMs: -50, maxRetries: 1 })).toEqual([100, 0]);
  });

  it('names every bad field', () => {
    expect(timerProblems('t', { waitMs: -1, factor: Number.NaN, maxRetries: 1.5 })).toEqual([
      't.waitMs: expected a finite number >= 0',
      't.factor: expected a finite number >= 0',
      "t.maxRetries: expected an integer >= 0 or 'infinity'",
    ]);
    expect(timerProblems('t', DEFAULT_REQUEST_TIMER)).toEqual([]);
  });

  it('LegTimer fires maxRetries intermediate legs then one final leg, at the incremental times', async () => {
    const clock = new VirtualClock();
    const t0 = clock.now();
    const fired: [number, boolean][] = [];
    const t = new LegTimer(clock, DEFAULT_REQUEST_TIMER, (final) => fired.push([clock.now() - t0, final]));
    t.start();
    await clock.advance(10_000);
    expect(fired).toEqual([
      [500, false],
      [1500, false],
      [3500, false],
      [7500, true],
    ]);
    expect(clock.pending).toBe(0);
  });

  it('an outside restart uses a retry and is ignored on the final leg (§3.5 case 8)', async () => {
    const clock = new VirtualClock();
    const t0 = clock.now();
    const fired: [number, boolean][] = [];
    const t = new LegTimer(clock, { waitMs: 1000, factor: 1, maxRetries: 2 }, (final) =>
      fired.push([clock.now() - t0, final]),
    );
    t.start();
    await clock.advance(600);
    expect(t.restart()).toBe(true); // retry 1 used: next expiry 1000 ms from now
    await clock.advance(600);
    expect(t.restart()).toBe(true); // retry 2 used: now on the final leg
    expect(t.onFinalLeg).toBe(true);
    expect(t.restart()).toBe(false);
    await clock.advance(999);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([[2200, true]]);
    expect(clock.pending).toBe(0);
  });

  it('cancel releases the timer', () => {
    const clock = new VirtualClock();
    const t = new LegTimer(clock, DEFAULT_REQUEST_TIMER, () => {});
    t.start();
    expect(clock.pending).toBe(1);
    t.cancel();
    expect(clock.pending).toBe(0);
  });
});
