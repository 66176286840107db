import { describe, expect, it } from 'vitest';
import { Tally } from './tally.js';

describe('demo tally', () => {
  it('summarises calls, answers, outcomes in a fixed order and the average duration', () => {
    const t = new Tally();
    for (let i = 0; i < 3; i++) t.started();
    t.answered();
    t.answered();
    t.outcome('voicemail');
    t.outcome('agent');
    t.outcome('voicemail');
    t.ended(10_000);
    t.ended(20_000);
    expect(t.summary()).toBe('summary: 3 calls (2 ended, 2 answered) · agent 1 · voicemail 2 · avg 15.0 s');
    expect(t.endedCount).toBe(2);
    expect(t.outcomeCount).toBe(3);
  });

  it('says "1 call" and omits the average before any call ended', () => {
    const t = new Tally();
    t.started();
    expect(t.summary()).toBe('summary: 1 call (0 ended, 0 answered)');
  });
});
