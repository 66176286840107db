/**
 * The WHERE clause both SQL stores use for `list`/`count`, built once with the dialect's placeholder
 * style (`?` for SQLite, `$1…` for PostgreSQL) so the two cannot drift apart.
 */
import type { NormalisedQuery } from './story-columns.js';

/** Table names of one store. */
export interface StoryTables {
  /** One row per story. */
  readonly stories: string;
  /** One row per (story, party number). */
  readonly numbers: string;
}

export interface SqlWhere {
  /** `WHERE …` or an empty string. */
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * Builds the WHERE clause for a checked query.
 *
 * @param placeholder returns the placeholder for the n-th (1-based) parameter.
 */
export function storyWhere(
  query: NormalisedQuery,
  tables: StoryTables,
  placeholder: (n: number) => string,
): SqlWhere {
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return placeholder(params.length);
  };
  const terms: string[] = [];
  if (query.from !== undefined) terms.push(`s.started_at >= ${p(query.from)}`);
  if (query.to !== undefined) terms.push(`s.started_at < ${p(query.to)}`);
  if (query.dispositions !== undefined)
    terms.push(`s.disposition IN (${query.dispositions.map((d) => p(d)).join(', ')})`);
  if (query.number !== undefined)
    terms.push(`s.id IN (SELECT n.story_id FROM ${tables.numbers} n WHERE n.number = ${p(query.number)})`);
  return { sql: terms.length === 0 ? '' : `WHERE ${terms.join(' AND ')}`, params };
}
