/**
 * SqliteStore: the shared Store contract on `:memory:` and on a file, plus what only a file shows:
 * WAL, the schema version, reopening, read-only opening, and refusing a newer schema.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreSchemaError, StoreUnavailableError } from './errors.js';
import { SQLITE_SCHEMA_VERSION, SqliteStore } from './sqlite-store.js';
import { describeStoreContract, makeStory } from './test-support.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xcc-sqlite-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeStoreContract('SqliteStore :memory:', () => Promise.resolve(SqliteStore.open()));
describeStoreContract('SqliteStore file', () =>
  Promise.resolve(SqliteStore.open({ file: join(dir, `c${n++}.db`) })),
);

describe('SqliteStore on a file', () => {
  it('creates the schema with WAL journaling and keeps stories across reopen', async () => {
    const file = join(dir, 'reopen.db');
    const first = SqliteStore.open({ file });
    await first.save(makeStory({ id: 'keep' }));
    await first.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    raw.close();
    const second = SqliteStore.open({ file });
    expect((await second.get('keep'))?.id).toBe('keep');
    await second.close();
  });

  it('opens read-only for queries while a writer keeps writing', async () => {
    const file = join(dir, 'ro.db');
    const writer = SqliteStore.open({ file });
    await writer.save(makeStory({ id: 'r1' }));
    const reader = SqliteStore.open({ file, readonly: true });
    await writer.save(makeStory({ id: 'r2', startedAt: makeStory({ id: 'x' }).startedAt + 1 }));
    expect((await reader.list()).map((s) => s.id)).toEqual(['r2', 'r1']);
    await expect(reader.save(makeStory({ id: 'r3' }))).rejects.toThrow(/readonly/i);
    await reader.close();
    await writer.close();
  });

  it('refuses a read-only open of a missing file with StoreUnavailableError', () => {
    expect(() => SqliteStore.open({ file: join(dir, 'missing.db'), readonly: true })).toThrow(
      StoreUnavailableError,
    );
  });

  it('refuses a file in a directory that does not exist with one clear line', () => {
    expect(() => SqliteStore.open({ file: join(dir, 'no', 'such', 'dir.db') })).toThrow(
      /cannot open SQLite database .*dir\.db/,
    );
  });

  it('refuses a database written by a newer schema (StoreSchemaError), leaving it untouched', () => {
    const file = join(dir, 'newer.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => SqliteStore.open({ file })).toThrow(StoreSchemaError);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION + 1);
    check.close();
  });

  it('refuses a file that is not a database', async () => {
    const file = join(dir, 'garbage.db');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, 'this is not sqlite '.repeat(100));
    expect(() => SqliteStore.open({ file })).toThrow(StoreUnavailableError);
  });
});
