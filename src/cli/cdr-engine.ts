/**
 * The one place `xcc cdr` touches the story engine (src/cdr/engine.ts): start it with a clock and a
 * story callback, feed it events, finish (end of a replay: finalise every open call) or close (stop
 * listening: drop open calls without finalising them).
 */
import type { Clock } from '../clock/index.js';
import type { Directory, SwitchEvent } from '../cdr/index.js';
import { StoryEngine } from '../cdr/engine.js';
import type { CallStory } from '../cdr/story.js';

/** Options of {@link startStoryEngine}. */
export interface StartStoryEngineOptions {
  clock: Clock;
  /** Each finished story (and each later version of it). */
  onStory: (story: CallStory) => void;
  /** A story that could not be built or enriched (skipped; the engine goes on). */
  onError?: (error: unknown, storyId: string) => void;
  /** Quiet time after a call's last leg ended before its story is final, ms (engine default 30 000). */
  finalizeAfterMs?: number;
  /** Enrichment (`--directory FILE`): person, department and kind of numbers and logins. */
  directory?: Directory;
}

/** A running engine as the CLI uses it. */
export interface EngineHandle {
  /** Feeds one event (any order, duplicates allowed). */
  readonly ingest: (event: SwitchEvent) => void;
  /** End of input: finalises every open call and resolves when their stories were emitted. */
  finish(): Promise<void>;
  /** Stops without finalising open calls; releases every timer. Idempotent. */
  close(): Promise<void>;
}

/** Starts the story engine. */
export function startStoryEngine(options: StartStoryEngineOptions): EngineHandle {
  const engine = new StoryEngine({
    clock: options.clock,
    onStory: options.onStory,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.finalizeAfterMs === undefined ? {} : { router: { quietMs: options.finalizeAfterMs } }),
    ...(options.directory === undefined ? {} : { directory: options.directory }),
  });
  let closed = false;
  return {
    ingest: (event) => engine.ingest(event),
    finish: async () => {
      await engine.finalizeAll();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await engine.close();
    },
  };
}
