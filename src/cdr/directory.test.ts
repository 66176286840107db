import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { CachingDirectory, type Directory, StaticDirectory } from './directory.js';

describe('CachingDirectory', () => {
  it('looks a key up once while the answer is fresh, again after the TTL', async () => {
    const clock = new VirtualClock();
    const inner = new StaticDirectory({ '1001': { kind: 'internal', person: 'Anna' } });
    const dir = new CachingDirectory(inner, { clock, ttlMs: 1_000 });
    expect((await dir.lookup('1001'))?.person).toBe('Anna');
    await dir.lookup('1001');
    expect(await dir.lookup('999')).toBeUndefined();
    await dir.lookup('999');
    expect(inner.lookups).toBe(2);
    await clock.advance(1_000);
    await dir.lookup('1001');
    expect(inner.lookups).toBe(3);
  });

  it('treats a failing directory as unknown and does not cache the failure', async () => {
    let calls = 0;
    const failing: Directory = {
      lookup: () => {
        calls++;
        throw new Error('db down');
      },
    };
    const dir = new CachingDirectory(failing, { clock: new VirtualClock() });
    expect(await dir.lookup('1')).toBeUndefined();
    expect(await dir.lookup('1')).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('stays bounded', async () => {
    const inner = new StaticDirectory();
    const dir = new CachingDirectory(inner, { clock: new VirtualClock(), maxEntries: 2 });
    await dir.lookup('a');
    await dir.lookup('b');
    await dir.lookup('c');
    await dir.lookup('a'); // evicted: looked up again
    expect(inner.lookups).toBe(4);
  });
});
