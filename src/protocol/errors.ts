/**
 * One error class per failure kind. Each carries the wire `code` it stands for (a `result.code`, or a
 * JSON-RPC envelope code for `JsonRpcError`), the method that failed, and the `cause` when wrapping.
 */
import { Code } from './codes.js';

export interface XccErrorOptions {
  method?: string;
  /** Channel uuid the request addressed, when it had one. */
  uuid?: string;
  /** The full `result` object from the wire, if there was one. */
  result?: Record<string, unknown>;
  cause?: unknown;
}

export class XccError extends Error {
  override readonly name: string = 'XccError';
  readonly code: number;
  readonly method: string | undefined;
  readonly uuid: string | undefined;
  readonly result: Record<string, unknown> | undefined;

  constructor(code: number, message: string, options: XccErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.method = options.method;
    this.uuid = options.uuid;
    this.result = options.result;
  }
}

/** 400: missing or invalid params. */
export class BadRequestError extends XccError {
  override readonly name = 'BadRequestError';
}
/** 404: no such channel (already hung up, or never existed) or unsupported target. */
export class NotFoundError extends XccError {
  override readonly name = 'NotFoundError';
}
/** 410: interrupted — Stop was called or the far end hung up. */
export class CallGoneError extends XccError {
  override readonly name = 'CallGoneError';
}
/** 419: another controller owns the channel and takeover was not requested. */
export class ConflictError extends XccError {
  override readonly name = 'ConflictError';
}
/** 500: the node failed internally. */
export class InternalError extends XccError {
  override readonly name = 'InternalError';
}
/** 501: the node does not implement this method (the simulator says so instead of faking success). */
export class NotImplementedError extends XccError {
  override readonly name = 'NotImplementedError';
}
/** 6xx: the node is shutting down or otherwise unavailable. */
export class NodeUnavailableError extends XccError {
  override readonly name = 'NodeUnavailableError';
}
/** Any other non-2xx code (e.g. a Dial failing with a cause). `cause` names the hangup cause if any. */
export class CallFailedError extends XccError {
  override readonly name = 'CallFailedError';
  get hangupCause(): string | undefined {
    const c = this.result?.cause;
    return typeof c === 'string' ? c : undefined;
  }
}

/** No final answer within the timeout. The outcome on the node is unknown (seed 002). */
export class RpcTimeoutError extends XccError {
  override readonly name = 'RpcTimeoutError';
  constructor(method: string, timeoutMs: number, options: XccErrorOptions = {}) {
    super(408, `${method}: no answer within ${timeoutMs} ms; the outcome on the node is unknown`, {
      ...options,
      method,
    });
  }
}

/** Nobody subscribes to the subject the request went to. */
export class NoRespondersError extends XccError {
  override readonly name = 'NoRespondersError';
  constructor(subject: string, options: XccErrorOptions = {}) {
    super(503, `no responders on ${subject}`, options);
  }
}

/** The peer rejected the JSON-RPC envelope (-32700…-32000). */
export class JsonRpcError extends XccError {
  override readonly name = 'JsonRpcError';
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown, options: XccErrorOptions = {}) {
    super(code, message, options);
    this.data = data;
  }
}

/** The operation was cancelled locally (flow aborted, call destroyed, controller closing). */
export class CancelledError extends XccError {
  override readonly name = 'CancelledError';
  constructor(message = 'cancelled', options: XccErrorOptions = {}) {
    super(499, message, options);
  }
}

/** The one cancellation predicate: true for `CancelledError` and for DOM `AbortError`s. */
export function isCancellation(err: unknown): boolean {
  return (
    err instanceof CancelledError ||
    (err instanceof Error && err.name === 'AbortError') ||
    (typeof DOMException !== 'undefined' && err instanceof DOMException && err.name === 'AbortError')
  );
}

/** Maps a non-success `result` to its error class. Returns undefined for 1xx/2xx. */
export function errorForResult(method: string, result: Record<string, unknown>): XccError | undefined {
  const code = typeof result.code === 'number' ? result.code : Code.InternalError;
  if (code < 300) return undefined;
  const message = `${method}: ${code} ${typeof result.message === 'string' ? result.message : ''}`.trim();
  const options: XccErrorOptions = { method, result };
  if (typeof result.uuid === 'string') options.uuid = result.uuid;
  if (code === Code.BadRequest) return new BadRequestError(code, message, options);
  if (code === Code.NotFound) return new NotFoundError(code, message, options);
  if (code === Code.Gone) return new CallGoneError(code, message, options);
  if (code === Code.Conflict) return new ConflictError(code, message, options);
  if (code === Code.NotImplemented) return new NotImplementedError(code, message, options);
  if (code >= 600) return new NodeUnavailableError(code, message, options);
  if (code === Code.InternalError) return new InternalError(code, message, options);
  return new CallFailedError(code, message, options);
}
