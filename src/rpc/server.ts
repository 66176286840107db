/**
 * The node side of JSON-RPC over a Bus: decodes requests, rejects bad envelopes with JSON-RPC errors,
 * validates params, runs handlers concurrently (no head-of-line blocking), and routes each answer to
 * the reply inbox or, for async calls, to the calling controller's subject. Also owns the
 * `expect_100_trying` protocol (seed 002): 100 at once, the final response later on the ctrl subject.
 * With the opt-in `reliability` option it is a seed-004 responder: a reply cache keyed by request id
 * answers duplicates (100 while working, the cached bytes after) instead of running them again.
 */
import { setMaxListeners } from 'node:events';
import type { Bus, BusMsg, Subscription } from '../bus/index.js';
import type { Clock } from '../clock/index.js';
import { Code, RpcErrorCode } from '../protocol/codes.js';
import {
  type Decoded,
  DEFAULT_MAX_MESSAGE_BYTES,
  decode,
  encode,
  errorResponse,
  type RpcErrorObject,
  type RpcRequest,
  type RpcResponse,
  request,
  resultResponse,
} from '../protocol/envelope.js';
import { type Logger, silentLogger } from '../protocol/logger.js';
import {
  ACK_METHOD,
  ACK_REQUIRED_FIELD,
  ACK_TO_FIELD,
  type AckMode,
  AckWaiters,
  applyAck,
  DEFAULT_ACK_TIMER,
  parseAck,
} from './acks.js';
import { ClaimGate, type ClaimStats } from './claims.js';
import { PROGRESS_METHOD } from './client.js';
import { IGNORE } from './ignore.js';
import { DEFAULT_PENDING_TIMER, ProgressTimers } from './progress.js';
import { TransSender } from './trans-sender.js';
import { PENDING_LIMIT_CODE } from './errors.js';
import {
  DEFAULT_PENDING_LIMIT,
  DEFAULT_REPLY_CACHE_TTL_MS,
  type ResponderReliability,
  validateResponderReliability,
} from './reliability.js';
import { type ReplyEntry, ReplyCache } from './reply-cache.js';
import { SegmentSender } from './segment.js';
import type { MethodHandler, ResultObject, RpcContext, RpcServerOptions } from './types.js';

/**
 * The controller whose signal every handler gets (`ctx.signal`, aborted by `stop`). Each in-flight
 * handler may listen on it (a Dial cancels its ringing legs), so it has no listener limit: a node
 * with a dozen Dials ringing is normal, not Node's "possible EventTarget memory leak".
 */
function handlerAbort(): AbortController {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  return abort;
}

/** What processing one envelope item produced to answer right away (undefined: nothing). */
type Immediate = RpcResponse | undefined;

/**
 * Serves XCC methods on a Bus.
 *
 * @example
 * const server = new RpcServer(bus, clock, {
 *   subjects: [{ subject: s.node, queue: QueueGroup.node }, { subject: s.nodeOf(nodeUuid) }],
 *   handlers: { 'XNode.Answer': answer },
 *   ctrlSubject: s.ctrlOf,
 *   trying: new Set(['XNode.Play']),
 * });
 * server.start();
 * // …
 * await server.stop();
 */
export class RpcServer {
  readonly #bus: Bus;
  readonly #options: RpcServerOptions;
  readonly #logger: Logger;
  readonly #maxBytes: number;
  readonly #trying: (method: string, params: Record<string, unknown>) => boolean;
  readonly #subs: Subscription[] = [];
  readonly #inflight = new Set<Promise<void>>();
  readonly #reliability: ResponderReliability | undefined;
  readonly #cache: ReplyCache | undefined;
  /** Queue-group claims (reliability.claims); requests from queue subscriptions are marked in #grouped. */
  readonly #claims: ClaimGate | undefined;
  /** Splits oversize final answers into acknowledged segments (reliability.segmentation). */
  readonly #segmenter: SegmentSender | undefined;
  readonly #grouped = new WeakSet<BusMsg>();
  /** Replies waiting for an ack, pending timers of running handlers, the transaction sender (reliability). */
  readonly #acks: AckWaiters | undefined;
  readonly #progress: ProgressTimers | undefined;
  readonly #sender: TransSender | undefined;
  readonly #ownSender: boolean;
  readonly #ackSubject: string | undefined;
  #abort = handlerAbort();
  #started = false;

  /**
   * @param clock runs the reply cache TTLs (reliability on); the first layer sets no timers.
   * @throws RpcConfigError when `options.reliability` is invalid (e.g. a TTL shorter than the
   *   originator's resend window).
   */
  constructor(bus: Bus, clock: Clock, options: RpcServerOptions) {
    this.#bus = bus;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const trying = options.trying ?? new Set<string>();
    this.#trying = typeof trying === 'function' ? trying : (method) => trying.has(method);
    this.#reliability = options.reliability;
    if (options.reliability) {
      validateResponderReliability(options.reliability);
      this.#cache = new ReplyCache(clock, options.reliability.replyCacheTtlMs ?? DEFAULT_REPLY_CACHE_TTL_MS);
    } else {
      this.#cache = undefined;
    }
    const rel = options.reliability;
    this.#acks =
      rel &&
      new AckWaiters(clock, rel.ackTimer ?? DEFAULT_ACK_TIMER, (info) => rel.onAck?.(info), this.#logger);
    const pendingTimer = rel?.pendingTimer === true ? DEFAULT_PENDING_TIMER : rel?.pendingTimer;
    this.#progress = pendingTimer ? new ProgressTimers(clock, pendingTimer) : undefined;
    this.#ownSender = rel?.batching !== undefined && !(rel.batching instanceof TransSender);
    this.#sender =
      rel?.batching === undefined || rel.batching instanceof TransSender
        ? rel?.batching
        : new TransSender((s, b) => bus.publish(s, b), clock, rel.batching, this.#logger);
    this.#ackSubject =
      rel?.ackSubject ??
      options.subjects.find((s) => s.queue === undefined)?.subject ??
      options.subjects[0]?.subject;
    const claims = options.reliability?.claims;
    this.#claims =
      claims &&
      new ClaimGate(bus, clock, claims, {
        subjects: options.subjects,
        replyCacheTtlMs: options.reliability?.replyCacheTtlMs ?? DEFAULT_REPLY_CACHE_TTL_MS,
        logger: this.#logger,
      });
    const segmentation = options.reliability?.segmentation;
    this.#segmenter =
      segmentation &&
      new SegmentSender(bus, clock, {
        ...segmentation,
        holdMs: options.reliability?.replyCacheTtlMs ?? DEFAULT_REPLY_CACHE_TTL_MS,
        logger: this.#logger,
      });
  }

  /** Counters of queue-group claims (undefined without `reliability.claims`). */
  get claimStats(): Readonly<ClaimStats> | undefined {
    return this.#claims?.stats;
  }

  /** Transactions held by the reply cache (0 without reliability). */
  get cachedReplies(): number {
    return this.#cache?.size ?? 0;
  }

  /** The reply cache entry of a transaction id (reliability on), for inspection. */
  replyEntry(id: string): ReplyEntry | undefined {
    return this.#cache?.get(id);
  }

  /** Requests being handled right now (including finals still owed after a 100 Trying). */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Subscribes the configured subjects. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#abort = handlerAbort();
    this.#segmenter?.start();
    for (const { subject, queue } of this.#options.subjects) {
      const callback = (msg: BusMsg): void => {
        if (queue !== undefined && this.#claims) this.#grouped.add(msg);
        this.#onMessage(msg);
      };
      this.#subs.push(this.#bus.subscribe(subject, queue === undefined ? { callback } : { queue, callback }));
    }
  }

  /** Unsubscribes, aborts the signal of every in-flight handler, and waits for them to finish. */
  async stop(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      for (const sub of this.#subs.splice(0)) sub.unsubscribe();
      this.#abort.abort(new Error('rpc server stopped'));
    }
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    this.#progress?.clear();
    this.#claims?.close();
    this.#acks?.cancelAll();
    if (this.#ownSender) this.#sender?.close();
    this.#cache?.clear();
    this.#segmenter?.stop();
  }

  #track(work: Promise<void>): void {
    this.#inflight.add(work);
    // #process never rejects (every failure becomes an answer or a log line); the finally only untracks.
    void work.finally(() => this.#inflight.delete(work));
  }

  #onMessage(msg: BusMsg): void {
    // Belt and braces: #process turns every failure into an answer; a bug must still not become an
    // unhandled rejection that takes the node down.
    this.#track(
      this.#process(msg).catch((err: unknown) =>
        this.#logger.error({ err }, 'rpc: request processing failed'),
      ),
    );
  }

  async #process(msg: BusMsg): Promise<void> {
    const decoded = decode(msg.data, this.#maxBytes);
    switch (decoded.kind) {
      case 'batch': {
        const answers = await Promise.all(decoded.items.map((item) => this.#batchItem(item, msg)));
        const responses = answers.filter((a): a is RpcResponse => a !== undefined);
        if (responses.length === 0) return;
        if (msg.reply !== undefined) {
          this.#respond(msg, responses);
          return;
        }
        // No inbox: each answer goes to its own controller's subject, one by one.
        for (const response of responses) {
          const item = decoded.items.find((d) => d.kind === 'request' && d.message.id === response.id);
          const ctrlUuid = item?.kind === 'request' ? ctrlUuidOf(item.message.params) : undefined;
          this.#sendToCtrl(ctrlUuid, response);
        }
        return;
      }
      case 'invalid':
        this.#invalid(msg, decoded.id, decoded.error);
        return;
      case 'request':
        if (this.#cache) {
          await this.#reliable(this.#cache, decoded.message, msg);
          return;
        }
        break;
      case 'notification':
        if (this.#cache && decoded.message.method === ACK_METHOD) {
          this.#onAck(this.#cache, decoded.message.params ?? {}, msg.subject);
          return;
        }
        break;
      case 'response':
        break;
    }
    const answer = await this.#item(decoded, msg);
    if (answer !== undefined) this.#route(msg, decoded, answer);
  }

  /** Handles one envelope item; returns what to answer at once (the caller routes it). */
  async #item(decoded: Decoded, msg: BusMsg): Promise<Immediate> {
    switch (decoded.kind) {
      case 'invalid':
        this.#logger.warn({ subject: msg.subject, error: decoded.error }, 'rpc: invalid request');
        return errorResponse(decoded.id, decoded.error);
      case 'batch':
        // A nested array is not a valid batch item.
        this.#logger.warn({ subject: msg.subject }, 'rpc: nested batch');
        return errorResponse(null, { code: RpcErrorCode.InvalidRequest, message: 'nested batch' });
      case 'response':
        this.#logger.warn(
          { subject: msg.subject, id: decoded.message.id },
          'rpc: unexpected response ignored',
        );
        return undefined;
      case 'request':
      case 'notification':
        return this.#call(decoded.message, msg);
    }
  }

  /**
   * A request under the reply cache: a new id runs (its final answer is cached as bytes and sent); a
   * duplicate is answered from the cache by `#duplicate`.
   */
  async #reliable(cache: ReplyCache, req: RpcRequest & { id: string }, msg: BusMsg): Promise<void> {
    const { id, method } = req;
    const existing = cache.get(id);
    if (existing) {
      this.#duplicate(cache, existing, req, msg);
      return;
    }
    cache.begin(id, method);
    if (this.#claims && this.#grouped.has(msg)) {
      // Case 15: another queue-group member may own this id; then it answers, we never run it.
      const verdict = await this.#claims.admit(id, method, msg);
      if (verdict !== 'execute') {
        cache.delete(id);
        if (verdict === 'deferred') this.#sendBytes(msg, ctrlUuidOf(req.params), id, this.#tryingBytes(req));
        return;
      }
    }
    this.#reliability?.onExecute?.({ id, method });
    const ctrlUuid = ctrlUuidOf(req.params);
    if (this.#progress && ctrlUuid !== undefined)
      this.#progress.start(id, () => this.#sendProgress(cache, id, ctrlUuid, Code.Trying));
    const finish = (
      response: RpcResponse | undefined,
      send: (bytes: Uint8Array) => void,
      afterTrying: boolean,
    ): void => {
      this.#progress?.stop(id);
      this.#claims?.finished(id);
      if (response === undefined) {
        // IGNORE after a 100 Trying (case 18): no answer, no cache entry.
        if (cache.get(id)?.state === 'eval') cache.delete(id);
        return;
      }
      const asked = this.#askAck(cache, id, method, ctrlUuid, response, afterTrying);
      const bytes = encode(asked);
      if (!cache.complete(id, bytes)) {
        this.#logger.warn({ id, method }, 'rpc: answer of an aborted request dropped');
        return;
      }
      send(bytes);
      if (asked !== response) this.#acks?.wait(id, method, () => this.#publishToCtrl(ctrlUuid, id, bytes));
    };
    const answer = await this.#call(
      req,
      msg,
      (final) => finish(final, (bytes) => this.#publishToCtrl(ctrlUuid, id, bytes), true),
      ctrlUuid === undefined
        ? undefined
        : { accepted: () => this.#sendProgress(cache, id, ctrlUuid, Code.Accepted) },
    );
    if (answer === undefined) {
      this.#progress?.stop(id);
      this.#claims?.finished(id);
      cache.delete(id);
      return;
    }
    if ('result' in answer && answer.result.code === Code.Trying) {
      // expect_100_trying: the 100 is provisional and not cached; the final comes through `finish`.
      this.#sendBytes(msg, ctrlUuid, id, encode(answer));
      return;
    }
    finish(answer, (bytes) => this.#sendBytes(msg, ctrlUuid, id, bytes), false);
  }

  /** A batch item: reliable-mode requests and acks take the same paths as when they come alone. */
  async #batchItem(item: Decoded, msg: BusMsg): Promise<Immediate> {
    if (this.#cache && msg.reply === undefined) {
      if (item.kind === 'request') {
        // The item as a message of its own: a queue-group claim that loses forwards this request only,
        // not the whole batch.
        const itemMsg: BusMsg = {
          subject: msg.subject,
          data: encode(item.message),
          reply: undefined,
          respond: () => false,
        };
        if (this.#grouped.has(msg)) this.#grouped.add(itemMsg);
        await this.#reliable(this.#cache, item.message, itemMsg);
        return undefined;
      }
      if (item.kind === 'notification' && item.message.method === ACK_METHOD) {
        this.#onAck(this.#cache, item.message.params ?? {}, msg.subject);
        return undefined;
      }
    }
    return this.#item(item, msg);
  }

  /** The ack mode of `method` (reliability.ackMode; default discard). */
  #ackMode(method: string): AckMode {
    const mode = this.#reliability?.ackMode;
    if (mode === undefined) return 'discard';
    if (typeof mode === 'string') return mode;
    return Object.hasOwn(mode, method) ? (mode[method] as AckMode) : 'discard';
  }

  /**
   * The final answer as sent: with `result.ack_required` (and `ack_to`) when the method's ack mode asks
   * for an ack (`require`, or `ifProvisional` after a provisional answer). Needs the ctrl subject (the
   * reply is resent there on the ack timer) and a result (error envelopes are never acked).
   */
  #askAck(
    cache: ReplyCache,
    id: string,
    method: string,
    ctrlUuid: string | undefined,
    response: RpcResponse,
    afterTrying: boolean,
  ): RpcResponse {
    if (!('result' in response) || ctrlUuid === undefined) return response;
    const mode = this.#ackMode(method);
    if (mode === 'discard') return response;
    if (mode === 'ifProvisional') {
      const entry = cache.get(id);
      const provisional = afterTrying || (entry?.state === 'eval' && entry.pendingSent > 0);
      if (!provisional) return response;
    }
    const result: Record<string, unknown> = { ...response.result, [ACK_REQUIRED_FIELD]: true };
    if (this.#ackSubject !== undefined) result[ACK_TO_FIELD] = this.#ackSubject;
    return resultResponse(id, result);
  }

  /**
   * `rpc.progress {id, status}` to the ctrl subject, counted against `sentPendingLimit` (Megaco pending
   * timer / `{pending, Data}`); past the limit the request is aborted with `PENDING_LIMIT`. Returns
   * false when nothing was sent.
   */
  #sendProgress(cache: ReplyCache, id: string, ctrlUuid: string, status: number): boolean {
    const entry = cache.get(id);
    if (entry?.state !== 'eval') return false;
    entry.pendingSent += 1;
    const limit = this.#reliability?.sentPendingLimit ?? DEFAULT_PENDING_LIMIT;
    if (entry.pendingSent > limit) {
      this.#progress?.stop(id);
      cache.abort(id);
      this.#logger.warn({ id, method: entry.method, limit }, 'rpc: pending limit passed; request aborted');
      const error = errorResponse(id, {
        code: PENDING_LIMIT_CODE,
        message: `PENDING_LIMIT: more than ${limit} provisional answers while the request was worked on`,
      });
      this.#publishToCtrl(ctrlUuid, id, encode(error));
      try {
        this.#reliability?.onAbort?.({ id, method: entry.method });
      } catch (err) {
        this.#logger.error({ err, id, method: entry.method }, 'rpc: onAbort threw');
      }
      return false;
    }
    this.#publishToCtrl(ctrlUuid, id, encode(request(PROGRESS_METHOD, { id, status })));
    return true;
  }

  /** `rpc.ack`: applies the valid ranges (case 20); bad ranges, early and unknown ids are logged. */
  #onAck(cache: ReplyCache, params: Record<string, unknown>, subject: string): void {
    const ack = parseAck(params);
    if ('problem' in ack) {
      this.#logger.warn({ subject, problem: ack.problem }, 'rpc: invalid ack ignored');
      return;
    }
    for (const rejected of ack.rejected)
      this.#logger.warn({ subject, range: rejected }, 'rpc: ack range rejected (protocol violation)');
    const outcome = applyAck(ack, cache, this.#acks);
    if (outcome.early > 0)
      this.#logger.warn({ subject, early: outcome.early }, 'rpc: ack before the reply discarded');
    if (outcome.unknown > 0)
      this.#logger.debug({ subject, unknown: outcome.unknown }, 'rpc: ack for unknown ids');
  }

  /** Replies waiting for an ack (reliability on). */
  get awaitingAck(): number {
    return this.#acks?.size ?? 0;
  }

  /**
   * Megaco `cancel` on the responder side: every reply waiting for an ack is reported to `onAck` with
   * `error: 'cancelled'` and its resend timer stops (the cached answers stay for duplicates). Returns how
   * many.
   */
  cancelAll(): number {
    return this.#acks?.cancelAll() ?? 0;
  }

  /** A provisional `{code: 100, message: 'Trying'}` answer to `req`, encoded. */
  #tryingBytes(req: RpcRequest & { id: string }): Uint8Array {
    const trying = this.#result(Code.Trying, 'Trying');
    if (typeof req.params?.uuid === 'string') trying.uuid = req.params.uuid;
    return encode(resultResponse(req.id, trying));
  }

  /** A duplicate (a resend with the same id): Megaco `prepare_request` on an existing reply record. */
  #duplicate(cache: ReplyCache, entry: ReplyEntry, req: RpcRequest & { id: string }, msg: BusMsg): void {
    const { id, method } = entry;
    const ctrlUuid = ctrlUuidOf(req.params);
    switch (entry.state) {
      case 'done':
        // Byte for byte the first answer; the TTL is not restarted.
        this.#logger.debug({ id, method }, 'rpc: duplicate answered from the reply cache');
        this.#sendBytes(msg, ctrlUuid, id, entry.bytes);
        return;
      case 'aborted':
        this.#logger.debug({ id, method }, 'rpc: duplicate of an aborted request dropped');
        return;
      case 'eval': {
        entry.pendingSent += 1;
        const limit = this.#reliability?.sentPendingLimit ?? DEFAULT_PENDING_LIMIT;
        if (entry.pendingSent > limit) {
          cache.abort(id);
          this.#logger.warn({ id, method, limit }, 'rpc: pending limit passed; request aborted');
          const error = errorResponse(id, {
            code: PENDING_LIMIT_CODE,
            message: `PENDING_LIMIT: more than ${limit} duplicates while the request was worked on`,
          });
          this.#sendBytes(msg, ctrlUuid, id, encode(error));
          try {
            this.#reliability?.onAbort?.({ id, method });
          } catch (err) {
            this.#logger.error({ err, id, method }, 'rpc: onAbort threw');
          }
          return;
        }
        const trying = this.#result(Code.Trying, 'Trying');
        if (typeof req.params?.uuid === 'string') trying.uuid = req.params.uuid;
        this.#sendBytes(msg, ctrlUuid, id, encode(resultResponse(id, trying)));
        return;
      }
    }
  }

  /** Sends encoded answer bytes: to the reply inbox if the request had one, else to the ctrl subject. */
  #sendBytes(msg: BusMsg, ctrlUuid: string | undefined, id: string, bytes: Uint8Array): void {
    if (msg.reply === undefined) {
      this.#publishToCtrl(ctrlUuid, id, bytes);
      return;
    }
    try {
      msg.respond(bytes);
    } catch (err) {
      this.#logger.warn({ err, reply: msg.reply }, 'rpc: could not send the answer');
    }
  }

  /**
   * @param onFinal where the final answer of an `expect_100_trying` request goes (default: the ctrl
   *   subject); the reliable path uses it to cache that answer.
   */
  async #call(
    req: RpcRequest,
    msg: BusMsg,
    onFinal?: (response: RpcResponse | undefined) => void,
    extra?: Pick<RpcContext, 'accepted'>,
  ): Promise<Immediate> {
    const { id, method } = req;
    const rawParams = req.params ?? {};
    const handler: MethodHandler | undefined = Object.hasOwn(this.#options.handlers, method)
      ? this.#options.handlers[method]
      : undefined;
    if (!handler) {
      this.#logger.warn({ subject: msg.subject, id, method }, 'rpc: unknown method');
      return id === undefined
        ? undefined
        : errorResponse(id, { code: RpcErrorCode.MethodNotFound, message: `unknown method ${method}` });
    }
    let params = rawParams;
    if (this.#options.validate) {
      let checked: ReturnType<NonNullable<RpcServerOptions['validate']>>;
      try {
        checked = this.#options.validate(method, rawParams);
      } catch (err) {
        this.#logger.error({ err, method, id }, 'rpc: validator threw');
        return id === undefined
          ? undefined
          : errorResponse(id, {
              code: RpcErrorCode.InternalError,
              message: 'internal error validating params',
            });
      }
      if (!checked.ok) {
        this.#logger.warn(
          { subject: msg.subject, id, method, message: checked.message },
          'rpc: invalid params',
        );
        return id === undefined
          ? undefined
          : errorResponse(id, { code: RpcErrorCode.InvalidParams, message: checked.message });
      }
      params = checked.params;
    }
    const ctrlUuid = ctrlUuidOf(params);
    const ctx: RpcContext = {
      id,
      method,
      ctrlUuid,
      subject: msg.subject,
      signal: this.#abort.signal,
      accepted: extra?.accepted ?? (() => false),
    };

    const wantsTrying =
      this.#trying(method, params) &&
      (params.expect_100_trying === true || params.exepect_100_trying === true);
    if (wantsTrying && id !== undefined) {
      if (ctrlUuid === undefined) {
        return resultResponse(id, this.#result(Code.BadRequest, 'expect_100_trying needs ctrl_uuid'));
      }
      // Provisional answer now; the final response goes to the controller's subject when the handler ends.
      this.#track(
        this.#run(handler, params, ctx).then((result) => {
          const final = result === IGNORE ? undefined : resultResponse(id, result);
          if (onFinal) onFinal(final);
          else if (final) this.#sendToCtrl(ctrlUuid, final);
        }),
      );
      const trying = this.#result(Code.Trying, 'Trying');
      if (typeof params.uuid === 'string') trying.uuid = params.uuid;
      return resultResponse(id, trying);
    }
    const result = await this.#run(handler, params, ctx);
    if (id === undefined || result === IGNORE) return undefined;
    return resultResponse(id, result);
  }

  /** Runs a handler; a throw or a malformed return becomes a 500 result and an error log line. */
  async #run(
    handler: MethodHandler,
    params: Record<string, unknown>,
    ctx: RpcContext,
  ): Promise<ResultObject | typeof IGNORE> {
    try {
      const result = await handler(params, ctx);
      if (result === IGNORE) {
        // Case 18: the handler chose not to answer (Megaco ignore_trans_request).
        this.#logger.debug({ method: ctx.method, id: ctx.id }, 'rpc: handler ignored the request');
        return IGNORE;
      }
      if (typeof result !== 'object' || result === null || typeof result.code !== 'number') {
        this.#logger.error(
          { method: ctx.method, id: ctx.id, result },
          'rpc: handler returned no result code',
        );
        return this.#result(Code.InternalError, 'handler returned an invalid result');
      }
      return result;
    } catch (err) {
      this.#logger.error({ err, method: ctx.method, id: ctx.id }, 'rpc: handler threw');
      return this.#result(Code.InternalError, err instanceof Error ? err.message : String(err));
    }
  }

  #result(code: number, message: string): ResultObject {
    const result: ResultObject = { code, message };
    if (this.#options.nodeUuid !== undefined) result.node_uuid = this.#options.nodeUuid;
    return result;
  }

  /** Routes a single (non-batch) answer: reply inbox, else the ctrl subject for requests with an id. */
  #route(msg: BusMsg, decoded: Decoded, answer: RpcResponse): void {
    if (msg.reply !== undefined) {
      this.#respond(msg, answer);
      return;
    }
    const params = decoded.kind === 'request' ? decoded.message.params : undefined;
    this.#sendToCtrl(ctrlUuidOf(params), answer);
  }

  /** An undecodable envelope: answer to the inbox, or to the ctrl subject if id and ctrl_uuid can be read. */
  #invalid(msg: BusMsg, id: string | null, error: RpcErrorObject): void {
    this.#logger.warn({ subject: msg.subject, id, error }, 'rpc: invalid request');
    const response = errorResponse(id, error);
    if (msg.reply !== undefined) {
      this.#respond(msg, response);
      return;
    }
    const peeked = peek(msg.data, this.#maxBytes);
    if (peeked?.hasId && peeked.ctrlUuid !== undefined) this.#sendToCtrl(peeked.ctrlUuid, response);
  }

  #respond(msg: BusMsg, payload: RpcResponse | RpcResponse[]): void {
    try {
      msg.respond(encode(payload));
    } catch (err) {
      this.#logger.warn({ err, reply: msg.reply }, 'rpc: could not send the answer');
    }
  }

  #sendToCtrl(ctrlUuid: string | undefined, response: RpcResponse): void {
    this.#publishToCtrl(ctrlUuid, response.id, encode(response));
  }

  #publishToCtrl(ctrlUuid: string | undefined, id: string | null, bytes: Uint8Array): void {
    if (ctrlUuid === undefined) {
      this.#logger.warn({ id }, 'rpc: no reply inbox and no ctrl_uuid; answer dropped');
      return;
    }
    let subject: string;
    try {
      subject = this.#options.ctrlSubject(ctrlUuid);
    } catch (err) {
      this.#logger.warn({ err, ctrlUuid, id }, 'rpc: bad ctrl_uuid; answer dropped');
      return;
    }
    // An answer above the payload limit goes as segments (inbox replies are never segmented).
    if (id !== null && this.#segmenter?.send(subject, id, bytes)) return;
    try {
      // With a transaction sender, what it stores for that subject rides along with this answer.
      if (this.#sender) this.#sender.reply(subject, bytes);
      else this.#bus.publish(subject, bytes);
    } catch (err) {
      this.#logger.warn({ err, subject, id }, 'rpc: could not send the answer');
    }
  }
}

function ctrlUuidOf(params: Record<string, unknown> | undefined): string | undefined {
  const v = params?.ctrl_uuid;
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Best effort look into an invalid envelope for an id and `params.ctrl_uuid`. */
function peek(
  data: Uint8Array,
  maxBytes: number,
): { hasId: boolean; ctrlUuid: string | undefined } | undefined {
  if (data.byteLength > maxBytes) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(data));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const m = value as Record<string, unknown>;
    const params =
      typeof m.params === 'object' && m.params !== null ? (m.params as Record<string, unknown>) : undefined;
    return { hasId: m.id !== undefined && m.id !== null, ctrlUuid: ctrlUuidOf(params) };
  } catch {
    return undefined;
  }
}

/**
 * Publishes a JSON-RPC notification (an XCC event such as `Event.Channel`): no id, no answer.
 * Throws the bus's errors (`PayloadTooLargeError`, `BusClosedError`, `InvalidSubjectError`).
 *
 * @example
 * publishEvent(bus, s.ctrlOf(ctrlUuid), 'Event.Channel', { uuid, state: 'ANSWERED', node_uuid });
 */
export function publishEvent(
  bus: Bus,
  subject: string,
  method: string,
  params: Record<string, unknown>,
): void {
  bus.publish(subject, encode(request(method, params)));
}
