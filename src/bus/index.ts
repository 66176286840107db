/**
 * bus — the message bus with NATS semantics. `NatsBus` on the official client for distributed mode,
 * `MemoryBroker`/`MemoryBus` in one process for the embedded mode and tests.
 */
export type { Bus, BusMsg, RequestOptions, SubscribeOptions, Subscription } from './bus.js';
export {
  BusClosedError,
  BusError,
  BusNoRespondersError,
  BusTimeoutError,
  InvalidSubjectError,
  PayloadTooLargeError,
} from './errors.js';
export {
  DEFAULT_MAX_PAYLOAD,
  type BusTimerSource,
  MemoryBroker,
  type MemoryBrokerOptions,
  type MemoryBrokerStats,
  MemoryBus,
} from './memory-bus.js';
export {
  BusConnectError,
  type BusConnectFailure,
  NatsBus,
  type NatsBusOptions,
  type NatsBusTlsOptions,
} from './nats-bus.js';
export { hasWildcard, isValidPattern, isValidSubject, matchSubject, matchTokens } from './subject-match.js';
export {
  ALL_TRAFFIC,
  FaultBus,
  type FaultBusOptions,
  type FaultRule,
  type FaultStats,
  type FaultTraffic,
  InvalidFaultRuleError,
} from './fault-bus.js';
