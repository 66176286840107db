/**
 * Where `xcc cdr replay|listen` send each finished story: stdout (JSON), a store (`--db`), the bus
 * (`--publish`). Stories are handled one after another in the order the engine emits them; a failing
 * store or bus costs that story's write (one line on stderr, counted), never the process.
 */
import type { Store, StoryPublisher } from '../cdr/store/index.js';
import type { CallStory } from '../cdr/story.js';
import { oneLine } from './errors.js';
import type { CliIo } from './io.js';

/** Options of {@link StorySink}. */
export interface StorySinkOptions {
  io: CliIo;
  /** Print each story as one JSON line (default true). */
  print?: boolean;
  store?: Store;
  publisher?: StoryPublisher;
  /**
   * Called after each story was handled: `stored` is false when the store write failed (a publish
   * failure does not count). `xcc cdr listen --durable` acks the story's records here.
   */
  onHandled?: (story: CallStory, stored: boolean) => void;
}

/** Counts of what the sink did. */
export interface StorySinkStats {
  stories: number;
  saved: number;
  published: number;
  failures: number;
}

export class StorySink {
  readonly #options: StorySinkOptions;
  #queue: Promise<void> = Promise.resolve();
  readonly stats: StorySinkStats = { stories: 0, saved: 0, published: 0, failures: 0 };

  constructor(options: StorySinkOptions) {
    this.#options = options;
  }

  /** Queues one story; returns at once (the engine's callback must not wait on a database). */
  accept(story: CallStory): void {
    this.stats.stories++;
    // Chained so writes keep the engine's order; #handle never rejects, so the chain never breaks.
    this.#queue = this.#queue.then(() => this.#handle(story));
  }

  /** Resolves when every accepted story was handled. */
  drained(): Promise<void> {
    return this.#queue;
  }

  async #handle(story: CallStory): Promise<void> {
    const { io, store, publisher } = this.#options;
    if (this.#options.print ?? true) io.out(JSON.stringify(story));
    let stored = true;
    if (store !== undefined) {
      try {
        await store.save(story);
        this.stats.saved++;
      } catch (err) {
        stored = false;
        this.stats.failures++;
        io.err(`xcc cdr: story ${story.id} not saved: ${oneLine(err)}`);
      }
    }
    if (publisher !== undefined) {
      try {
        await publisher.publish(story);
        this.stats.published++;
      } catch (err) {
        this.stats.failures++;
        io.err(`xcc cdr: story ${story.id} not published: ${oneLine(err)}`);
      }
    }
    try {
      this.#options.onHandled?.(story, stored);
    } catch (err) {
      io.err(`xcc cdr: story ${story.id}: completion callback failed: ${oneLine(err)}`);
    }
  }
}
