/**
 * cdr — the call-story engine (seeds/001_*): turns low-level switch events (FreeSWITCH ESL, XCC) into one
 * story per call. Inputs (ESL parser and client, replay files) → router (correlation, reorder buffer,
 * dedup, finalisation on the Clock) → pattern extractors → enrichment → stories, kept in a Store
 * (SQLite or PostgreSQL). Imports only `protocol` and `clock`.
 */
export * from './directory.js';
export * from './engine.js';
export * from './extractors/index.js';
export * from './input/index.js';
export * from './router/index.js';
export * from './store/index.js';
export * from './story.js';
