// The Deduplicator: "events lost, repeated or out of order" (seed 001) — a repeated event is dropped
// whatever order it comes in, within a bounded memory per switch.
import { describe, expect, it } from 'vitest';
import { eventFromMap } from '../input/index.js';
import { Deduplicator } from './dedup.js';
import { prng } from '../../../test/support/prng.js';

const event = (seq: number | undefined, core = 'core-1', uuid = 'leg-1') =>
  eventFromMap({
    'Event-Name': 'CHANNEL_STATE',
    'Core-UUID': core,
    'Unique-ID': uuid,
    ...(seq === undefined ? {} : { 'Event-Sequence': String(seq) }),
  });

describe('Deduplicator', () => {
  it('drops a repeated (Core-UUID, Event-Sequence) whatever order the events come in', () => {
    const dedup = new Deduplicator(1000);
    expect([5, 3, 4, 5, 3, 6, 4, 2].map((s) => dedup.admitEvent(event(s)))).toEqual([
      true,
      true,
      true,
      false,
      false,
      true,
      false,
      true,
    ]);
    expect(dedup.size).toBe(5);
  });

  it('answers like a set of the last maxKeys sequences of each switch, on shuffled streams with repeats', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = prng(seed);
      const max = 100;
      const dedup = new Deduplicator(max);
      const seen = new Map<string, { set: Set<number>; highest: number }>();
      let next = 1;
      for (let i = 0; i < 20_000; i++) {
        const core = random() < 0.8 ? 'core-a' : 'core-b';
        // Mostly new sequences, some far ahead (a lost stretch), some repeats and late ones up to 150 back.
        const r = random();
        let seq: number;
        if (r < 0.6) seq = next++;
        else if (r < 0.62) seq = next += 1 + Math.floor(random() * 300);
        else seq = Math.max(1, next - 1 - Math.floor(random() * 150));
        const model = seen.get(core) ?? { set: new Set<number>(), highest: -1 };
        seen.set(core, model);
        // The model: a sequence more than `max` below the switch's highest is unknown, hence new.
        let expected: boolean;
        if (seq <= model.highest - max) expected = true;
        else {
          expected = !model.set.has(seq);
          model.set.add(seq);
        }
        model.highest = Math.max(model.highest, seq);
        for (const s of model.set) if (s <= model.highest - max) model.set.delete(s);
        expect(dedup.admitEvent(event(seq, core)), `seed ${seed}, event ${i}: ${core} ${seq}`).toBe(expected);
      }
      let remembered = 0;
      for (const m of seen.values()) remembered += m.set.size;
      expect(dedup.size).toBe(remembered);
    }
  });

  it('keeps one window per switch: the same sequence from two switches is two events', () => {
    const dedup = new Deduplicator(10);
    expect(dedup.admitEvent(event(7, 'core-a'))).toBe(true);
    expect(dedup.admitEvent(event(7, 'core-b'))).toBe(true);
    expect(dedup.admitEvent(event(7, 'core-a'))).toBe(false);
    expect(dedup.admitEvent(event(7, 'core-b'))).toBe(false);
  });

  it('a jump ahead past the window forgets everything before it; memory stays maxKeys per switch', () => {
    const dedup = new Deduplicator(50);
    for (let s = 1; s <= 40; s++) dedup.admitEvent(event(s));
    expect(dedup.size).toBe(40);
    expect(dedup.admitEvent(event(1_000_000))).toBe(true);
    expect(dedup.size).toBe(1);
    // 40 is now far below the window: unknown, so let through (and not remembered).
    expect(dedup.admitEvent(event(40))).toBe(true);
    expect(dedup.admitEvent(event(1_000_000))).toBe(false);
    for (let s = 1_000_001; s <= 1_000_200; s++) dedup.admitEvent(event(s));
    expect(dedup.size).toBe(50);
  });

  it('remembers at most 64 switches: the one heard from least recently is forgotten first', () => {
    const dedup = new Deduplicator(10);
    for (let c = 0; c < 64; c++) dedup.admitEvent(event(1, `core-${c}`));
    dedup.admitEvent(event(2, 'core-0')); // heard again: now the most recent
    dedup.admitEvent(event(1, 'core-64')); // a 65th switch: core-1 goes
    expect(dedup.admitEvent(event(1, 'core-0'))).toBe(false);
    expect(dedup.admitEvent(event(1, 'core-1'))).toBe(true);
  });

  it('events without a usable sequence are keyed by leg, name, time and action, at most maxKeys of them', () => {
    const dedup = new Deduplicator(3);
    expect(dedup.admitEvent(event(undefined, 'c', 'a'))).toBe(true);
    expect(dedup.admitEvent(event(undefined, 'c', 'a'))).toBe(false);
    for (const uuid of ['b', 'c', 'd']) expect(dedup.admitEvent(event(undefined, 'c', uuid))).toBe(true);
    expect(dedup.size).toBe(3);
    // 'a' was the oldest key and is forgotten.
    expect(dedup.admitEvent(event(undefined, 'c', 'a'))).toBe(true);
    const garbage = eventFromMap({ 'Event-Name': 'CHANNEL_STATE', 'Unique-ID': 'g', 'Event-Sequence': '-5' });
    expect(dedup.admitEvent(garbage)).toBe(true);
    expect(dedup.admitEvent(garbage)).toBe(false);
  });
});
