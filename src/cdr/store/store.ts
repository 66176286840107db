/**
 * The `Store` seam of the CDR engine: where finished (and updated) call stories are kept and found
 * again. Two implementations share one contract test suite: `SqliteStore` (embedded default) and
 * `PostgresStore` (distributed deployments). A store indexes only a story's id, version, start/end
 * times, disposition and the numbers of its parties; the whole story is kept as JSON so the model can
 * grow without a schema change.
 */
import type { CallStory } from '../story.js';
import type { StorableStory } from './story-columns.js';

/** What `save` did with a story. */
export type SaveOutcome =
  /** The id was new. */
  | 'inserted'
  /** The id existed with the same or an older version; the stored story was replaced. */
  | 'updated'
  /**
   * The id existed with a NEWER version; the stored story was kept. A late re-publication of an old
   * version (bus redelivery, a slow writer) never overwrites a newer story.
   */
  | 'stale';

/** Filters of {@link Store.list} and {@link Store.count}. All given filters must hold. */
export interface StoryFilter {
  /** Stories that started at or after this time (the story model's time unit). */
  readonly from?: number;
  /** Stories that started strictly before this time (the story model's time unit). */
  readonly to?: number;
  /** Stories in which some party has exactly this number. */
  readonly number?: string;
  /** Stories with this disposition, or any of these. */
  readonly disposition?: string | readonly string[];
}

/** Paging of {@link Store.list}. */
export interface StoryPage {
  /** At most this many stories (default 100, at most {@link MAX_LIST_LIMIT}). */
  readonly limit?: number;
  /** Skip this many first (default 0). */
  readonly offset?: number;
}

/** Default `limit` of {@link Store.list}. */
export const DEFAULT_LIST_LIMIT = 100;
/** Largest `limit` {@link Store.list} accepts. */
export const MAX_LIST_LIMIT = 10_000;

/**
 * A place to keep call stories.
 *
 * @example
 * const store = await openStore('sqlite:cdr.db');
 * await store.save(story);                       // insert or replace by story.id
 * const answered = await store.list({ disposition: 'answered', number: '1001' }, { limit: 20 });
 * await store.close();
 */
export interface Store<S extends StorableStory = CallStory> {
  /** `sqlite:/path/file.db`, `sqlite::memory:`, `postgres://host/db (schema.prefix)` — for logs. */
  readonly description: string;
  /**
   * Inserts or replaces the story with `story.id` (idempotent: saving the same story twice leaves one
   * copy). A story whose `version` is lower than the stored one is not written (`'stale'`).
   *
   * @throws StoreDataError when the story has no usable id or start time.
   */
  save(story: S): Promise<SaveOutcome>;
  /** The story with this id, or `undefined`. */
  get(id: string): Promise<S | undefined>;
  /** Stories matching `filter`, newest start first (ties by id), one page of them. */
  list(filter?: StoryFilter, page?: StoryPage): Promise<S[]>;
  /** How many stories match `filter` (for "20 of 1 312"). */
  count(filter?: StoryFilter): Promise<number>;
  /**
   * Retention: deletes every story that started strictly before `time` (µs since the epoch, the story
   * model's unit), with its party numbers, and returns how many stories were deleted. One statement,
   * one transaction: a concurrent `list` sees the stories either all there or all gone.
   *
   * @throws StoreQueryError when `time` is not a finite number.
   * @example
   * const ninetyDaysAgo = (Date.now() - 90 * 86_400_000) * 1000;
   * const deleted = await store.deleteBefore(ninetyDaysAgo);
   */
  deleteBefore(time: number): Promise<number>;
  /** Releases the database (idempotent). Later calls reject with `StoreClosedError`. */
  close(): Promise<void>;
}
