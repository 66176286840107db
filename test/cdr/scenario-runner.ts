/**
 * Loads scenario files (test/cdr/scenarios/*.yaml: events in → expected stories out) and runs them
 * through the story engine on a virtual clock. Events are header maps read by the inputs' replay
 * reader; for brevity a scenario may write `t: <seconds>` instead of `Event-Date-Timestamp`, and may
 * leave out `Event-Sequence` (file order) and `Core-UUID`.
 *
 * Optional `late: {afterS, events}`: events delivered after the engine ran `afterS` seconds (default
 * 60, beyond the 30 s quiet period) on its clock, i.e. after the stories of `events` were emitted — how
 * a scenario shows a story reopened and emitted again with `version + 1`. Expected stories may name
 * `version`; they are then matched by id and version.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { VirtualClock } from '../../src/clock/index.js';
import {
  type CallStory,
  type DirectoryEntry,
  type Extractor,
  eventFromMap,
  readEvents,
  StaticDirectory,
  StoryEngine,
  type SwitchEvent,
} from '../../src/cdr/index.js';
import { BASE_US, compare } from './comparator.js';

export const SCENARIO_DIR = join(import.meta.dirname, 'scenarios');

export interface Scenario {
  file: string;
  name: string;
  patterns: string[];
  events: SwitchEvent[];
  expect: unknown[];
  directory?: Record<string, DirectoryEntry>;
  toleranceS: number;
  /** Indices of events the drop property must keep (beyond the default essential ones). */
  keep: Set<number>;
  /** Events delivered after the engine ran `afterS` seconds past the others (the properties leave them be). */
  late?: { afterS: number; events: SwitchEvent[] };
}

/** Default clock time the runner lets pass after the events: beyond the engine's 30 s quiet period. */
const SETTLE_MS = 60_000;

/** Events whose loss the engine must absorb (their facts are repeated by other events). */
const NON_ESSENTIAL = new Set([
  'CHANNEL_CALLSTATE',
  'CHANNEL_STATE',
  'CHANNEL_PROGRESS',
  'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_OUTGOING',
  'CHANNEL_ORIGINATE',
  'CHANNEL_DESTROY',
  'CHANNEL_HANGUP',
  'PRESENCE_IN',
  'HEARTBEAT',
]);

/** Whether the drop property may drop event `i` of a scenario. */
export function droppable(scenario: Scenario, i: number): boolean {
  const ev = scenario.events[i]!;
  if (scenario.keep.has(i) || !NON_ESSENTIAL.has(ev.name)) return false;
  if (ev.name === 'CHANNEL_HANGUP') {
    // Only when a HANGUP_COMPLETE of the same leg repeats it.
    return scenario.events.some((o) => o.name === 'CHANNEL_HANGUP_COMPLETE' && o.uuid === ev.uuid);
  }
  if (ev.name === 'CHANNEL_DESTROY') {
    return scenario.events.some((o) => o.name.startsWith('CHANNEL_HANGUP') && o.uuid === ev.uuid);
  }
  return true;
}

export function loadScenario(file: string): Scenario {
  const text = readFileSync(file, 'utf8');
  const doc = parseYaml(text) as Record<string, unknown>;
  const raw = readEvents(text, 'yaml');
  const normalise = (ev: SwitchEvent, sequence: number): SwitchEvent => {
    const headers = ev.headers();
    if (headers['Event-Date-Timestamp'] === undefined && headers.t !== undefined) {
      headers['Event-Date-Timestamp'] = String(BASE_US + Math.round(Number(headers.t) * 1e6));
    }
    delete headers.t;
    headers['Event-Sequence'] ??= String(sequence);
    headers['Core-UUID'] ??= 'scenario-core';
    return eventFromMap(headers);
  };
  const events = raw.map((ev, i) => normalise(ev, i + 1));
  const scenario: Scenario = {
    file,
    name: String(doc.name ?? file),
    patterns: (doc.patterns as string[] | undefined) ?? [],
    events,
    expect: (doc.stories as unknown[] | undefined) ?? [],
    toleranceS: Number(doc.toleranceS ?? 1),
    keep: new Set((doc.keep as number[] | undefined) ?? []),
  };
  if (doc.directory !== undefined) scenario.directory = doc.directory as Record<string, DirectoryEntry>;
  if (doc.late !== undefined) {
    // Read as the replay reader reads events: every scalar a string (failsafe schema).
    const late = (
      parseYaml(text, { schema: 'failsafe' }) as { late: { afterS?: string; events?: unknown[] } }
    ).late;
    scenario.late = {
      afterS: Number(late.afterS ?? SETTLE_MS / 1000),
      events: (late.events ?? []).map((map, i) => normalise(eventFromMap(map), events.length + i + 1)),
    };
  }
  return scenario;
}

export function loadScenarios(): Scenario[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => loadScenario(join(SCENARIO_DIR, f)));
}

/** Runs events through a fresh engine on a virtual clock; checks no timer is left behind. */
export async function runEvents(
  scenario: Scenario,
  events: readonly SwitchEvent[],
  extractors?: Extractor[],
): Promise<CallStory[]> {
  const clock = new VirtualClock();
  const stories: CallStory[] = [];
  const options: ConstructorParameters<typeof StoryEngine>[0] = {
    clock,
    onStory: (s) => stories.push(s),
    onError: (err) => {
      throw err;
    },
  };
  if (extractors !== undefined) options.extractors = extractors;
  if (scenario.directory !== undefined) options.directory = new StaticDirectory(scenario.directory);
  const engine = new StoryEngine(options);
  for (const ev of events) engine.ingest(ev);
  engine.flush();
  // The quiet period finalises complete calls on the clock; what is left open is finalised at the end.
  await clock.advance(scenario.late === undefined ? SETTLE_MS : scenario.late.afterS * 1000);
  await engine.idle();
  if (scenario.late !== undefined) {
    for (const ev of scenario.late.events) engine.ingest(ev);
    engine.flush();
    await clock.advance(SETTLE_MS);
    await engine.idle();
  }
  await engine.finalizeAll();
  await engine.close();
  if (clock.pending !== 0) throw new Error(`${clock.pending} timers left behind`);
  return stories.sort(
    (a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version),
  );
}

/** Differences between a scenario's expectation and the stories (stories matched by id, else by order). */
export function check(scenario: Scenario, stories: CallStory[]): string[] {
  const diffs: string[] = [];
  if (stories.length !== scenario.expect.length) {
    diffs.push(
      `expected ${scenario.expect.length} stories, got ${stories.length}: ${stories.map((s) => s.id).join(', ')}`,
    );
  }
  scenario.expect.forEach((exp, i) => {
    const { id, version } = exp as { id?: string; version?: number };
    const actual =
      id === undefined
        ? stories[i]
        : stories.find((s) => s.id === id && (version === undefined || s.version === version));
    const label = `story[${id ?? i}${version === undefined ? '' : ` v${version}`}]`;
    if (actual === undefined) {
      diffs.push(`${label}: missing`);
      return;
    }
    const found = compare(exp, actual, label, { toleranceS: scenario.toleranceS });
    if (found.length > 0) {
      diffs.push(
        ...found,
        `  (actual segments: ${actual.segments.map((s) => `${s.kind}@${(s.start - BASE_US) / 1e6}-${(s.end - BASE_US) / 1e6}:${s.party ?? ''}`).join(', ')})`,
      );
    }
  });
  return diffs;
}
