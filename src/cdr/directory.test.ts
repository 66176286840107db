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

describe('a directory that changes (an operator reloads the file)', () => {
  it('clear() makes the next lookup of every key ask the inner directory again', async () => {
    const inner = new StaticDirectory({ '1001': { kind: 'internal', person: 'Anna' } });
    const dir = new CachingDirectory(inner, { clock: new VirtualClock() });
    await dir.lookup('1001');
    await dir.lookup('1001');
    expect(inner.lookups).toBe(1);
    dir.clear();
    await dir.lookup('1001');
    expect(inner.lookups).toBe(2);
  });

  it('replace() swaps every entry at once and the cache serves the new ones within the TTL', async () => {
    const inner = new StaticDirectory({
      '1001': { kind: 'internal', person: 'Anna', department: 'Support' },
      '1002': { kind: 'internal', person: 'Carl' },
    });
    const dir = new CachingDirectory(inner, { clock: new VirtualClock(), ttlMs: 300_000 });
    expect(await dir.lookup('1001')).toEqual({ kind: 'internal', person: 'Anna', department: 'Support' });
    expect(await dir.lookup('1003')).toBeUndefined();
    const before = inner.revision;

    inner.replace({
      '1001': { kind: 'internal', person: 'Ben', department: 'Sales' },
      '1003': { kind: 'internal', person: 'Dora' },
    });
    expect(inner.revision).not.toBe(before);
    expect(inner.size).toBe(2);
    expect(await dir.lookup('1001')).toEqual({ kind: 'internal', person: 'Ben', department: 'Sales' });
    expect((await dir.lookup('1003'))?.person).toBe('Dora'); // a cached "unknown" is forgotten too
    expect(await dir.lookup('1002')).toBeUndefined(); // a removed entry is gone
    await dir.lookup('1001');
    expect(inner.lookups).toBe(5); // and the new answers are cached again
  });

  it('a lookup in flight during clear() settles for its caller; its late failure does not evict newer answers', async () => {
    let fail = true;
    let release: () => void = () => undefined;
    const inner: Directory = {
      lookup: async (key) => {
        if (fail) {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          throw new Error('db down');
        }
        return { kind: 'internal', person: `P${key}` };
      },
    };
    let innerCalls = 0;
    const counting: Directory = {
      lookup: (key) => {
        innerCalls++;
        return inner.lookup(key);
      },
    };
    const dir = new CachingDirectory(counting, { clock: new VirtualClock() });
    const inFlight = dir.lookup('1');
    await Promise.resolve(); // let the inner call start
    dir.clear();
    fail = false;
    expect((await dir.lookup('1'))?.person).toBe('P1');
    release();
    expect(await inFlight).toBeUndefined();
    expect((await dir.lookup('1'))?.person).toBe('P1');
    expect(innerCalls).toBe(2);
  });
});
