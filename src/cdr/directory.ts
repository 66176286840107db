/**
 * Enrichment seam: a `Directory` maps a number, extension or login to a person, a department and
 * whether it is ours. The engine consults it once per finished story (never per event), through
 * `CachingDirectory` so a busy agent's extension is looked up once, not once per call. A directory
 * whose entries change (a file reloaded on SIGHUP) bumps its `revision`, and the cache starts afresh.
 */
import type { Clock } from '../clock/index.js';
import type { PartyKind } from './story.js';

/** What the directory knows about one number, extension or login. */
export interface DirectoryEntry {
  kind: Exclude<PartyKind, 'unknown'>;
  person?: string;
  department?: string;
  /** The extension a login belongs to (lets the engine repair a login seen where a number should be). */
  extension?: string;
}

/**
 * Number/extension/login → who. Implementations may be synchronous (a map, a file) or asynchronous
 * (a database); `undefined` means unknown, and the engine then guesses the kind from the number.
 *
 * @example
 * const dir = new StaticDirectory({ '1001': { kind: 'internal', person: 'Anna', department: 'Support' } });
 */
export interface Directory {
  lookup(key: string): DirectoryEntry | undefined | Promise<DirectoryEntry | undefined>;
  /**
   * Optional: a number that changes whenever the entries change (a reloaded file). A cache in front
   * (`CachingDirectory`) drops every answer when it moves, so nothing stale is served after a reload.
   */
  readonly revision?: number;
}

/**
 * A directory over an in-memory map (tests, small installations, a YAML file read by the CLI), which
 * `replace` swaps as a whole.
 */
export class StaticDirectory implements Directory {
  #entries: Map<string, DirectoryEntry>;
  #revision = 0;
  /** How many lookups were made (tests use it to prove caching). */
  lookups = 0;

  constructor(entries: Record<string, DirectoryEntry> = {}) {
    this.#entries = new Map(Object.entries(entries));
  }

  lookup(key: string): DirectoryEntry | undefined {
    this.lookups++;
    return this.#entries.get(key);
  }

  /** Bumped by every `replace` (see {@link Directory.revision}). */
  get revision(): number {
    return this.#revision;
  }

  /** How many keys the directory knows. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Swaps in a new map at once: a lookup sees all old or all new entries, never a mix.
   *
   * @example
   * dir.replace({ '1001': { kind: 'internal', person: 'Ben', department: 'Sales' } });
   */
  replace(entries: Record<string, DirectoryEntry>): void {
    this.#entries = new Map(Object.entries(entries));
    this.#revision++;
  }
}

/** Options of {@link CachingDirectory}. */
export interface CachingDirectoryOptions {
  /** Entries kept (oldest evicted first). Default 10 000. */
  maxEntries?: number;
  /** How long an answer (including "unknown") stays valid, ms of `clock` time. Default 300 000 (5 min). */
  ttlMs?: number;
  /** Time source for the TTL. */
  clock: Clock;
}

/**
 * Wraps a directory with a bounded, time-limited cache; concurrent lookups of one key share one call.
 * When the inner directory's `revision` moves (a reload), every cached answer is dropped first.
 */
export class CachingDirectory implements Directory {
  readonly #inner: Directory;
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { at: number; value: Promise<DirectoryEntry | undefined> }>();
  #revision: number | undefined;

  constructor(inner: Directory, options: CachingDirectoryOptions) {
    this.#inner = inner;
    this.#max = options.maxEntries ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#clock = options.clock;
    this.#revision = inner.revision;
  }

  /**
   * Forgets every answer: the next lookup of each key asks the inner directory again. Lookups already
   * in flight still settle for whoever awaits them.
   */
  clear(): void {
    this.#cache.clear();
  }

  lookup(key: string): Promise<DirectoryEntry | undefined> {
    // Checked per lookup rather than pushed: the cache needs no subscription that could outlive it.
    if (this.#inner.revision !== this.#revision) {
      this.#revision = this.#inner.revision;
      this.clear();
    }
    const now = this.#clock.now();
    const hit = this.#cache.get(key);
    if (hit !== undefined && now - hit.at < this.#ttlMs) return hit.value;
    // A failing directory must not fail the story: an error counts as "unknown" (and is not cached).
    const value: Promise<DirectoryEntry | undefined> = Promise.resolve()
      .then(() => this.#inner.lookup(key))
      .catch(() => {
        // Only this answer: a newer one cached after a clear() stays.
        if (this.#cache.get(key)?.value === value) this.#cache.delete(key);
        return undefined;
      });
    this.#cache.delete(key);
    this.#cache.set(key, { at: now, value });
    if (this.#cache.size > this.#max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return value;
  }
}
