/**
 * Request ids: unique across generators and process restarts without coordination. An id is the
 * generator's creation time (epoch ms, base36), a random part, and a per-generator counter.
 */
import { randomBytes } from 'node:crypto';

/** Generators made so far in this process: part of the random prefix so two made in the same ms differ. */
let generators = 0;

/**
 * Returns a function producing a fresh id on every call.
 *
 * @param prefix prepended verbatim (e.g. a controller name), default none.
 * @example
 * const nextId = createIdGenerator('ctrl-');
 * nextId(); // 'ctrl-mjs1x2k0-4f9a1c2b0-1'
 */
export function createIdGenerator(prefix = ''): () => string {
  // Random bytes make ids from different processes (or restarts within one ms) differ; the process-wide
  // generator number makes two generators of this process differ even if the random parts collided.
  const head = `${prefix}${Date.now().toString(36)}-${randomBytes(5).toString('hex')}${(generators++).toString(36)}-`;
  let counter = 0;
  return () => `${head}${(++counter).toString(36)}`;
}
