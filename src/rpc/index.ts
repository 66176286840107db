/**
 * rpc — JSON-RPC 2.0 sessions over a Bus: `RpcServer` (node side), `RpcClient` (controller side),
 * request ids, and the event publishing helper. First layer: no resends yet (`RetryPolicy` is the seam).
 */
export { DEFAULT_CALL_TIMEOUT_MS, RpcClient } from './client.js';
export { createIdGenerator } from './id.js';
export { publishEvent, RpcServer } from './server.js';
export type {
  CallOptions,
  MethodHandler,
  ResultObject,
  RetryPolicy,
  RpcClientOptions,
  RpcContext,
  RpcServerOptions,
} from './types.js';
