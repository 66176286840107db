/**
 * rpc — JSON-RPC 2.0 sessions over a Bus: `RpcServer` (node side), `RpcClient` (controller side),
 * request ids, and the event publishing helper. The opt-in `reliability` option of both adds the
 * seed-004 transaction layer (transaction ids, resends, provisional answers, reply cache).
 */
export {
  ACK_METHOD,
  type AckError,
  type AckInfo,
  type AckMode,
  AckWaiters,
  compressSerials,
  DEFAULT_ACK_TIMER,
  parseAck,
} from './acks.js';
export { DEFAULT_CALL_TIMEOUT_MS, PROGRESS_METHOD, RpcClient } from './client.js';
export {
  ClaimGate,
  type ClaimResult,
  type ClaimStats,
  type ClaimStore,
  type ClaimStoreFailurePolicy,
  ClaimTimeoutError,
  type ClaimVerdict,
  claimProblems,
  claimTtlMs,
  DEFAULT_CLAIM_MAX_RUN_MS,
  DEFAULT_CLAIM_TIMEOUT_MS,
  MemoryClaimStore,
  type ResponderClaims,
} from './claims.js';
export {
  PENDING_LIMIT_CODE,
  PendingLimitError,
  RpcConfigError,
  SEGMENTS_MISSING_CODE,
  SegmentsMissingError,
} from './errors.js';
export { DISCONNECTED_CODE, DisconnectedError, type DisconnectPolicy } from './disconnect.js';
export { createIdGenerator } from './id.js';
export { IGNORE } from './ignore.js';
export { DEFAULT_PENDING_TIMER, ProgressTimers } from './progress.js';
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
  DEFAULT_SEGMENT_RECV_TIMER_MS,
  isSegmentResult,
  MIN_SEGMENT_BYTES,
  parseSegment,
  Reassembly,
  SEGACK_METHOD,
  SEGERR_METHOD,
  type SegmentationOptions,
  type SegmentInfo,
  SegmentReceiver,
  SegmentSender,
  splitResult,
} from './segment.js';
export {
  DEFAULT_TRANS_MAX_ACKS,
  DEFAULT_TRANS_MAX_BYTES,
  DEFAULT_TRANS_MAX_REQUESTS,
  DEFAULT_TRANS_TIMER_MS,
  TransSender,
  type TransSenderOptions,
  type TransSenderStats,
} from './trans-sender.js';
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
  UnexpectedReason,
} from './types.js';
