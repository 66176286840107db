/**
 * `SqliteStore`: call stories in one SQLite file (better-sqlite3), the embedded default. The schema is
 * created or migrated when the file is opened (version in `PRAGMA user_version`); WAL journaling lets
 * readers (`xcc cdr list`, the console) look while the engine writes.
 */
import type { CallStory } from '../story.js';
import Database from 'better-sqlite3';
import { describeError, StoreClosedError, StoreSchemaError, StoreUnavailableError } from './errors.js';
import { storyWhere } from './sql-filter.js';
import type { SaveOutcome, Store, StoryFilter, StoryPage } from './store.js';
import {
  checkCutoff,
  normaliseQuery,
  parseStoredStory,
  type StorableStory,
  storyColumns,
} from './story-columns.js';

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** Database file, or `:memory:` (default) for a private in-memory database. */
  file?: string;
  /** Open read-only (no schema creation; the file must exist). Default false. */
  readonly?: boolean;
  /** How long a write waits for another process's lock before failing, in ms (default 5 000). */
  busyTimeoutMs?: number;
}

/**
 * Schema migrations, in order: entry i takes the database from version i to i + 1. Never edit a
 * released entry; append a new one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE cdr_stories (
     id          TEXT PRIMARY KEY,
     version     INTEGER NOT NULL,
     started_at  NUMERIC NOT NULL,
     ended_at    NUMERIC,
     disposition TEXT NOT NULL,
     story       TEXT NOT NULL
   );
   CREATE INDEX cdr_stories_started ON cdr_stories (started_at DESC, id DESC);
   CREATE INDEX cdr_stories_disposition ON cdr_stories (disposition, started_at);
   CREATE TABLE cdr_story_numbers (
     number   TEXT NOT NULL,
     story_id TEXT NOT NULL REFERENCES cdr_stories (id) ON DELETE CASCADE,
     PRIMARY KEY (number, story_id)
   ) WITHOUT ROWID;
   CREATE INDEX cdr_story_numbers_story ON cdr_story_numbers (story_id);`,
];

/** The schema version this code writes. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

const TABLES = { stories: 'cdr_stories', numbers: 'cdr_story_numbers' } as const;

/**
 * Stories in SQLite.
 *
 * @example
 * const store = SqliteStore.open({ file: 'cdr.db' });
 * await store.save(story);
 * const mine = await store.list({ number: '1001' });
 * await store.close();
 */
export class SqliteStore<S extends StorableStory = CallStory> implements Store<S> {
  readonly description: string;
  #db: Database.Database | undefined;
  readonly #save: (story: S) => SaveOutcome;

  private constructor(db: Database.Database, file: string) {
    this.#db = db;
    this.description = `sqlite:${file}`;
    const selectVersion = db.prepare<[string], { version: number }>(
      'SELECT version FROM cdr_stories WHERE id = ?',
    );
    const upsert = db.prepare(
      `INSERT INTO cdr_stories (id, version, started_at, ended_at, disposition, story)
       VALUES (@id, @version, @startedAt, @endedAt, @disposition, @json)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, started_at = excluded.started_at,
         ended_at = excluded.ended_at, disposition = excluded.disposition, story = excluded.story`,
    );
    const deleteNumbers = db.prepare('DELETE FROM cdr_story_numbers WHERE story_id = ?');
    const insertNumber = db.prepare('INSERT INTO cdr_story_numbers (number, story_id) VALUES (?, ?)');
    // One IMMEDIATE transaction per save: the row and its numbers change together or not at all, and
    // the write lock is taken before the version check, so another process cannot slip in between.
    const save = db.transaction((story: S): SaveOutcome => {
      const cols = storyColumns(story);
      const existing = selectVersion.get(cols.id);
      if (existing !== undefined && existing.version > cols.version) return 'stale';
      upsert.run({
        id: cols.id,
        version: cols.version,
        startedAt: cols.startedAt,
        endedAt: cols.endedAt,
        disposition: cols.disposition,
        json: cols.json,
      });
      deleteNumbers.run(cols.id);
      for (const n of cols.numbers) insertNumber.run(n, cols.id);
      return existing === undefined ? 'inserted' : 'updated';
    });
    this.#save = (story) => save.immediate(story);
  }

  /**
   * Opens (creating if needed) the database and brings its schema up to date.
   *
   * @throws StoreUnavailableError when the file cannot be opened; StoreSchemaError when it was written
   * by a newer OpenXCC.
   */
  static open<S extends StorableStory = CallStory>(options: SqliteStoreOptions = {}): SqliteStore<S> {
    const file = options.file ?? ':memory:';
    let db: Database.Database;
    try {
      db = new Database(file, {
        readonly: options.readonly ?? false,
        fileMustExist: options.readonly ?? false,
      });
    } catch (err) {
      throw new StoreUnavailableError(`cannot open SQLite database ${file}: ${describeError(err)}`, {
        cause: err,
      });
    }
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('foreign_keys = ON');
      if (!options.readonly) {
        if (file !== ':memory:') db.pragma('journal_mode = WAL');
        migrate(db, file);
      } else {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > SQLITE_SCHEMA_VERSION) throw new StoreSchemaError(version, SQLITE_SCHEMA_VERSION, file);
        if (version < SQLITE_SCHEMA_VERSION)
          throw new StoreUnavailableError(
            `SQLite database ${file} has no current CDR schema (open it writable once)`,
          );
      }
      return new SqliteStore<S>(db, file);
    } catch (err) {
      db.close();
      if (err instanceof StoreSchemaError || err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`cannot prepare SQLite database ${file}: ${describeError(err)}`, {
        cause: err,
      });
    }
  }

  save(story: S): Promise<SaveOutcome> {
    return this.#run(() => this.#save(story));
  }

  get(id: string): Promise<S | undefined> {
    return this.#run((db) => {
      const row = db
        .prepare<[string], { story: string }>('SELECT story FROM cdr_stories WHERE id = ?')
        .get(id);
      return row === undefined ? undefined : parseStoredStory<S>(id, row.story);
    });
  }

  list(filter?: StoryFilter, page?: StoryPage): Promise<S[]> {
    return this.#run((db) => {
      const query = normaliseQuery(filter, page);
      const where = storyWhere(query, TABLES, () => '?');
      const rows = db
        .prepare<unknown[], { id: string; story: string }>(
          `SELECT s.id, s.story FROM cdr_stories s ${where.sql}
           ORDER BY s.started_at DESC, s.id DESC LIMIT ? OFFSET ?`,
        )
        .all(...where.params, query.limit, query.offset);
      return rows.map((r) => parseStoredStory<S>(r.id, r.story));
    });
  }

  count(filter?: StoryFilter): Promise<number> {
    return this.#run((db) => {
      const where = storyWhere(normaliseQuery(filter), TABLES, () => '?');
      const row = db
        .prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM cdr_stories s ${where.sql}`)
        .get(...where.params);
      return row?.n ?? 0;
    });
  }

  deleteBefore(time: number): Promise<number> {
    return this.#run((db) => {
      // The party numbers go with their story (ON DELETE CASCADE; foreign keys are on).
      const result = db.prepare('DELETE FROM cdr_stories WHERE started_at < ?').run(checkCutoff(time));
      return result.changes;
    });
  }

  close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    db?.close();
    return Promise.resolve();
  }

  /** Runs a synchronous database step as a promise, so every failure arrives as a rejection. */
  #run<T>(step: (db: Database.Database) => T): Promise<T> {
    try {
      const db = this.#db;
      if (db === undefined) throw new StoreClosedError();
      return Promise.resolve(step(db));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/** Applies the migrations the database has not seen yet, in one transaction. */
function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION) throw new StoreSchemaError(version, SQLITE_SCHEMA_VERSION, file);
    for (let v = version; v < SQLITE_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    // PRAGMA takes no parameters; the value is our own integer.
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}
