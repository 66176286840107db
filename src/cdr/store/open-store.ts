/**
 * `openStore(address)`: one string picks and opens a store, as the CLI's `--db` and config files give
 * it: `sqlite:FILE`, `sqlite::memory:`, a bare `*.db`/`*.sqlite` path, or `postgres://…` (query
 * options `schema` and `prefix` choose where the tables go).
 */
import type { CallStory } from '../story.js';
import { StoreConfigError } from './errors.js';
import { PostgresStore, redact } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';
import type { StorableStory } from './story-columns.js';

/** A parsed store address. */
export type StoreAddress =
  | { readonly kind: 'sqlite'; readonly file: string }
  | {
      readonly kind: 'postgres';
      readonly connectionString: string;
      readonly schema?: string;
      readonly tablePrefix?: string;
    };

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Open SQLite read-only (queries only; the file must exist). Default false. */
  readonly?: boolean;
}

/**
 * Parses a store address.
 *
 * @throws StoreConfigError saying what forms are accepted.
 * @example
 * parseStoreAddress('postgres://postgres@127.0.0.1/test?schema=cdr&prefix=x_')
 * // { kind: 'postgres', connectionString: 'postgres://postgres@127.0.0.1/test', schema: 'cdr', tablePrefix: 'x_' }
 */
export function parseStoreAddress(address: string): StoreAddress {
  const text = address.trim();
  if (text.startsWith('sqlite:')) {
    const file = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file.length === 0)
      throw new StoreConfigError('sqlite: needs a file name (sqlite:cdr.db or sqlite::memory:)');
    return { kind: 'sqlite', file };
  }
  if (text.startsWith('postgres://') || text.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new StoreConfigError(`not a valid PostgreSQL URL: ${text.replace(/:[^:@/]*@/, ':***@')}`);
    }
    const schema = url.searchParams.get('schema');
    const prefix = url.searchParams.get('prefix');
    url.searchParams.delete('schema');
    url.searchParams.delete('prefix');
    return {
      kind: 'postgres',
      connectionString: url.toString(),
      ...(schema === null ? {} : { schema }),
      ...(prefix === null ? {} : { tablePrefix: prefix }),
    };
  }
  if (/\.(db|sqlite3?)$/i.test(text) && !text.includes('://')) return { kind: 'sqlite', file: text };
  throw new StoreConfigError(
    `unknown store ${JSON.stringify(address)}: use sqlite:FILE, sqlite::memory: or postgres://user@host/db`,
  );
}

/**
 * Opens the store an address names.
 *
 * @example
 * const store = await openStore('sqlite:cdr.db');
 */
export async function openStore<S extends StorableStory = CallStory>(
  address: string,
  options: OpenStoreOptions = {},
): Promise<Store<S>> {
  const parsed = parseStoreAddress(address);
  switch (parsed.kind) {
    case 'sqlite':
      return SqliteStore.open<S>({ file: parsed.file, readonly: options.readonly ?? false });
    case 'postgres':
      return PostgresStore.open<S>({
        connectionString: parsed.connectionString,
        ...(parsed.schema === undefined ? {} : { schema: parsed.schema }),
        ...(parsed.tablePrefix === undefined ? {} : { tablePrefix: parsed.tablePrefix }),
      });
  }
}

/** The address as it may appear in logs and errors: a PostgreSQL password becomes `***`. */
export function redactStoreAddress(address: string): string {
  return /^postgres(ql)?:\/\//.test(address.trim()) ? redact(address.trim()) : address;
}
