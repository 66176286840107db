/**
 * cdr/router — correlation of switch events into calls: de-duplication, the reorder buffer, leg
 * facts and links, the party resolver, and the stateful `Router`.
 */
// The compact event lives with the input model; the router is its user, so it is exported here.
export {
  type CompactOptions,
  CompactSwitchEvent,
  compactEvent,
  HeaderSelection,
} from '../input/switch-event.js';
export { DeadlineHeap, type HeapItem } from './deadline-heap.js';
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
  replacedCallId,
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
export { ROUTED_HEADERS, ROUTED_PREFIXES, ROUTED_SELECTION } from './routed-headers.js';
export { type ReadyCall, Router, type RouterOptions, type RouterStats } from './router.js';
