/**
 * The public shape of the RPC layer (first layer: no retransmission yet — see `RetryPolicy`, the seam
 * for the seed-004 reliability layer).
 */
import type { RpcResponse } from '../protocol/envelope.js';
import type { Logger } from '../protocol/logger.js';
import type { IGNORE } from './ignore.js';
import type { OriginatorReliability, ResponderReliability } from './reliability.js';

/** What a method handler on the server (node) side returns: the XCC `result` object. */
export type ResultObject = Record<string, unknown> & { code: number; message: string };

export interface RpcContext {
  /** The request id (absent for fire-and-forget notifications-as-calls). */
  readonly id: string | undefined;
  readonly method: string;
  /** The controller that sent it, from `params.ctrl_uuid`, if any. */
  readonly ctrlUuid: string | undefined;
  /** The subject the request arrived on. */
  readonly subject: string;
  /** Aborted when the server stops. */
  readonly signal: AbortSignal;
  /**
   * Sends a provisional `rpc.progress {id, status: 202}` (accepted, result later) at once; the originator
   * moves to its long timer. Only in reliable mode for a request with an id and a `ctrl_uuid`; returns
   * false (nothing sent) otherwise, or when the pending limit is passed.
   */
  readonly accepted?: () => boolean;
}

/**
 * A method handler. Params have already been validated against the method's schema by the server.
 * Throwing is an internal error (-32603 is NOT used: the server answers `result.code` 500 and logs).
 */
export type MethodHandler = (
  params: Record<string, unknown>,
  ctx: RpcContext,
) => Promise<ResultObject | typeof IGNORE>;

/** Why a response reached `onUnexpected` (absent: unknown or already settled id). */
export type UnexpectedReason = 'UNKNOWN_ID' | 'WRONG_PEER';

export interface RpcServerOptions {
  /** Subjects to serve, e.g. `[{subject: 'cn.xswitch.node', queue: 'xnode'}, {subject: 'cn.xswitch.node.<uuid>'}]`. */
  subjects: { subject: string; queue?: string }[];
  /** Method name → handler. Unknown methods get JSON-RPC -32601. */
  handlers: Record<string, MethodHandler>;
  /**
   * Validates params for a known method: returns the parsed params or an error message naming the bad
   * field (answered as -32602).
   */
  validate?: (
    method: string,
    params: unknown,
  ) => { ok: true; params: Record<string, unknown> } | { ok: false; message: string };
  /** Maps a ctrl_uuid to the subject async results go to (`cn.xswitch.ctrl.<ctrl_uuid>`). */
  ctrlSubject: (ctrlUuid: string) => string;
  /**
   * Which requests honour `expect_100_trying` (seed 002): answer 100 at once, final result to the ctrl
   * subject. A set of method names, or a predicate when it depends on params (Record: only action RECORD).
   */
  trying?: ReadonlySet<string> | ((method: string, params: Record<string, unknown>) => boolean);
  /** Largest accepted request in bytes (default 1 MiB). */
  maxMessageBytes?: number;
  /** Added as `node_uuid` to the results the server makes itself (100 Trying, 400, 500). Default: none. */
  nodeUuid?: string;
  /**
   * Opt-in seed-004 responder: a reply cache keyed by request id (duplicates during work get a 100,
   * after the answer the cached bytes). Default: off (every request runs). Validated at construction.
   */
  reliability?: ResponderReliability;
  logger?: Logger;
}

export interface CallOptions {
  /** How long to wait for the final result (default: the method's default timeout). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * `sync` (default): NATS request/reply. `async`: publish with an id; the result arrives on our own
   * ctrl subject. `notify`: publish without id; no result (resolves when published).
   */
  mode?: 'sync' | 'async' | 'notify';
  /** Ask for an immediate 100 Trying; the final result then arrives on the ctrl subject. */
  expect100?: boolean;
}

/** Seam for the seed-004 reliability layer: decides resends. The first layer never resends. */
export interface RetryPolicy {
  /** Delay before the n-th resend (1-based), or undefined to stop resending. */
  resendDelay(attempt: number): number | undefined;
}

export interface RpcClientOptions {
  ctrlUuid: string;
  /** Our own subject (`cn.xswitch.ctrl.<ctrl_uuid>`): async results arrive here. */
  ownSubject: string;
  /** Messages on our own subject that are not responses (events, node→ctrl requests). */
  onMessage?: (decoded: {
    method: string;
    params: Record<string, unknown>;
    id?: string;
    reply?: string;
  }) => void;
  retry?: RetryPolicy;
  /**
   * Responses on our own subject whose id is unknown or already settled (timed out, cancelled): e.g.
   * the late answer of a Dial that timed out, so the caller can hang the created leg up.
   * Default: a `logger.warn` line.
   */
  onUnexpected?: (response: RpcResponse, info?: { reason: UnexpectedReason }) => void;
  /** Timeout of a call without `timeoutMs` (default 5000 ms). */
  defaultTimeoutMs?: number;
  /** Id source (default `createIdGenerator()`; replaced by transaction ids when `reliability` is set). */
  ids?: () => string;
  /**
   * Opt-in seed-004 originator: every call (sync or async) is sent in async mode with a transaction id
   * and resent on timers until a final answer; `timeoutMs` is then ignored. Default: off.
   */
  reliability?: OriginatorReliability;
  logger?: Logger;
}
