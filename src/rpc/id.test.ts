import { describe, expect, it } from 'vitest';
import { createIdGenerator } from './id.js';

describe('createIdGenerator', () => {
  it('two generators created in the same millisecond never collide', () => {
    const gens = Array.from({ length: 50 }, () => createIdGenerator());
    const ids = new Set<string>();
    for (const next of gens) for (let i = 0; i < 100; i++) ids.add(next());
    expect(ids.size).toBe(50 * 100);
  });

  it('counts monotonically and keeps the prefix', () => {
    const next = createIdGenerator('ctrl-');
    const ids = Array.from({ length: 40 }, () => next());
    const counters = ids.map((id) => Number.parseInt(id.slice(id.lastIndexOf('-') + 1), 36));
    expect(counters).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const id of ids) expect(id.startsWith('ctrl-')).toBe(true);
  });

  it('starts with the creation time in base36, so ids from a restart differ', () => {
    const before = Date.now();
    const id = createIdGenerator()();
    const ms = Number.parseInt(id.split('-')[0]!, 36);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });
});
