/**
 * The `Store` contract, as one test suite every implementation runs (SQLite, PostgreSQL), and a story
 * builder for store tests. Not part of the build.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallStory } from '../story.js';
import { StoreClosedError, StoreDataError, StoreQueryError } from './errors.js';
import type { Store } from './store.js';

/** 2026-01-01T00:00:00Z in µs. */
export const T0 = Date.UTC(2026, 0, 1) * 1000;
const S = 1_000_000;

/** A plausible closed inbound story; `overrides` replace top-level fields. */
export function makeStory(overrides: Partial<CallStory> & { id: string }): CallStory {
  const startedAt = overrides.startedAt ?? T0;
  return {
    version: 1,
    state: 'closed',
    direction: 'inbound',
    from: 'tel:+15551230000',
    to: 'tel:1000',
    parties: [
      { id: 'tel:+15551230000', role: 'caller', number: '+15551230000', kind: 'external' },
      { id: 'tel:1001', role: 'agent', number: '1001', kind: 'internal', person: 'Alice' },
      { id: 'queue:support', role: 'queue', kind: 'internal' },
    ],
    legs: [
      { uuid: `${overrides.id}-a`, direction: 'inbound', createdAt: startedAt, endedAt: startedAt + 60 * S },
    ],
    segments: [
      {
        kind: 'queue_wait',
        party: 'queue:support',
        start: startedAt,
        end: startedAt + 10 * S,
        legs: [],
        details: { queue: 'support', outcome: 'answered' },
      },
      {
        kind: 'agent_talk',
        party: 'tel:1001',
        start: startedAt + 10 * S,
        end: startedAt + 60 * S,
        legs: [],
        details: {},
      },
    ],
    disposition: 'answered',
    startedAt,
    answeredAt: startedAt,
    endedAt: startedAt + 60 * S,
    totalDurationS: 60,
    billableS: 60,
    talkS: 50,
    related: [],
    anomalies: [],
    ...overrides,
  };
}

/** Runs the whole contract against stores made by `open` (a fresh, empty store each test). */
export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('saves a story and gets it back whole, unknown fields included', async () => {
      const story = { ...makeStory({ id: 'a1' }), futureField: { nested: ['x', 1, true] } };
      expect(await store.save(story)).toBe('inserted');
      expect(await store.get('a1')).toEqual(story);
      expect(await store.get('nope')).toBeUndefined();
    });

    it('save is an idempotent upsert by story id', async () => {
      const story = makeStory({ id: 'a1' });
      expect(await store.save(story)).toBe('inserted');
      expect(await store.save(story)).toBe('updated');
      expect(await store.count()).toBe(1);
      const amended = makeStory({ id: 'a1', version: 2, disposition: 'abandoned', talkS: 0 });
      expect(await store.save(amended)).toBe('updated');
      expect(await store.get('a1')).toEqual(amended);
      expect(await store.count()).toBe(1);
      expect(await store.list({ disposition: 'answered' })).toEqual([]);
    });

    it('an older version never overwrites a newer one', async () => {
      const v3 = makeStory({ id: 'a1', version: 3, disposition: 'voicemail' });
      await store.save(v3);
      expect(await store.save(makeStory({ id: 'a1', version: 2 }))).toBe('stale');
      expect(await store.get('a1')).toEqual(v3);
    });

    it('party numbers follow the latest version (old numbers no longer match)', async () => {
      await store.save(makeStory({ id: 'a1' }));
      expect((await store.list({ number: '1001' })).map((s) => s.id)).toEqual(['a1']);
      const moved = makeStory({
        id: 'a1',
        version: 2,
        parties: [{ id: 'tel:2002', role: 'agent', number: '2002', kind: 'internal' }],
      });
      await store.save(moved);
      expect(await store.list({ number: '1001' })).toEqual([]);
      expect((await store.list({ number: '2002' })).map((s) => s.id)).toEqual(['a1']);
    });

    describe('list', () => {
      beforeEach(async () => {
        // s0 … s5, one minute apart; alternating dispositions; s4 has a different agent.
        for (let i = 0; i < 6; i++) {
          await store.save(
            makeStory({
              id: `s${i}`,
              startedAt: T0 + i * 60 * S,
              endedAt: T0 + i * 60 * S + 30 * S,
              disposition: i % 2 === 0 ? 'answered' : 'abandoned',
              ...(i === 4
                ? {
                    parties: [
                      { id: 'tel:+15559990000', role: 'caller', number: '+15559990000', kind: 'external' },
                      { id: 'tel:1002', role: 'agent', number: '1002', kind: 'internal' },
                    ],
                  }
                : {}),
            }),
          );
        }
      });
      const ids = (stories: readonly CallStory[]): string[] => stories.map((s) => s.id);

      it('returns newest first, paged by limit and offset', async () => {
        expect(ids(await store.list())).toEqual(['s5', 's4', 's3', 's2', 's1', 's0']);
        expect(ids(await store.list({}, { limit: 2 }))).toEqual(['s5', 's4']);
        expect(ids(await store.list({}, { limit: 2, offset: 2 }))).toEqual(['s3', 's2']);
        expect(ids(await store.list({}, { limit: 10, offset: 6 }))).toEqual([]);
      });

      it('filters by start time: from inclusive, to exclusive', async () => {
        expect(ids(await store.list({ from: T0 + 60 * S, to: T0 + 180 * S }))).toEqual(['s2', 's1']);
        expect(ids(await store.list({ from: T0 + 300 * S }))).toEqual(['s5']);
        expect(ids(await store.list({ to: T0 + 1 }))).toEqual(['s0']);
      });

      it('filters by party number', async () => {
        expect(ids(await store.list({ number: '1002' }))).toEqual(['s4']);
        expect(ids(await store.list({ number: '+15559990000' }))).toEqual(['s4']);
        expect(await store.list({ number: '100' })).toEqual([]); // exact, not prefix
        expect((await store.list({ number: '1001' })).length).toBe(5);
      });

      it('filters by one or several dispositions', async () => {
        expect(ids(await store.list({ disposition: 'abandoned' }))).toEqual(['s5', 's3', 's1']);
        expect(ids(await store.list({ disposition: ['abandoned', 'answered'] }))).toHaveLength(6);
        expect(await store.list({ disposition: 'busy' })).toEqual([]);
      });

      it('combines filters, and count agrees with list', async () => {
        const filter = { disposition: 'answered', number: '1001', from: T0 + 60 * S } as const;
        expect(ids(await store.list(filter))).toEqual(['s2']);
        expect(await store.count(filter)).toBe(1);
        expect(await store.count()).toBe(6);
        expect(await store.count({ disposition: 'abandoned' })).toBe(3);
      });
    });

    it('retention: deleteBefore removes stories started before the cut-off, with their numbers', async () => {
      for (let i = 0; i < 4; i++) {
        await store.save(
          makeStory({ id: `r${i}`, startedAt: T0 + i * 86_400 * S, endedAt: T0 + i * 86_400 * S + S }),
        );
      }
      // The cut-off is exclusive: r2 started exactly at it and stays.
      expect(await store.deleteBefore(T0 + 2 * 86_400 * S)).toBe(2);
      expect((await store.list()).map((s) => s.id)).toEqual(['r3', 'r2']);
      expect(await store.get('r0')).toBeUndefined();
      expect((await store.list({ number: '1001' })).map((s) => s.id)).toEqual(['r3', 'r2']);
      // A deleted id can be saved again (its numbers were removed with it).
      expect(await store.save(makeStory({ id: 'r0', startedAt: T0 }))).toBe('inserted');
      expect((await store.list({ number: '1001' })).map((s) => s.id)).toEqual(['r3', 'r2', 'r0']);
      expect(await store.deleteBefore(T0)).toBe(0);
      expect(await store.deleteBefore(T0 + 10 * 86_400 * S)).toBe(3);
      expect(await store.count()).toBe(0);
      await expect(store.deleteBefore(Number.NaN)).rejects.toBeInstanceOf(StoreQueryError);
      await expect(store.deleteBefore(Number.POSITIVE_INFINITY)).rejects.toThrow(/deleteBefore/);
    });

    it('rejects stories without a usable id or start with StoreDataError', async () => {
      await expect(store.save(makeStory({ id: '' }))).rejects.toBeInstanceOf(StoreDataError);
      await expect(store.save(makeStory({ id: 'x', startedAt: Number.NaN }))).rejects.toThrow(/startedAt/);
      await expect(store.save(makeStory({ id: 'x', version: -1 }))).rejects.toThrow(/version/);
      expect(await store.count()).toBe(0);
    });

    it('rejects bad queries with StoreQueryError naming the field', async () => {
      await expect(store.list({}, { limit: 0 })).rejects.toBeInstanceOf(StoreQueryError);
      await expect(store.list({}, { offset: -1 })).rejects.toThrow(/offset/);
      await expect(store.list({ from: 10, to: 5 })).rejects.toThrow(/from/);
      await expect(store.count({ disposition: [] })).rejects.toThrow(/disposition/);
    });

    it('treats hostile strings as data, not SQL', async () => {
      const id = "x'); DROP TABLE cdr_stories; --";
      await store.save(makeStory({ id, disposition: "answered' OR '1'='1" as CallStory['disposition'] }));
      expect((await store.get(id))?.id).toBe(id);
      expect(await store.list({ disposition: "answered' OR '1'='1" })).toHaveLength(1);
      expect(await store.list({ number: "' OR 1=1 --" })).toEqual([]);
    });

    it('answers nothing after close (StoreClosedError), and close is idempotent', async () => {
      await store.close();
      await store.close();
      await expect(store.get('a1')).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.save(makeStory({ id: 'a1' }))).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.list()).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.deleteBefore(T0)).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}
