/**
 * rpc — JSON-RPC 2.0 sessions over a Bus: `RpcServer` (node side), `RpcClient` (controller side),
 * request ids, and the event publishing helper. The opt-in `reliability` option of both adds the
 * seed-004 transaction layer (transaction ids, resends, provisional answers, reply cache).
 */
export { DEFAULT_CALL_TIMEOUT_MS, PROGRESS_METHOD, RpcClient } from './client.js';
export { PENDING_LIMIT_CODE, PendingLimitError, RpcConfigError } from './errors.js';
export { createIdGenerator } from './id.js';
export {
  DEFAULT_PENDING_LIMIT,
  DEFAULT_REPLY_CACHE_TTL_MS,
  DEFAULT_TRANSIT_MS,
  newEpoch,
  type OriginatorReliability,
  type OriginatorTimers,
  originatorWindowMs,
  parseTransactionId,
  type ResponderReliability,
  transactionIds,
  validateOriginatorReliability,
  validateResponderReliability,
} from './reliability.js';
export type { ReplyEntry } from './reply-cache.js';
export { publishEvent, RpcServer } from './server.js';
export {
  DEFAULT_LONG_REQUEST_TIMER,
  DEFAULT_REQUEST_TIMER,
  type IncrementalTimer,
  LegTimer,
  timerLegs,
  timerWindowMs,
} from './timers.js';
export type {
  CallOptions,
  MethodHandler,
  ResultObject,
  RetryPolicy,
  RpcClientOptions,
  RpcContext,
  RpcServerOptions,
} from './types.js';
