/**
 * Each pattern extractor is a plug-in: with it, its scenario shows its segment kind; without it
 * (every other extractor still running), that kind is gone. Proves each plug-in owns its pattern.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultExtractors, type SegmentKind } from '../../src/cdr/index.js';
import { loadScenario, runEvents, SCENARIO_DIR } from './scenario-runner.js';

const TABLE: { extractor: string; scenario: string; kind: SegmentKind }[] = [
  { extractor: 'calls', scenario: '02-inbound-no-answer.yaml', kind: 'ring' },
  { extractor: 'talk', scenario: '01-inbound-answered.yaml', kind: 'talk' },
  { extractor: 'talk', scenario: '10-callcenter-answered.yaml', kind: 'agent_talk' },
  { extractor: 'ivr', scenario: '08-ivr-abandoned.yaml', kind: 'ivr' },
  { extractor: 'queue-callcenter', scenario: '11-callcenter-abandoned.yaml', kind: 'queue_wait' },
  { extractor: 'queue-fifo', scenario: '14-fifo-abort.yaml', kind: 'queue_wait' },
  { extractor: 'hold', scenario: '15-hold.yaml', kind: 'hold' },
  { extractor: 'park', scenario: 'park-retrieved.yaml', kind: 'park' },
  { extractor: 'park', scenario: 'park-abandoned.yaml', kind: 'park' },
  { extractor: 'consult', scenario: '16-consult-no-transfer.yaml', kind: 'consult' },
  { extractor: 'transfer', scenario: '17-attended-transfer.yaml', kind: 'transfer' },
  { extractor: 'transfer', scenario: '18-blind-transfer.yaml', kind: 'transfer' },
  { extractor: 'forward', scenario: '19-forward-no-answer.yaml', kind: 'forward' },
  { extractor: 'pickup', scenario: '21-pickup.yaml', kind: 'pickup' },
  { extractor: 'voicemail', scenario: '22-voicemail.yaml', kind: 'voicemail' },
  { extractor: 'fax', scenario: '24-fax.yaml', kind: 'fax' },
  { extractor: 'conference', scenario: '25-conference.yaml', kind: 'conference' },
];

describe('pattern extractors are plug-ins', () => {
  it('every built-in extractor has a unique name', () => {
    const names = defaultExtractors().map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const row of TABLE) expect(names).toContain(row.extractor);
  });

  for (const row of TABLE) {
    it(`${row.extractor} produces ${row.kind} in ${row.scenario}, and nothing else does`, async () => {
      const scenario = loadScenario(join(SCENARIO_DIR, row.scenario));
      const kinds = async (extractors = defaultExtractors()): Promise<SegmentKind[]> =>
        (await runEvents(scenario, scenario.events, extractors)).flatMap((s) =>
          s.segments.map((g) => g.kind),
        );
      expect(await kinds()).toContain(row.kind);
      const without = defaultExtractors().filter((e) => e.name !== row.extractor);
      expect(await kinds(without)).not.toContain(row.kind);
    });
  }
});
