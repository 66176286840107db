/**
 * CDR engine memory with many open calls. A child process (`--expose-gc`, a fresh heap) feeds the
 * story engine, as ESL `text/event-plain` frames in 64 KiB chunks, N calls that are set up and left
 * open: CREATE of the A and B legs, ANSWER of both, CHANNEL_BRIDGE (no hangup). It reports the heap
 * per open call after forced GCs, then hangs every call up, lets the quiet period finalise them on a
 * `VirtualClock` (every story is built and emitted), and reports the heap again — once right after
 * (finished calls are still remembered for late events) and once after the retention window.
 *
 *   node --expose-gc dist/bench/cdr-memory.js child 100000     (the child alone)
 *
 * `runCdrMemory(calls)` spawns the child and returns its JSON (bench/run.ts, part `cdr`).
 */
import { fileURLToPath } from 'node:url';
import {
  EslParser,
  encodeEventPlainFrame,
  type HeaderMap,
  StoryEngine,
  syntheticChannelEvent,
  syntheticUuid,
} from '../src/cdr/index.js';
import { VirtualClock } from '../src/clock/index.js';
import { spawnBenchChild } from './proc.js';

export interface CdrMemoryResult {
  calls: number;
  /** heapUsed after GC with the engine built and nothing fed. */
  heapStartBytes: number;
  /** heapUsed after GC with every call open (A and B legs created, answered, bridged). */
  heapOpenBytes: number;
  /** (heapOpen − heapStart) ÷ calls. */
  bytesPerOpenCall: number;
  /** Events the router holds for the open calls (after the per-call cap). */
  retainedEvents: number;
  /** After every call was hung up and finalised; finished calls still remembered for late events. */
  heapFinalisedBytes: number;
  /** After the retention window (`retainMs`) passed: what the engine keeps with no call open. */
  heapAfterRetentionBytes: number;
  storiesEmitted: number;
  /** Router map sizes at the end (each bounded: see docs/cdr.md). */
  routerAfter: Record<string, number>;
}

const OPEN_EVENTS = [
  'CHANNEL_CREATE',
  'CHANNEL_CREATE',
  'CHANNEL_ANSWER',
  'CHANNEL_ANSWER',
  'CHANNEL_BRIDGE',
];

/** The synthetic index of call `c`'s n-th event: even indices are the A leg, odd ones the B leg. */
function openEvent(c: number, n: number): HeaderMap {
  // A create, B create, B answer, A answer, bridge on A.
  const offsets = [0, 1, 3, 2, 4];
  const headers: Record<string, string> = {
    ...syntheticChannelEvent(c * 8 + offsets[n]!, { name: OPEN_EVENTS[n]! }),
  };
  headers['Answer-State'] = n < 2 ? 'ringing' : 'answered';
  if (n < 2) delete headers['Caller-Channel-Answered-Time'];
  if (n === 4) {
    headers['Bridge-A-Unique-ID'] = syntheticUuid(c * 2);
    headers['Bridge-B-Unique-ID'] = syntheticUuid(c * 2 + 1);
  }
  return headers;
}

function hangupEvent(c: number, leg: 0 | 1, baseUs: number): HeaderMap {
  const headers: Record<string, string> = {
    ...syntheticChannelEvent(c * 8 + 6 + leg, { name: 'CHANNEL_HANGUP_COMPLETE', baseTimestampUs: baseUs }),
  };
  headers['Hangup-Cause'] = 'NORMAL_CLEARING';
  headers['Caller-Channel-Hangup-Time'] = headers['Event-Date-Timestamp']!;
  return headers;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) g();
}

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Feeds `frames` through one parser in 64 KiB chunks (as socket reads would come). */
function feed(parser: EslParser, frames: string[], engine: StoryEngine): void {
  const bytes = new TextEncoder().encode(frames.join(''));
  for (let i = 0; i < bytes.length; i += 65_536) {
    for (const frame of parser.push(bytes.subarray(i, i + 65_536))) {
      if (frame.kind === 'event') engine.ingest(frame.event);
    }
  }
}

/** The child: builds the state and measures; prints one JSON line. */
export async function measureCdrMemory(calls: number): Promise<CdrMemoryResult> {
  const clock = new VirtualClock();
  let storiesEmitted = 0;
  const engine = new StoryEngine({
    clock,
    onStory: () => {
      storiesEmitted++;
    },
  });
  const parser = new EslParser();
  const heapStartBytes = heapUsed();
  const batch = 1000;
  for (let c0 = 0; c0 < calls; c0 += batch) {
    const frames: string[] = [];
    for (let c = c0; c < Math.min(calls, c0 + batch); c++) {
      for (let n = 0; n < OPEN_EVENTS.length; n++) frames.push(encodeEventPlainFrame(openEvent(c, n)));
    }
    feed(parser, frames, engine);
  }
  engine.flush();
  const open = engine.stats;
  if (open.openCalls !== calls) throw new Error(`expected ${calls} open calls, router has ${open.openCalls}`);
  const heapOpenBytes = heapUsed();

  // Hang everything up 1000 s of event time later; the quiet period (30 s) finalises the calls.
  const hangupBase = Date.UTC(2026, 0, 1) * 1000 + 1_000_000_000 + calls * 8000;
  for (let c0 = 0; c0 < calls; c0 += batch) {
    const frames: string[] = [];
    for (let c = c0; c < Math.min(calls, c0 + batch); c++) {
      frames.push(encodeEventPlainFrame(hangupEvent(c, 0, hangupBase)));
      frames.push(encodeEventPlainFrame(hangupEvent(c, 1, hangupBase)));
    }
    feed(parser, frames, engine);
  }
  engine.flush();
  await clock.advance(31_000);
  await engine.idle();
  const heapFinalisedBytes = heapUsed();
  await clock.advance(600_000);
  await engine.idle();
  const heapAfterRetentionBytes = heapUsed();
  const after = engine.stats;
  await engine.close();
  return {
    calls,
    heapStartBytes,
    heapOpenBytes,
    bytesPerOpenCall: Math.round((heapOpenBytes - heapStartBytes) / calls),
    retainedEvents: open.retainedEvents,
    heapFinalisedBytes,
    heapAfterRetentionBytes,
    storiesEmitted,
    routerAfter: {
      openCalls: after.openCalls,
      openLegs: after.openLegs,
      retainedEvents: after.retainedEvents,
      dedupKeys: after.dedupKeys,
      retiredLegs: after.retiredLegs,
      sharedLegs: after.sharedLegs,
      sipCallIds: after.sipCallIds,
    },
  };
}

/** Runs the child with `--expose-gc` and a fresh heap; resolves with its figures. */
export async function runCdrMemory(calls = 100_000): Promise<CdrMemoryResult> {
  const child = await spawnBenchChild('cdr-memory.js', ['child', String(calls)], {
    nodeArgs: ['--expose-gc', '--max-old-space-size=4096'],
  });
  try {
    const line = await child.nextLine((l) => l.startsWith('{'), 300_000);
    return JSON.parse(line) as CdrMemoryResult;
  } finally {
    await child.stop();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === 'child') {
    process.stdout.write('ready\n');
    const calls = Number(process.argv[3] ?? 100_000);
    measureCdrMemory(calls).then(
      (result) => {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      },
      (err: unknown) => {
        process.stderr.write(
          `cdr-memory failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        process.exitCode = 1;
      },
    );
  } else {
    runCdrMemory(Number(process.argv[2] ?? 100_000)).then(
      (result) => {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      },
      (err: unknown) => {
        process.stderr.write(
          `cdr-memory failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        process.exitCode = 1;
      },
    );
  }
}
