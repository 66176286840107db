/**
 * The node side of JSON-RPC over a Bus: decodes requests, rejects bad envelopes with JSON-RPC errors,
 * validates params, runs handlers concurrently (no head-of-line blocking), and routes each answer to
 * the reply inbox or, for async calls, to the calling controller's subject. Also owns the
 * `expect_100_trying` protocol (seed 002): 100 at once, the final response later on the ctrl subject.
 * With the opt-in `reliability` option it is a seed-004 responder: a reply cache keyed by request id
 * answers duplicates (100 while working, the cached bytes after) instead of running them again.
 */
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
import { PENDING_LIMIT_CODE } from './errors.js';
import {
  DEFAULT_PENDING_LIMIT,
  DEFAULT_REPLY_CACHE_TTL_MS,
  type ResponderReliability,
  validateResponderReliability,
} from './reliability.js';
import { type ReplyEntry, ReplyCache } from './reply-cache.js';
import type { MethodHandler, ResultObject, RpcContext, RpcServerOptions } from './types.js';

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
  #abort = new AbortController();
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
    this.#abort = new AbortController();
    for (const { subject, queue } of this.#options.subjects) {
      const callback = (msg: BusMsg): void => this.#onMessage(msg);
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
    this.#cache?.clear();
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
        const answers = await Promise.all(decoded.items.map((item) => this.#item(item, msg)));
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
    const ctrlUuid = ctrlUuidOf(req.params);
    const finish = (response: RpcResponse, send: (bytes: Uint8Array) => void): void => {
      const bytes = encode(response);
      if (!cache.complete(id, bytes)) {
        this.#logger.warn({ id, method }, 'rpc: answer of an aborted request dropped');
        return;
      }
      send(bytes);
    };
    const answer = await this.#call(req, msg, (final) =>
      finish(final, (bytes) => this.#publishToCtrl(ctrlUuid, id, bytes)),
    );
    if (answer === undefined) {
      cache.delete(id);
      return;
    }
    if ('result' in answer && answer.result.code === Code.Trying) {
      // expect_100_trying: the 100 is provisional and not cached; the final comes through `finish`.
      this.#sendBytes(msg, ctrlUuid, id, encode(answer));
      return;
    }
    finish(answer, (bytes) => this.#sendBytes(msg, ctrlUuid, id, bytes));
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
  async #call(req: RpcRequest, msg: BusMsg, onFinal?: (response: RpcResponse) => void): Promise<Immediate> {
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
    const ctx: RpcContext = { id, method, ctrlUuid, subject: msg.subject, signal: this.#abort.signal };

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
          const final = resultResponse(id, result);
          if (onFinal) onFinal(final);
          else this.#sendToCtrl(ctrlUuid, final);
        }),
      );
      const trying = this.#result(Code.Trying, 'Trying');
      if (typeof params.uuid === 'string') trying.uuid = params.uuid;
      return resultResponse(id, trying);
    }
    const result = await this.#run(handler, params, ctx);
    if (id === undefined) return undefined;
    return resultResponse(id, result);
  }

  /** Runs a handler; a throw or a malformed return becomes a 500 result and an error log line. */
  async #run(
    handler: MethodHandler,
    params: Record<string, unknown>,
    ctx: RpcContext,
  ): Promise<ResultObject> {
    try {
      const result = await handler(params, ctx);
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
    try {
      this.#bus.publish(subject, bytes);
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
