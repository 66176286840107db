/**
 * PostgresStore against the real local PostgreSQL: the shared Store contract, then what only a server
 * shows (throw-away schema, concurrent openers, concurrent saves, a shared pool, refusals). Each run
 * works in its own schema and drops it afterwards. If PostgreSQL is not reachable the suite FAILS with
 * one line saying what to do; it is never skipped silently.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreConfigError, StoreSchemaError, StoreUnavailableError } from './errors.js';
import { openStore } from './open-store.js';
import { POSTGRES_SCHEMA_VERSION, PostgresStore } from './postgres-store.js';
import { describeStoreContract, makeStory } from './test-support.js';

const URL_ = process.env.XCC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `xcc_test_${randomBytes(5).toString('hex')}`;
let admin: pg.Pool;
let reachable = false;
let n = 0;
const nextPrefix = (): string => `t${n++}_`;

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: URL_, max: 2, connectionTimeoutMillis: 3000 });
  admin.on('error', () => {});
  try {
    await admin.query('SELECT 1');
    reachable = true;
  } catch (err) {
    await admin.end();
    throw new Error(
      `PostgreSQL is not reachable at ${URL_} (${(err as Error).message}): start it (trust auth, database "test") or set XCC_TEST_PG_URL`,
    );
  }
});
afterAll(async () => {
  if (!reachable) return; // beforeAll already failed the suite with the instruction
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

describeStoreContract('PostgresStore', () =>
  PostgresStore.open({ connectionString: URL_, schema: SCHEMA, tablePrefix: nextPrefix() }),
);

describe('PostgresStore on a real server', () => {
  it('creates its tables in the configured schema with the prefix, stories as jsonb', async () => {
    const prefix = nextPrefix();
    const store = await PostgresStore.open({ connectionString: URL_, schema: SCHEMA, tablePrefix: prefix });
    await store.save(makeStory({ id: 'j1' }));
    const cols = await admin.query<{ data_type: string }>(
      `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'story'`,
      [SCHEMA, `${prefix}stories`],
    );
    expect(cols.rows[0]?.data_type).toBe('jsonb');
    const viaJson = await admin.query<{ who: string }>(
      `SELECT story->'parties'->1->>'person' AS who FROM "${SCHEMA}"."${prefix}stories" WHERE id = 'j1'`,
    );
    expect(viaJson.rows[0]?.who).toBe('Alice');
    await store.close();
  });

  it('lets several engines open the same fresh schema at once (no CREATE race)', async () => {
    const prefix = nextPrefix();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () =>
        PostgresStore.open({ connectionString: URL_, schema: SCHEMA, tablePrefix: prefix }),
      ),
    );
    await Promise.all(stores.map((s, i) => s.save(makeStory({ id: `c${i}` }))));
    expect(await stores[0]!.count()).toBe(4);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('concurrent saves of one story keep the highest version', async () => {
    const store = await PostgresStore.open({
      connectionString: URL_,
      schema: SCHEMA,
      tablePrefix: nextPrefix(),
    });
    const versions = [3, 1, 5, 2, 4];
    await Promise.all(versions.map((v) => store.save(makeStory({ id: 'race', version: v, talkS: v }))));
    expect((await store.get('race'))?.version).toBe(5);
    expect(await store.count()).toBe(1);
    await store.close();
  });

  it('does not end a pool it was given', async () => {
    const pool = new pg.Pool({ connectionString: URL_, max: 2 });
    const store = await PostgresStore.open({ pool, schema: SCHEMA, tablePrefix: nextPrefix() });
    await store.save(makeStory({ id: 'p1' }));
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    await pool.end();
  });

  it('opens through openStore with ?schema=&prefix=', async () => {
    const prefix = nextPrefix();
    const store = await openStore(`${URL_}?schema=${SCHEMA}&prefix=${prefix}`);
    await store.save(makeStory({ id: 'o1' }));
    expect(store.description).toContain(`${SCHEMA}.${prefix}`);
    const found = await admin.query(`SELECT id FROM "${SCHEMA}"."${prefix}stories"`);
    expect(found.rows).toEqual([{ id: 'o1' }]);
    await store.close();
  });

  it('refuses tables written by a newer schema version', async () => {
    const prefix = nextPrefix();
    const store = await PostgresStore.open({ connectionString: URL_, schema: SCHEMA, tablePrefix: prefix });
    await store.close();
    await admin.query(`UPDATE "${SCHEMA}"."${prefix}meta" SET value = $1 WHERE key = 'schema_version'`, [
      String(POSTGRES_SCHEMA_VERSION + 1),
    ]);
    await expect(
      PostgresStore.open({ connectionString: URL_, schema: SCHEMA, tablePrefix: prefix }),
    ).rejects.toBeInstanceOf(StoreSchemaError);
  });

  it('refuses unsafe schema names and prefixes before connecting', async () => {
    await expect(PostgresStore.open({ connectionString: URL_, schema: 'a"; DROP' })).rejects.toBeInstanceOf(
      StoreConfigError,
    );
    await expect(PostgresStore.open({ connectionString: URL_, tablePrefix: 'X-' })).rejects.toThrow(/prefix/);
    await expect(PostgresStore.open({})).rejects.toThrow(/connectionString or pool/);
  });

  it('reports an unreachable server as StoreUnavailableError, password redacted', async () => {
    const err = await PostgresStore.open({
      connectionString: 'postgres://postgres:secret@127.0.0.1:1/test',
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/127\.0\.0\.1:1/);
    expect((err as Error).message).not.toContain('secret');
  });
});
