/**
 * CDR input bench: events per second on one core for the ESL `text/event-plain` parse of realistic
 * ~1.5 KB CHANNEL_* events, beside a baseline in the same run: `JSON.parse` alone of the same events
 * in JSON form. Prints one JSON object on stdout. Standalone:
 *
 *   npx tsx bench/cdr-parse.ts            (or, after a build: node dist/bench/cdr-parse.js)
 *
 * Knobs: BENCH_CDR_EVENTS (events per round, default 100 000), BENCH_CDR_ROUNDS (default 5; the best
 * round counts, after one warm-up round). `runCdrParseBench` is exported for bench/run.ts.
 */
import { fileURLToPath } from 'node:url';
import {
  type CompactSwitchEvent,
  compactEvent,
  EslParser,
  encodeEventJson,
  encodeEventJsonFrame,
  encodeEventPlain,
  encodeEventPlainFrame,
  type SwitchEvent,
  buildStory,
  defaultExtractors,
  ROUTED_SELECTION,
  Router,
  syntheticChannelEvent,
} from '../src/cdr/index.js';
import type { ReadBuffer } from '../src/cdr/input/switch-event.js';
import { type Clock, sleepOn, type Timer, VirtualClock } from '../src/clock/index.js';

export interface CdrParseBenchOptions {
  /** Events per round (default 100 000). */
  events?: number;
  /** Timed rounds; the best one is reported (default 5). */
  rounds?: number;
  /** Bytes per chunk fed to the parser, like socket reads (default 64 KiB). */
  chunkBytes?: number;
}

export interface CdrParseBenchResult {
  events: number;
  rounds: number;
  chunkBytes: number;
  avgPlainEventBytes: number;
  avgJsonEventBytes: number;
  /** Framing + event construction; reads only the event name. */
  eslPlainParseEventsPerSec: number;
  /** Same, plus what a router reads: name, uuid, timestamp, sequence and four more headers. */
  eslPlainParseAndRouteHeadersEventsPerSec: number;
  /** `text/event-json` frames through the same parser, reading the same headers. */
  eslJsonParseAndRouteHeadersEventsPerSec: number;
  /** Baseline: `JSON.parse` of each event's JSON text, nothing else. */
  jsonParseBaselineEventsPerSec: number;
  /**
   * Parse plus compaction with the router's header selection (the pipeline's first stage: one scan
   * of each event's bytes, values shared with the leg's previous event), no routing.
   */
  eslPlainCompactEventsPerSec: number;
  /** eslPlainParseAndRouteHeaders ÷ baseline. */
  ratioToBaseline: number;
  /**
   * The whole CDR pipeline on one core: event-plain parse → `Router` (dedup, reorder, grouping,
   * finalisation) → `buildStory` with the default extractors (no enrichment: it is async I/O).
   */
  eslPlainPipelineEventsPerSec: number;
  /** Stories built per pipeline round (one per synthetic call). */
  pipelineStories: number;
  /** eslPlainPipeline ÷ baseline. */
  pipelineRatioToBaseline: number;
  /**
   * The same pipeline with the clock standing still, so no call is finalised before the end of the
   * round and the router holds every call of the round at once (the previous bench's shape).
   */
  eslPlainPipelineAllOpenEventsPerSec: number;
  /** Most calls open at once in the clock-following pipeline (router stats, sampled per chunk). */
  pipelinePeakOpenCalls: number;
  /**
   * The clock-following pipeline without its last stage: the router keeps one event per call
   * (`maxEventsPerCall: 1`) and no story is built. An upper bound for any change to how calls are
   * retained and stories built (docs/benchmarks.md, "Fourth pass").
   */
  eslPlainRouteOnlyEventsPerSec: number;
  /**
   * A floor, not a parser: every line end of every event's header block found with the native
   * `Buffer.indexOf` (memchr), no string made, nothing kept. No `text/event-plain` reader written in
   * JavaScript does less per event (docs/benchmarks.md, "Fifth pass").
   */
  eslPlainLineWalkFloorEventsPerSec: number;
  /**
   * The line walk plus one string per header value (`latin1Slice` of the value bytes, not decoded, no
   * name strings, nothing kept): what a JavaScript reader pays just to hold each value as a string.
   */
  eslPlainLineWalkValueStringsEventsPerSec: number;
  /**
   * The clock-following pipeline fed events compacted before the round: route and extract only. An
   * upper bound for any faster compaction, native or not (the kept events also spare the collector).
   */
  eslPlainPipelinePrecompactedEventsPerSec: number;
  /** eslPlainLineWalkFloor ÷ baseline. */
  lineWalkFloorRatioToBaseline: number;
  /** eslPlainLineWalkValueStrings ÷ baseline. */
  lineWalkValueStringsRatioToBaseline: number;
}

interface StepTimer {
  at: number;
  every: number | undefined;
  fn: () => void;
  live: boolean;
}

/**
 * A synchronous clock for the pipeline bench: it follows event time (the bench sets it after each
 * chunk) and fires due timers at once. The router holds one or two timers, so a list is enough.
 */
export class StepClock implements Clock {
  #now: number;
  #timers: StepTimer[] = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  get pending(): number {
    return this.#timers.length;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Moves to `ms` (never back), firing what falls due in time order. */
  advanceTo(ms: number): void {
    for (;;) {
      let next: StepTimer | undefined;
      for (const t of this.#timers) if (t.at <= ms && (next === undefined || t.at < next.at)) next = t;
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      if (next.every === undefined) this.#remove(next);
      else next.at += next.every;
      next.fn();
    }
    this.#now = Math.max(this.#now, ms);
  }

  #add(fn: () => void, ms: number, every: number | undefined): Timer {
    const timer = { at: this.#now + Math.max(0, ms), every, fn, live: true };
    this.#timers.push(timer);
    return { cancel: () => this.#remove(timer) };
  }

  #remove(timer: StepTimer): void {
    if (!timer.live) return;
    timer.live = false;
    this.#timers.splice(this.#timers.indexOf(timer), 1);
  }
}

/** Headers a router looks at besides the four derived fields. */
const ROUTE_HEADERS = ['Other-Leg-Unique-ID', 'Channel-Call-UUID', 'Answer-State', 'Caller-Caller-ID-Number'];

/** Keeps results observable so the JIT cannot drop the work. */
let sink = 0;

function concat(parts: string[], chunkBytes: number): Uint8Array[] {
  const all = new TextEncoder().encode(parts.join(''));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += chunkBytes) chunks.push(all.subarray(i, i + chunkBytes));
  return chunks;
}

function route(ev: SwitchEvent): void {
  sink += ev.name.length + (ev.uuid?.length ?? 0) + (ev.timestamp ?? 0) + (ev.sequence ?? 0);
  for (const name of ROUTE_HEADERS) sink += ev.get(name)?.length ?? 0;
}

/**
 * Events per second of each variant over its best round. Variants run interleaved, round by round,
 * after one warm-up each, so a burst of load on a shared machine hits all of them alike.
 */
function measure(
  rounds: number,
  count: number,
  variants: Record<string, () => void>,
): Record<string, number> {
  const best: Record<string, number> = {};
  for (const [name, fn] of Object.entries(variants)) {
    fn();
    best[name] = Number.POSITIVE_INFINITY;
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const t0 = performance.now();
      fn();
      best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, performance.now() - t0);
    }
  }
  const perSec: Record<string, number> = {};
  for (const [name, ms] of Object.entries(best)) perSec[name] = Math.round((count / ms) * 1000);
  return perSec;
}

/** Every event's header block back to back, and where each one starts (one more entry: the end). */
function headerBlocks(headers: readonly Record<string, string>[]): { bytes: ReadBuffer; starts: Int32Array } {
  const bodies = headers.map((h) => Buffer.from(encodeEventPlain(h), 'utf8'));
  const starts = new Int32Array(bodies.length + 1);
  for (let i = 0; i < bodies.length; i++) starts[i + 1] = starts[i]! + bodies[i]!.length;
  return { bytes: Buffer.concat(bodies) as ReadBuffer, starts };
}

/**
 * The line-walk floor: finds every line end of every header block; with `strings`, also makes each
 * `Name: value` line's value a string. Returns the lines found (or the value characters made).
 */
function walkLines(bytes: ReadBuffer, starts: Int32Array, strings: boolean): number {
  let n = 0;
  for (let k = 0; k + 1 < starts.length; k++) {
    const end = starts[k + 1]!;
    let line = starts[k]!;
    for (let at = bytes.indexOf(10, line); at >= 0 && at < end; at = bytes.indexOf(10, line)) {
      if (!strings) n++;
      else if (at > line) {
        const colon = bytes.indexOf(58, line);
        if (colon >= 0 && colon < at) n += bytes.latin1Slice(colon + 2, at).length;
      }
      line = at + 1;
    }
  }
  return n;
}

function parseFrames(chunks: Uint8Array[], onEvent: (ev: SwitchEvent) => void): number {
  const parser = new EslParser();
  let n = 0;
  for (const chunk of chunks) {
    for (const frame of parser.push(chunk)) {
      if (frame.kind === 'event') {
        onEvent(frame.event);
        n++;
      }
    }
  }
  return n;
}

/**
 * One pipeline round: parse, route and build stories; returns the number of stories and the most
 * calls open at once. With `followEventTime` the clock follows the events' timestamps after each
 * chunk (as a live stream's wall clock would), so each call is finalised by the router's quiet
 * period (30 s) once it ended; otherwise the clock stands still and `finalizeAll` ends every call.
 */
function pipeline(
  source: readonly Uint8Array[] | readonly (readonly SwitchEvent[])[],
  expectedEvents: number,
  followEventTime: boolean,
  buildStories = true,
): { stories: number; peakOpen: number } {
  // The synthetic stream's first event is at 2026-01-01T00:00:00Z (its default base).
  const clock = followEventTime ? new StepClock(Date.UTC(2026, 0, 1)) : new VirtualClock();
  const extractors = defaultExtractors();
  let stories = 0;
  let peakOpen = 0;
  let newestMs = 0;
  const router = new Router({
    clock,
    ...(buildStories ? {} : { maxEventsPerCall: 1 }),
    onReady: (call) => {
      sink += buildStories ? buildStory(call, extractors).legs.length : call.events.length;
      stories++;
    },
  });
  const parser = new EslParser();
  let n = 0;
  const take = (ev: SwitchEvent): void => {
    router.ingest(ev);
    n++;
    const ts = ev.timestamp;
    if (ts !== undefined && ts / 1000 > newestMs) newestMs = ts / 1000;
  };
  // A batch is a read's bytes, or (pre-compacted source) the events one read would give.
  for (const batch of source) {
    if (batch instanceof Uint8Array) {
      for (const frame of parser.push(batch)) if (frame.kind === 'event') take(frame.event);
    } else for (const ev of batch) take(ev);
    if (clock instanceof StepClock) {
      clock.advanceTo(newestMs);
      peakOpen = Math.max(peakOpen, router.stats.openCalls);
    }
  }
  if (n !== expectedEvents) throw new Error(`parsed ${n} events, expected ${expectedEvents}`);
  if (!followEventTime) peakOpen = router.stats.openCalls;
  router.finalizeAll();
  router.close();
  if (clock.pending !== 0) throw new Error(`pipeline left ${clock.pending} timers`);
  return { stories, peakOpen };
}

/**
 * The events of `chunks` compacted the way the router does it (its header selection, values shared
 * with the leg's previous event), one list per read: a pipeline fed these skips compaction.
 */
function precompacted(chunks: readonly Uint8Array[]): CompactSwitchEvent[][] {
  const latest = new Map<string, CompactSwitchEvent>();
  const options = { previous: (uuid: string) => latest.get(uuid), intern: new Map<string, string>() };
  const parser = new EslParser();
  return chunks.map((chunk) => {
    const batch: CompactSwitchEvent[] = [];
    for (const frame of parser.push(chunk)) {
      if (frame.kind !== 'event') continue;
      const compact = compactEvent(frame.event, ROUTED_SELECTION, options);
      if (compact.uuid !== undefined) latest.set(compact.uuid, compact);
      batch.push(compact);
    }
    return batch;
  });
}

export function runCdrParseBench(options: CdrParseBenchOptions = {}): CdrParseBenchResult {
  const events = options.events ?? 100_000;
  const rounds = options.rounds ?? 5;
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const headers = Array.from({ length: events }, (_, i) => syntheticChannelEvent(i));
  const plainFrames = headers.map((h) => encodeEventPlainFrame(h));
  const jsonTexts = headers.map((h) => encodeEventJson(h));
  const plainChunks = concat(plainFrames, chunkBytes);
  const jsonChunks = concat(
    headers.map((h) => encodeEventJsonFrame(h)),
    chunkBytes,
  );
  const blocks = headerBlocks(headers);
  const compacted = precompacted(plainChunks);
  // The walk must see every header line and each block's blank line, or it measures the wrong thing.
  const lines = headers.reduce((n, h) => n + Object.keys(h).length + 1, 0);
  if (walkLines(blocks.bytes, blocks.starts, false) !== lines) throw new Error('line walk missed lines');
  const bytes = (list: string[]): number =>
    Math.round(list.reduce((n, s) => n + Buffer.byteLength(s), 0) / list.length);

  const check = (n: number): void => {
    if (n !== events) throw new Error(`parsed ${n} events, expected ${events}`);
  };
  let pipelineStories = 0;
  let pipelinePeakOpenCalls = 0;
  const rate = measure(rounds, events, {
    plain: () =>
      check(
        parseFrames(plainChunks, (ev) => {
          sink += ev.name.length;
        }),
      ),
    plainRouted: () => check(parseFrames(plainChunks, route)),
    compact: () => {
      const latest = new Map<string, CompactSwitchEvent>();
      const intern = new Map<string, string>();
      const options = { previous: (uuid: string) => latest.get(uuid), intern };
      check(
        parseFrames(plainChunks, (ev) => {
          const compact = compactEvent(ev, ROUTED_SELECTION, options);
          if (compact.uuid !== undefined) latest.set(compact.uuid, compact);
          sink += compact.name.length;
        }),
      );
    },
    jsonRouted: () => check(parseFrames(jsonChunks, route)),
    pipeline: () => {
      const run = pipeline(plainChunks, events, true);
      pipelineStories = run.stories;
      pipelinePeakOpenCalls = run.peakOpen;
    },
    pipelineAllOpen: () => {
      sink += pipeline(plainChunks, events, false).stories;
    },
    routeOnly: () => {
      sink += pipeline(plainChunks, events, true, false).stories;
    },
    pipelineCompacted: () => {
      sink += pipeline(compacted, events, true).stories;
    },
    lineWalk: () => {
      sink += walkLines(blocks.bytes, blocks.starts, false);
    },
    lineWalkStrings: () => {
      sink += walkLines(blocks.bytes, blocks.starts, true);
    },
    baseline: () => {
      for (const text of jsonTexts)
        sink += (JSON.parse(text) as { 'Event-Name': string })['Event-Name'].length;
    },
  });
  const plainRouted = rate.plainRouted ?? 0;
  const baseline = rate.baseline ?? 1;
  return {
    events,
    rounds,
    chunkBytes,
    avgPlainEventBytes: bytes(plainFrames),
    avgJsonEventBytes: bytes(jsonTexts),
    eslPlainParseEventsPerSec: rate.plain ?? 0,
    eslPlainParseAndRouteHeadersEventsPerSec: plainRouted,
    eslPlainCompactEventsPerSec: rate.compact ?? 0,
    eslJsonParseAndRouteHeadersEventsPerSec: rate.jsonRouted ?? 0,
    jsonParseBaselineEventsPerSec: baseline,
    ratioToBaseline: Math.round((plainRouted / baseline) * 100) / 100,
    eslPlainPipelineEventsPerSec: rate.pipeline ?? 0,
    pipelineStories,
    pipelineRatioToBaseline: Math.round(((rate.pipeline ?? 0) / baseline) * 100) / 100,
    eslPlainPipelineAllOpenEventsPerSec: rate.pipelineAllOpen ?? 0,
    pipelinePeakOpenCalls,
    eslPlainRouteOnlyEventsPerSec: rate.routeOnly ?? 0,
    eslPlainPipelinePrecompactedEventsPerSec: rate.pipelineCompacted ?? 0,
    eslPlainLineWalkFloorEventsPerSec: rate.lineWalk ?? 0,
    eslPlainLineWalkValueStringsEventsPerSec: rate.lineWalkStrings ?? 0,
    lineWalkFloorRatioToBaseline: Math.round(((rate.lineWalk ?? 0) / baseline) * 100) / 100,
    lineWalkValueStringsRatioToBaseline: Math.round(((rate.lineWalkStrings ?? 0) / baseline) * 100) / 100,
  };
}

function envInt(name: string, fallback: number): number {
  const n = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = runCdrParseBench({
    events: envInt('BENCH_CDR_EVENTS', 100_000),
    rounds: envInt('BENCH_CDR_ROUNDS', 5),
  });
  process.stdout.write(JSON.stringify({ ...result, sink: sink % 10 }, null, 2) + '\n');
}
