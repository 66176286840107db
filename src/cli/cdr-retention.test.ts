/**
 * Story retention: the span parser of `--older-than`/`--retention`, and the hourly pruner of
 * `xcc cdr listen --retention` on a virtual clock against a real SQLite store.
 */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { type Store, SqliteStore, StoreUnavailableError } from '../cdr/store/index.js';
import { makeStory } from '../cdr/store/test-support.js';
import { PRUNE_INTERVAL_MS, RetentionPruner, retentionSpan } from './cdr-retention.js';

const DAY = 86_400_000;

describe('retentionSpan (--older-than, --retention)', () => {
  it.each([
    ['90d', 90 * DAY],
    ['12w', 84 * DAY],
    ['36h', 36 * 3_600_000],
    ['30m', 30 * 60_000],
    [' 7d ', 7 * DAY],
  ])('%j is %d ms', (text, ms) => {
    expect(retentionSpan(text)).toBe(ms);
  });

  it.each(['', '0d', '90', 'd', '-5d', '1.5d', '90 days', '10s', '9999999d'])(
    '%j is refused with the expected form',
    (text) => {
      expect(() => retentionSpan(text)).toThrow(InvalidArgumentError);
      expect(() => retentionSpan(text)).toThrow(/90d/);
    },
  );
});

/** Saves one story that started `daysAgo` days before the clock's now. */
async function storyAged(store: Store, clock: VirtualClock, id: string, daysAgo: number): Promise<void> {
  const startedAt = (clock.now() - daysAgo * DAY) * 1000;
  await store.save(makeStory({ id, startedAt, endedAt: startedAt + 60_000_000 }));
}

describe('RetentionPruner (xcc cdr listen --retention)', () => {
  it('prunes at start and then once an hour on the clock, and leaves no timer after stop', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 5, 1));
    const store = SqliteStore.open();
    await storyAged(store, clock, 'old', 100);
    await storyAged(store, clock, 'edge', 89.99);
    await storyAged(store, clock, 'new', 1);
    const pruned: number[] = [];
    const pruner = new RetentionPruner({
      store,
      clock,
      olderThanMs: 90 * DAY,
      onPruned: (n) => pruned.push(n),
    });
    await pruner.idle();
    expect((await store.list()).map((s) => s.id)).toEqual(['new', 'edge']);
    expect(pruned).toEqual([1]);

    // 'edge' crosses the 90-day line a quarter of an hour later; the next hourly prune takes it.
    await clock.advance(PRUNE_INTERVAL_MS - 1);
    await pruner.idle();
    expect(await store.count()).toBe(2);
    await clock.advance(1);
    await pruner.idle();
    expect((await store.list()).map((s) => s.id)).toEqual(['new']);
    expect(pruned).toEqual([1, 1]);
    expect(pruner.stats).toEqual({ runs: 2, deleted: 2, failures: 0 });

    await pruner.stop();
    await pruner.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(10 * PRUNE_INTERVAL_MS);
    expect(pruner.stats.runs).toBe(2);
    await store.close();
  });

  it('a failing prune is reported and the next hour tries again', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 5, 1));
    const store = SqliteStore.open();
    await storyAged(store, clock, 'old', 100);
    let fail = true;
    const flaky: Store = {
      description: 'flaky',
      save: (s) => store.save(s),
      get: (id) => store.get(id),
      list: (f, p) => store.list(f, p),
      count: (f) => store.count(f),
      close: () => store.close(),
      deleteBefore: (t) =>
        fail ? Promise.reject(new StoreUnavailableError('database is down')) : store.deleteBefore(t),
    };
    const errors: unknown[] = [];
    const pruner = new RetentionPruner({
      store: flaky,
      clock,
      olderThanMs: 90 * DAY,
      onError: (e) => errors.push(e),
    });
    await pruner.idle();
    expect(errors).toHaveLength(1);
    expect(await store.count()).toBe(1);
    fail = false;
    await clock.advance(PRUNE_INTERVAL_MS);
    await pruner.idle();
    expect(await store.count()).toBe(0);
    expect(pruner.stats).toEqual({ runs: 1, deleted: 1, failures: 1 });
    await pruner.stop();
    expect(clock.pending).toBe(0);
    await store.close();
  });

  it('never runs two prunes at once: a slow delete makes the next round skip', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 5, 1));
    const store = SqliteStore.open();
    let calls = 0;
    let release: () => void = () => undefined;
    const slow: Store = {
      description: 'slow',
      save: (s) => store.save(s),
      get: (id) => store.get(id),
      list: (f, p) => store.list(f, p),
      count: (f) => store.count(f),
      close: () => store.close(),
      deleteBefore: async () => {
        calls++;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return 0;
      },
    };
    const pruner = new RetentionPruner({ store: slow, clock, olderThanMs: DAY });
    await clock.advance(3 * PRUNE_INTERVAL_MS);
    expect(calls).toBe(1);
    release();
    await pruner.idle();
    await clock.advance(PRUNE_INTERVAL_MS);
    expect(calls).toBe(2);
    release();
    await pruner.stop();
    expect(clock.pending).toBe(0);
    await store.close();
  });
});
