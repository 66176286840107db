/**
 * What a store needs from a story, and the checks on it: the indexed columns (`storyColumns`) and the
 * validated query (`normaliseQuery`). Kept apart from the SQL so both stores index and filter the
 * same way.
 */
import { StoreDataError, StoreQueryError } from './errors.js';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, type StoryFilter, type StoryPage } from './store.js';

/**
 * The part of a call story a store relies on. The story model (src/cdr/story.ts) has these and much
 * more; the rest is stored as JSON untouched.
 */
export interface StorableStory {
  readonly id: string;
  /** Bumped by the engine at each update; a missing version counts as 0. */
  readonly version?: number;
  readonly startedAt: number;
  readonly endedAt?: number | undefined;
  readonly disposition: string;
  readonly parties: readonly { readonly number?: string | undefined }[];
}

/** The indexed columns of one story row. */
export interface StoryColumns {
  readonly id: string;
  readonly version: number;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly disposition: string;
  /** Distinct, non-empty party numbers. */
  readonly numbers: readonly string[];
  /** The whole story as JSON text. */
  readonly json: string;
}

/** Longest story id accepted (story ids are leg uuids; this only guards against garbage). */
const MAX_ID_LENGTH = 256;

/**
 * Extracts and checks the indexed columns.
 *
 * @throws StoreDataError naming the bad field.
 */
export function storyColumns(story: StorableStory): StoryColumns {
  if (typeof story !== 'object' || story === null) throw new StoreDataError('story: expected an object');
  const { id, startedAt, endedAt, disposition, parties } = story;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)
    throw new StoreDataError(`story.id: expected a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  if (!Number.isFinite(startedAt))
    throw new StoreDataError(`story ${id}: startedAt: expected a finite number`);
  if (endedAt !== undefined && endedAt !== null && !Number.isFinite(endedAt))
    throw new StoreDataError(`story ${id}: endedAt: expected a finite number`);
  if (typeof disposition !== 'string')
    throw new StoreDataError(`story ${id}: disposition: expected a string`);
  const version = story.version ?? 0;
  if (!Number.isSafeInteger(version) || version < 0)
    throw new StoreDataError(`story ${id}: version: expected a non-negative integer`);
  if (!Array.isArray(parties)) throw new StoreDataError(`story ${id}: parties: expected an array`);
  const numbers = new Set<string>();
  for (const party of parties as readonly { readonly number?: unknown }[]) {
    const n = party?.number;
    if (typeof n === 'string' && n.length > 0) numbers.add(n);
  }
  let json: string;
  try {
    json = JSON.stringify(story);
  } catch (err) {
    // Cycles or BigInts: the engine produced something that is not JSON.
    throw new StoreDataError(`story ${id}: not serialisable as JSON: ${(err as Error).message}`);
  }
  return {
    id,
    version,
    startedAt,
    endedAt: endedAt ?? null,
    disposition,
    numbers: [...numbers],
    json,
  };
}

/** Parses a stored JSON column back into a story. */
export function parseStoredStory<S>(id: string, json: unknown): S {
  if (typeof json === 'object' && json !== null) return json as S; // jsonb: already parsed by pg
  if (typeof json !== 'string') throw new StoreDataError(`stored story ${id}: no JSON`);
  try {
    return JSON.parse(json) as S;
  } catch (err) {
    throw new StoreDataError(`stored story ${id}: bad JSON: ${(err as Error).message}`);
  }
}

/**
 * Checks the cut-off time of `Store.deleteBefore`.
 *
 * @throws StoreQueryError when it is not a finite number.
 */
export function checkCutoff(time: number): number {
  if (typeof time !== 'number' || !Number.isFinite(time))
    throw new StoreQueryError(
      `deleteBefore: expected a finite time in µs since the epoch, got ${String(time)}`,
    );
  return time;
}

/** A checked filter + page, as both stores translate it to SQL. */
export interface NormalisedQuery {
  readonly from?: number;
  readonly to?: number;
  readonly number?: string;
  readonly dispositions?: readonly string[];
  readonly limit: number;
  readonly offset: number;
}

/**
 * Checks a filter and page.
 *
 * @throws StoreQueryError naming the bad field.
 */
export function normaliseQuery(filter: StoryFilter = {}, page: StoryPage = {}): NormalisedQuery {
  const limit = page.limit ?? DEFAULT_LIST_LIMIT;
  const offset = page.offset ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw new StoreQueryError(`limit: expected an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new StoreQueryError(`offset: expected a non-negative integer, got ${offset}`);
  const { from, to, number, disposition } = filter;
  if (from !== undefined && !Number.isFinite(from))
    throw new StoreQueryError(`from: expected a finite number, got ${from}`);
  if (to !== undefined && !Number.isFinite(to))
    throw new StoreQueryError(`to: expected a finite number, got ${to}`);
  if (from !== undefined && to !== undefined && from > to)
    throw new StoreQueryError(`from (${from}) is after to (${to})`);
  if (number !== undefined && (typeof number !== 'string' || number.length === 0))
    throw new StoreQueryError('number: expected a non-empty string');
  let dispositions: readonly string[] | undefined;
  if (disposition !== undefined) {
    dispositions = typeof disposition === 'string' ? [disposition] : [...disposition];
    if (dispositions.length === 0 || dispositions.some((d) => typeof d !== 'string' || d.length === 0))
      throw new StoreQueryError('disposition: expected one or more non-empty strings');
  }
  return {
    limit,
    offset,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(number === undefined ? {} : { number }),
    ...(dispositions === undefined ? {} : { dispositions }),
  };
}
