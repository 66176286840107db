/**
 * cdr/router — correlation of switch events into calls: de-duplication, the reorder buffer, leg
 * facts and links, the party resolver, and the stateful `Router`.
 */
export { Deduplicator, eventKey } from './dedup.js';
export {
  applyToLeg,
  END_EVENTS,
  isLegId,
  type LegFacts,
  legIdOf,
  type Link,
  type LinkKind,
  linksOf,
  newLeg,
} from './leg.js';
export {
  cleanValue,
  isNumberLike,
  partyIdOf,
  type RawParty,
  type ResolvedParty,
  resolveParty,
} from './party-resolver.js';
export { compareOrdered, type Ordered, ReorderBuffer, type ReorderBufferOptions } from './reorder-buffer.js';
export { type ReadyCall, Router, type RouterOptions, type RouterStats } from './router.js';
