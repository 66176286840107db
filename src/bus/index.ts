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
  claimKey,
  DEFAULT_CLAIM_BUCKET,
  DEFAULT_CLAIM_BUCKET_TTL_MS,
  KvClaimStore,
  KvClaimStoreError,
  type KvClaimStoreOptions,
} from './kv-claim-store.js';
export {
  BusConnectError,
  type BusConnectFailure,
  NatsBus,
  type NatsBusOptions,
  type NatsBusTlsOptions,
} from './nats-bus.js';
export { hasWildcard, isValidPattern, isValidSubject, matchSubject, matchTokens } from './subject-match.js';
export { WrappedBus } from './wrapped-bus.js';
export {
  type CdrStreamOptions,
  type CdrStreamState,
  DEFAULT_CDR_MAX_AGE_MS,
  DEFAULT_CDR_STREAM,
  DurableConsumer,
  type DurableConsumerOptions,
  type DurableConsumerStats,
  type DurableHandler,
  type DurableMsg,
  type DurableStreamFailure,
  DurableStreamError,
  ensureCdrStream,
} from './durable-stream.js';
export {
  ALL_TRAFFIC,
  FaultBus,
  type FaultBusOptions,
  type FaultRule,
  type FaultStats,
  type FaultTraffic,
  InvalidFaultRuleError,
} from './fault-bus.js';
