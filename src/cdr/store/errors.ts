/**
 * Failures of the CDR story stores, one class per kind: a bad store address or option, a database that
 * cannot be reached, a story or stored row that is not usable, a bad query, a schema newer than this
 * code, and use after `close()`. Each message is one line an operator can act on.
 */

/** Base class of every store failure. */
export class CdrStoreError extends Error {
  override readonly name: string = 'CdrStoreError';
}

/** A store address (`sqlite:FILE`, `postgres://…`) or option that cannot be used. */
export class StoreConfigError extends CdrStoreError {
  override readonly name = 'StoreConfigError';
}

/** The database could not be opened or reached (file permissions, PostgreSQL down, auth refused). */
export class StoreUnavailableError extends CdrStoreError {
  override readonly name = 'StoreUnavailableError';
}

/** A story handed to `save` lacks what the store indexes, or a stored row is not a readable story. */
export class StoreDataError extends CdrStoreError {
  override readonly name = 'StoreDataError';
}

/** A `list`/`count` filter out of range (negative offset, limit 0, from after to…). */
export class StoreQueryError extends CdrStoreError {
  override readonly name = 'StoreQueryError';
}

/** The database holds a schema version this code does not know (written by a newer OpenXCC). */
export class StoreSchemaError extends CdrStoreError {
  override readonly name = 'StoreSchemaError';
  constructor(
    readonly found: number,
    readonly supported: number,
    where: string,
  ) {
    super(
      `${where} has CDR schema version ${found}, newer than this OpenXCC supports (${supported}); upgrade OpenXCC`,
    );
  }
}

/** The store was closed; it answers nothing more. */
export class StoreClosedError extends CdrStoreError {
  override readonly name = 'StoreClosedError';
  constructor() {
    super('the CDR store is closed');
  }
}

/** One line for any thrown value, with the driver's message (no stack). */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
