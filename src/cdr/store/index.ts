/**
 * cdr/store — where call stories are kept (SQLite, PostgreSQL, behind one `Store` interface) and how
 * they are published on the bus (`StoryPublisher`). See docs/cdr-store.md.
 */
export {
  CdrStoreError,
  StoreClosedError,
  StoreConfigError,
  StoreDataError,
  StoreQueryError,
  StoreSchemaError,
  StoreUnavailableError,
} from './errors.js';
export {
  type OpenStoreOptions,
  openStore,
  parseStoreAddress,
  redactStoreAddress,
  type StoreAddress,
} from './open-store.js';
export { POSTGRES_SCHEMA_VERSION, PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { SQLITE_SCHEMA_VERSION, SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  type SaveOutcome,
  type Store,
  type StoryFilter,
  type StoryPage,
} from './store.js';
export { type StorableStory, storyColumns } from './story-columns.js';
export {
  decodeStory,
  type PublishFn,
  StoryPublishError,
  StoryPublisher,
  type StoryPublisherOptions,
  storySubject,
} from './story-publisher.js';
