/** Store addresses: what `--db` accepts and the errors for what it does not. */
import { describe, expect, it } from 'vitest';
import { StoreConfigError } from './errors.js';
import { openStore, parseStoreAddress } from './open-store.js';
import { SqliteStore } from './sqlite-store.js';

describe('parseStoreAddress', () => {
  it.each([
    ['sqlite:cdr.db', { kind: 'sqlite', file: 'cdr.db' }],
    ['sqlite::memory:', { kind: 'sqlite', file: ':memory:' }],
    ['sqlite:///var/lib/xcc/cdr.db', { kind: 'sqlite', file: '/var/lib/xcc/cdr.db' }],
    ['/tmp/x.sqlite', { kind: 'sqlite', file: '/tmp/x.sqlite' }],
    ['data/cdr.db', { kind: 'sqlite', file: 'data/cdr.db' }],
    ['postgres://u@h:5432/db', { kind: 'postgres', connectionString: 'postgres://u@h:5432/db' }],
    [
      'postgresql://u:p@h/db?schema=cdr&prefix=x_&sslmode=require',
      {
        kind: 'postgres',
        connectionString: 'postgresql://u:p@h/db?sslmode=require',
        schema: 'cdr',
        tablePrefix: 'x_',
      },
    ],
  ])('%s', (address, expected) => {
    expect(parseStoreAddress(address)).toEqual(expected);
  });

  it.each(['', 'sqlite:', 'mysql://h/db', 'cdr', 'http://x/y.db'])(
    'rejects %j with StoreConfigError',
    (address) => {
      expect(() => parseStoreAddress(address)).toThrow(StoreConfigError);
    },
  );

  it('names the accepted forms in the error', () => {
    expect(() => parseStoreAddress('mysql://h/db')).toThrow(/sqlite:FILE.*postgres:\/\//);
  });
});

describe('openStore', () => {
  it('opens SQLite in memory', async () => {
    const store = await openStore('sqlite::memory:');
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store.description).toBe('sqlite::memory:');
    expect(await store.count()).toBe(0);
    await store.close();
  });
});
