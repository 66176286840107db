/**
 * protocol — the XCC wire: JSON-RPC envelope, method and event schemas, codes, states, subjects and
 * error classes. No I/O; imported by both ends, so there is one source of truth.
 */
export * from './codes.js';
export * from './envelope.js';
export * from './errors.js';
export * from './logger.js';
export * from './states.js';
export * from './subjects.js';
export * from './schemas/index.js';
