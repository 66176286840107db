/**
 * cdr — the call-story engine (seeds/001_*): turns switch events into one record per call. So far
 * only its inputs exist (ESL parser and client, replay files); the router, patterns and stores come next.
 * Imports only `protocol` and `clock`.
 */
export * from './input/index.js';
