/**
 * JSON-RPC 2.0 envelope: pure encode/decode, no I/O. XCC uses string ids only; a message with
 * `method` and no `id` is a notification (an event); `result` or `error` makes it a response.
 */
import { RpcErrorCode } from './codes.js';

export interface RpcRequest {
  jsonrpc: '2.0';
  /** Absent for notifications (events, fire-and-forget calls). */
  id?: string;
  method: string;
  params?: Record<string, unknown>;
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcResultResponse {
  jsonrpc: '2.0';
  id: string;
  result: Record<string, unknown>;
}

export interface RpcErrorResponse {
  jsonrpc: '2.0';
  id: string | null;
  error: RpcErrorObject;
}

export type RpcResponse = RpcResultResponse | RpcErrorResponse;

export type Decoded =
  | { kind: 'request'; message: RpcRequest & { id: string } }
  | { kind: 'notification'; message: RpcRequest }
  | { kind: 'response'; message: RpcResponse }
  /** A JSON array: a JSON-RPC batch. Items are decoded one by one. */
  | { kind: 'batch'; items: Decoded[] }
  /** Not a valid envelope: `error` is what to answer (if `id` is known, to that id). */
  | { kind: 'invalid'; id: string | null; error: RpcErrorObject };

/** Default largest message we accept: 1 MiB (NATS' default max_payload). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encode(message: RpcRequest | RpcResponse | RpcRequest[] | RpcResponse[]): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

export function request(method: string, params: Record<string, unknown>, id?: string): RpcRequest {
  return id === undefined ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id, method, params };
}

export function resultResponse(id: string, result: Record<string, unknown>): RpcResultResponse {
  return { jsonrpc: '2.0', id, result };
}

export function errorResponse(id: string | null, error: RpcErrorObject): RpcErrorResponse {
  return { jsonrpc: '2.0', id, error };
}

/** Decodes bytes from the bus. Never throws: problems come back as `{kind:'invalid'}`. */
export function decode(bytes: Uint8Array, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Decoded {
  if (bytes.byteLength > maxBytes) {
    return invalid(
      null,
      RpcErrorCode.InvalidRequest,
      `message of ${bytes.byteLength} bytes exceeds ${maxBytes}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    return invalid(null, RpcErrorCode.ParseError, `parse error: ${(err as Error).message}`);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return invalid(null, RpcErrorCode.InvalidRequest, 'empty batch');
    return { kind: 'batch', items: value.map(classify) };
  }
  return classify(value);
}

/** Classifies an already-parsed JSON value. */
export function classify(value: unknown): Decoded {
  if (typeof value !== 'object' || value === null) {
    return invalid(null, RpcErrorCode.InvalidRequest, 'message must be a JSON object');
  }
  const m = value as Record<string, unknown>;
  const rawId = m.id;
  if (rawId !== undefined && rawId !== null && typeof rawId !== 'string') {
    return invalid(null, RpcErrorCode.InvalidRequest, '"id" must be a string');
  }
  const id = typeof rawId === 'string' ? rawId : null;
  if (m.jsonrpc !== '2.0') return invalid(id, RpcErrorCode.InvalidRequest, '"jsonrpc" must be "2.0"');
  if ('result' in m || 'error' in m) {
    if ('error' in m) {
      const e = m.error as Record<string, unknown> | null;
      if (
        typeof e !== 'object' ||
        e === null ||
        typeof e.code !== 'number' ||
        typeof e.message !== 'string'
      ) {
        return invalid(id, RpcErrorCode.InvalidRequest, '"error" must have a numeric code and a message');
      }
      return { kind: 'response', message: { jsonrpc: '2.0', id, error: e as unknown as RpcErrorObject } };
    }
    if (id === null) return invalid(null, RpcErrorCode.InvalidRequest, 'response without "id"');
    if (typeof m.result !== 'object' || m.result === null || Array.isArray(m.result)) {
      return invalid(id, RpcErrorCode.InvalidRequest, '"result" must be an object');
    }
    return {
      kind: 'response',
      message: { jsonrpc: '2.0', id, result: m.result as Record<string, unknown> },
    };
  }
  if (typeof m.method !== 'string' || m.method.length === 0) {
    return invalid(id, RpcErrorCode.InvalidRequest, '"method" must be a non-empty string');
  }
  const params = m.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return invalid(id, RpcErrorCode.InvalidParams, '"params" must be an object');
  }
  const message: RpcRequest = { jsonrpc: '2.0', method: m.method, params: params as Record<string, unknown> };
  if (id === null) return { kind: 'notification', message };
  message.id = id;
  return { kind: 'request', message: message as RpcRequest & { id: string } };
}

function invalid(id: string | null, code: number, message: string): Decoded {
  return { kind: 'invalid', id, error: { code, message } };
}
