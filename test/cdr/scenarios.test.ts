/**
 * Every scenario file gives the stories it expects, and the property tests hold for each:
 * permutations within the reorder window, duplicated events, and a dropped non-essential event
 * give the same stories.
 */
import { describe, expect, it } from 'vitest';
import type { SwitchEvent } from '../../src/cdr/index.js';
import { check, droppable, loadScenarios, runEvents } from './scenario-runner.js';
import { prng as rng } from '../support/prng.js';

const scenarios = loadScenarios();

/** Arrival order shuffled with a displacement bounded by the reorder window (2 s): jitter < 1.5 s. */
function permute(events: readonly SwitchEvent[], seed: number): SwitchEvent[] {
  const random = rng(seed);
  return events
    .map((ev) => ({ ev, key: (ev.timestamp ?? 0) + random() * 1_500_000 }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.ev);
}

describe('scenario files', () => {
  it('there are at least 30 scenarios covering every pattern', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(30);
    const covered = new Set(scenarios.flatMap((s) => s.patterns));
    for (const pattern of [
      'inbound',
      'outbound',
      'ivr',
      'queue-callcenter',
      'queue-fifo',
      'abandoned',
      'agent-talk',
      'consult',
      'attended-transfer',
      'blind-transfer',
      'forward',
      'pickup',
      'voicemail',
      'fax',
      'conference',
      'hold',
      'park',
      'late-event',
      'garbage',
      'seed',
    ]) {
      expect(covered, `pattern ${pattern}`).toContain(pattern);
    }
  });

  for (const scenario of scenarios) {
    describe(scenario.name, () => {
      it('produces the expected stories', async () => {
        const diffs = check(scenario, await runEvents(scenario, scenario.events));
        expect(diffs, diffs.join('\n')).toEqual([]);
      });

      it('gives the same stories for arrival permutations within the reorder window', async () => {
        for (const seed of [1, 2, 3, 4]) {
          const diffs = check(scenario, await runEvents(scenario, permute(scenario.events, seed)));
          expect(diffs, `seed ${seed}:\n${diffs.join('\n')}`).toEqual([]);
        }
      });

      it('gives the same stories when events are duplicated', async () => {
        const random = rng(7);
        const withDups: SwitchEvent[] = [];
        for (const ev of scenario.events) {
          withDups.push(ev);
          if (random() < 0.5) withDups.push(ev);
        }
        // A re-delivery of the whole stream (collector reconnect) as well.
        withDups.push(...scenario.events.slice(0, 3));
        const diffs = check(scenario, await runEvents(scenario, withDups));
        expect(diffs, diffs.join('\n')).toEqual([]);
      });

      it('gives the same stories when one non-essential event is lost', async () => {
        for (let i = 0; i < scenario.events.length; i++) {
          if (!droppable(scenario, i)) continue;
          const dropped = scenario.events.filter((_, j) => j !== i);
          const diffs = check(scenario, await runEvents(scenario, dropped));
          expect(diffs, `without event #${i} (${scenario.events[i]!.name}):\n${diffs.join('\n')}`).toEqual(
            [],
          );
        }
      });
    });
  }
});
