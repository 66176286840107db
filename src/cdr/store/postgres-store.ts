/**
 * `PostgresStore`: call stories in PostgreSQL (pg Pool), for distributed deployments. Tables live in a
 * configurable schema with a configurable name prefix (tests use a throw-away schema); they are created
 * or migrated on open under an advisory lock, so several engines starting together do not race.
 * Stories are `jsonb`; the filters use indexed columns.
 */
import type { CallStory } from '../story.js';
import pg from 'pg';
import {
  describeError,
  StoreClosedError,
  StoreConfigError,
  StoreSchemaError,
  StoreUnavailableError,
} from './errors.js';
import { storyWhere } from './sql-filter.js';
import type { SaveOutcome, Store, StoryFilter, StoryPage } from './store.js';
import {
  checkCutoff,
  normaliseQuery,
  parseStoredStory,
  type StorableStory,
  storyColumns,
} from './story-columns.js';

/** Options of {@link PostgresStore.open}. Give `connectionString` or `pool`. */
export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:5432/db`. Ignored when `pool` is given. */
  connectionString?: string;
  /** An existing pool; the store then does NOT end it on close. */
  pool?: pg.Pool;
  /** Schema holding the tables (created if missing). Default `public`. */
  schema?: string;
  /** Prefix of every table name. Default `cdr_`. */
  tablePrefix?: string;
  /** Pool size when the store makes its pool (default 4). */
  maxConnections?: number;
  /** Give up connecting after this long, in ms (default 5 000). */
  connectTimeoutMs?: number;
}

/** A plain SQL identifier: what we accept for schema names and prefixes (no quoting games). */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/;

/** Migrations, in order: entry i takes the schema from version i to i + 1. Append only. */
function migrations(t: PgTables): readonly string[] {
  return [
    `CREATE TABLE ${t.stories} (
       id          text PRIMARY KEY,
       version     integer NOT NULL,
       started_at  double precision NOT NULL,
       ended_at    double precision,
       disposition text NOT NULL,
       story       jsonb NOT NULL
     );
     CREATE INDEX ${t.prefix}stories_started ON ${t.stories} (started_at DESC, id DESC);
     CREATE INDEX ${t.prefix}stories_disposition ON ${t.stories} (disposition, started_at);
     CREATE TABLE ${t.numbers} (
       number   text NOT NULL,
       story_id text NOT NULL REFERENCES ${t.stories} (id) ON DELETE CASCADE,
       PRIMARY KEY (number, story_id)
     );
     CREATE INDEX ${t.prefix}story_numbers_story ON ${t.numbers} (story_id);`,
  ];
}

/** The schema version this code writes. */
export const POSTGRES_SCHEMA_VERSION = 1;

interface PgTables {
  readonly schema: string;
  readonly prefix: string;
  readonly stories: string;
  readonly numbers: string;
  readonly meta: string;
}

/**
 * Stories in PostgreSQL.
 *
 * @example
 * const store = await PostgresStore.open({ connectionString: 'postgres://postgres@127.0.0.1/test' });
 * await store.save(story);
 * await store.close();
 */
export class PostgresStore<S extends StorableStory = CallStory> implements Store<S> {
  readonly description: string;
  readonly #tables: PgTables;
  readonly #ownsPool: boolean;
  #pool: pg.Pool | undefined;

  private constructor(pool: pg.Pool, ownsPool: boolean, tables: PgTables, where: string) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    this.#tables = tables;
    this.description = `${where} (${tables.schema}.${tables.prefix}*)`;
  }

  /**
   * Connects, creates the schema and tables if missing, and migrates them.
   *
   * @throws StoreConfigError for a bad schema/prefix or missing address; StoreUnavailableError when
   * PostgreSQL cannot be reached or refuses; StoreSchemaError when the tables are newer than this code.
   */
  static async open<S extends StorableStory = CallStory>(
    options: PostgresStoreOptions,
  ): Promise<PostgresStore<S>> {
    const schema = options.schema ?? 'public';
    const prefix = options.tablePrefix ?? 'cdr_';
    if (!IDENTIFIER.test(schema))
      throw new StoreConfigError(`PostgreSQL schema ${JSON.stringify(schema)}: expected [a-z_][a-z0-9_]*`);
    if (!IDENTIFIER.test(prefix))
      throw new StoreConfigError(
        `PostgreSQL table prefix ${JSON.stringify(prefix)}: expected [a-z_][a-z0-9_]*`,
      );
    const tables: PgTables = {
      schema,
      prefix,
      stories: `"${schema}"."${prefix}stories"`,
      numbers: `"${schema}"."${prefix}story_numbers"`,
      meta: `"${schema}"."${prefix}meta"`,
    };
    let pool: pg.Pool;
    let where: string;
    if (options.pool !== undefined) {
      pool = options.pool;
      where = 'postgres (shared pool)';
    } else {
      if (options.connectionString === undefined || options.connectionString.length === 0)
        throw new StoreConfigError('PostgreSQL store: connectionString or pool is required');
      where = redact(options.connectionString);
      pool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.maxConnections ?? 4,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
        application_name: 'openxcc-cdr',
      });
      // An idle client losing its server must not crash the process; the next query reports it.
      pool.on('error', () => {});
    }
    try {
      await migrate(pool, tables);
    } catch (err) {
      if (options.pool === undefined) await pool.end().catch(() => undefined);
      if (err instanceof StoreSchemaError) throw err;
      throw new StoreUnavailableError(`PostgreSQL at ${where}: ${describeError(err)}`, { cause: err });
    }
    return new PostgresStore<S>(pool, options.pool === undefined, tables, where);
  }

  async save(story: S): Promise<SaveOutcome> {
    const cols = storyColumns(story);
    const t = this.#tables;
    const client = await this.#connect();
    try {
      await client.query('BEGIN');
      // The version guard sits in the upsert itself: ON CONFLICT locks the existing row and checks
      // the guard against its latest committed version, so concurrent saves of one story (even of a
      // brand-new id) cannot let an older version win. No row back means the stored one is newer.
      const upserted = await client.query<{ inserted: boolean }>(
        `INSERT INTO ${t.stories} AS s (id, version, started_at, ended_at, disposition, story)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, started_at = EXCLUDED.started_at,
           ended_at = EXCLUDED.ended_at, disposition = EXCLUDED.disposition, story = EXCLUDED.story
         WHERE s.version <= EXCLUDED.version
         RETURNING (xmax = 0) AS inserted`,
        [cols.id, cols.version, cols.startedAt, cols.endedAt, cols.disposition, cols.json],
      );
      const row = upserted.rows[0];
      if (row === undefined) {
        await client.query('ROLLBACK');
        return 'stale';
      }
      await client.query(`DELETE FROM ${t.numbers} WHERE story_id = $1`, [cols.id]);
      if (cols.numbers.length > 0)
        await client.query(`INSERT INTO ${t.numbers} (number, story_id) SELECT unnest($1::text[]), $2`, [
          cols.numbers,
          cols.id,
        ]);
      await client.query('COMMIT');
      return row.inserted ? 'inserted' : 'updated';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.#wrap(err);
    } finally {
      client.release();
    }
  }

  async get(id: string): Promise<S | undefined> {
    const rows = await this.#query<{ story: unknown }>(
      `SELECT story FROM ${this.#tables.stories} WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row === undefined ? undefined : parseStoredStory<S>(id, row.story);
  }

  async list(filter?: StoryFilter, page?: StoryPage): Promise<S[]> {
    const query = normaliseQuery(filter, page);
    const where = storyWhere(query, this.#tables, (n) => `$${n}`);
    const n = where.params.length;
    const rows = await this.#query<{ id: string; story: unknown }>(
      `SELECT s.id, s.story FROM ${this.#tables.stories} s ${where.sql}
       ORDER BY s.started_at DESC, s.id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...where.params, query.limit, query.offset],
    );
    return rows.map((r) => parseStoredStory<S>(r.id, r.story));
  }

  async count(filter?: StoryFilter): Promise<number> {
    const where = storyWhere(normaliseQuery(filter), this.#tables, (n) => `$${n}`);
    const rows = await this.#query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.#tables.stories} s ${where.sql}`,
      where.params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async deleteBefore(time: number): Promise<number> {
    const cutoff = checkCutoff(time);
    const pool = this.#pool;
    if (pool === undefined) throw new StoreClosedError();
    try {
      // One statement: the party numbers go with their story (ON DELETE CASCADE).
      const result = await pool.query(`DELETE FROM ${this.#tables.stories} WHERE started_at < $1`, [cutoff]);
      return result.rowCount ?? 0;
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined && this.#ownsPool) await pool.end();
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    const pool = this.#pool;
    if (pool === undefined) throw new StoreClosedError();
    try {
      return (await pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  async #connect(): Promise<pg.PoolClient> {
    const pool = this.#pool;
    if (pool === undefined) throw new StoreClosedError();
    try {
      return await pool.connect();
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  /** Driver errors become one-line `StoreUnavailableError`s naming the server. */
  #wrap(err: unknown): Error {
    if (err instanceof StoreClosedError) return err;
    return new StoreUnavailableError(`PostgreSQL at ${this.description}: ${describeError(err)}`, {
      cause: err,
    });
  }
}

/** Creates the schema and tables, or migrates them, holding an advisory lock for the whole step. */
async function migrate(pool: pg.Pool, t: PgTables): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One lock per (schema, prefix): concurrent openers wait instead of racing on CREATE TABLE.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`openxcc-cdr:${t.schema}.${t.prefix}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${t.meta} (key text PRIMARY KEY, value text NOT NULL)`);
    const found = await client.query<{ value: string }>(
      `SELECT value FROM ${t.meta} WHERE key = 'schema_version'`,
    );
    const version = Number(found.rows[0]?.value ?? 0);
    if (version > POSTGRES_SCHEMA_VERSION)
      throw new StoreSchemaError(version, POSTGRES_SCHEMA_VERSION, `PostgreSQL schema ${t.schema}`);
    const steps = migrations(t);
    for (let v = version; v < POSTGRES_SCHEMA_VERSION; v++) await client.query(steps[v]!);
    await client.query(
      `INSERT INTO ${t.meta} (key, value) VALUES ('schema_version', $1)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [String(POSTGRES_SCHEMA_VERSION)],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The connection string without its password, for logs and errors. */
export function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://…';
  }
}
