import { describe, expect, it } from 'vitest';
import { BASE_US, compare } from './comparator.js';

describe('scenario comparator', () => {
  it('compares only the fields the expectation names', () => {
    expect(compare({ a: 1 }, { a: 1, b: 2 })).toEqual([]);
    expect(compare({ a: 1 }, { a: 2 })).toEqual(['a: expected 1, got 2']);
  });

  it('compares times relative to the base with a tolerance', () => {
    expect(compare({ start: 5 }, { start: BASE_US + 5_400_000 })).toEqual([]);
    expect(compare({ start: 5 }, { start: BASE_US + 7_000_000 })).toEqual(['start: expected t=5s, got t=7s']);
    expect(compare({ totalDurationS: 60 }, { totalDurationS: 60.9 })).toEqual([]);
  });

  it('matches lists as ordered subsequences and reports the nearest difference', () => {
    const actual = [{ kind: 'ring' }, { kind: 'ivr' }, { kind: 'talk' }];
    expect(compare([{ kind: 'ivr' }, { kind: 'talk' }], actual)).toEqual([]);
    const diffs = compare([{ kind: 'talk' }, { kind: 'ivr' }], actual, 'segments');
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toContain('segments: expected item #1');
  });

  it('expects absence for null', () => {
    expect(compare({ answeredAt: null }, {})).toEqual([]);
    expect(compare({ answeredAt: null }, { answeredAt: 1 })).toEqual(['answeredAt: expected absent, got 1']);
  });
});
