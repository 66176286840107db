/**
 * The controller side of JSON-RPC over a Bus: sends XCC requests in three modes (sync request/reply,
 * async with the result on our own ctrl subject, notify), correlates final results by id (also after a
 * 100 Trying), and owns one Clock timer and one pending entry per call, released on every path.
 */
import { BusClosedError, BusNoRespondersError, BusTimeoutError } from '../bus/errors.js';
import type { Bus, BusMsg, Subscription } from '../bus/index.js';
import type { Clock, Timer } from '../clock/index.js';
import { Code, RpcErrorCode } from '../protocol/codes.js';
import { type Decoded, decode, encode, type RpcResponse, request } from '../protocol/envelope.js';
import { CancelledError, JsonRpcError, NoRespondersError, RpcTimeoutError } from '../protocol/errors.js';
import { type Logger, silentLogger } from '../protocol/logger.js';
import { createIdGenerator } from './id.js';
import type { CallOptions, ResultObject, RetryPolicy, RpcClientOptions } from './types.js';

/** Default time a call waits for its final result. */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;

interface Pending {
  readonly method: string;
  resolve(result: ResultObject): void;
  reject(err: unknown): void;
}

/**
 * Sends XCC methods to nodes and waits for their results.
 *
 * @example
 * const client = new RpcClient(bus, clock, { ctrlUuid, ownSubject: s.ctrlOf(ctrlUuid) });
 * client.start();
 * const result = await client.call(s.nodeOf(nodeUuid), 'XNode.Answer', { uuid });
 * const err = errorForResult('XNode.Answer', result);
 * if (err) throw err;
 */
export class RpcClient {
  readonly #bus: Bus;
  readonly #clock: Clock;
  readonly #options: RpcClientOptions;
  readonly #logger: Logger;
  readonly #nextId: () => string;
  readonly #pending = new Map<string, Pending>();
  #sub: Subscription | undefined;
  #closed = false;

  constructor(bus: Bus, clock: Clock, options: RpcClientOptions) {
    this.#bus = bus;
    this.#clock = clock;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#nextId = options.ids ?? createIdGenerator();
  }

  /** Calls waiting for a final result. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The resend policy seam (seed 004). The first layer never resends; it is kept for the next layer. */
  get retry(): RetryPolicy | undefined {
    return this.#options.retry;
  }

  /** Subscribes our own subject (async results, 100-Trying finals, events). Idempotent. */
  start(): void {
    if (this.#sub || this.#closed) return;
    this.#sub = this.#bus.subscribe(this.#options.ownSubject, { callback: (msg) => this.#onOwn(msg) });
  }

  /**
   * Calls `method` on `subject` and resolves with the final `result` whatever its code (map codes to
   * errors with `errorForResult`). Adds `ctrl_uuid` to params unless present.
   *
   * Rejects with `RpcTimeoutError` (no final result in `timeoutMs`, default 5000), `NoRespondersError`,
   * `JsonRpcError` (the peer rejected the envelope), `CancelledError` (signal aborted, client closed, bus
   * closed), or the bus's `PayloadTooLargeError`/`InvalidSubjectError`.
   */
  call(
    subject: string,
    method: string,
    params: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<ResultObject> {
    const mode = options.mode ?? 'sync';
    if (this.#closed) return Promise.reject(new CancelledError('rpc client closed', { method }));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(cancelled(method, signal.reason));
    const full: Record<string, unknown> =
      'ctrl_uuid' in params ? { ...params } : { ...params, ctrl_uuid: this.#options.ctrlUuid };
    if (options.expect100) full.expect_100_trying = true;

    if (mode === 'notify') {
      try {
        this.#bus.publish(subject, encode(request(method, full)));
      } catch (err) {
        return Promise.reject(mapBusError(err, method, subject));
      }
      return Promise.resolve({ code: Code.Accepted, message: 'sent' });
    }

    // Finals may arrive on our own subject (async mode, after a 100 Trying): be listening first.
    this.start();
    const id = this.#nextId();
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const uuid = typeof full.uuid === 'string' ? full.uuid : undefined;
    const data = encode(request(method, full, id));

    return new Promise<ResultObject>((resolve, reject) => {
      // One owner of cleanup: whichever path settles first releases timer, listener and entry.
      // The bus request is cancelled only while it is still in flight (timeout, abort, close, or a final
      // that came on our own subject after a 100): after its reply there is nothing to cancel, and
      // aborting with a shared reason avoids building a DOMException (with its stack) per request.
      const requestAbort = mode === 'sync' ? new AbortController() : undefined;
      let busInFlight = mode === 'sync';
      let timer: Timer | undefined;
      const release = (): void => {
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
        if (busInFlight) {
          busInFlight = false;
          requestAbort?.abort(REQUEST_SETTLED);
        }
      };
      const entry: Pending = {
        method,
        resolve: (result) => {
          release();
          resolve(result);
        },
        reject: (err) => {
          release();
          reject(err);
        },
      };
      const onAbort = (): void => entry.reject(cancelled(method, signal?.reason));
      this.#pending.set(id, entry);
      timer = this.#clock.setTimeout(
        () => entry.reject(new RpcTimeoutError(method, timeoutMs, uuid === undefined ? {} : { uuid })),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });

      if (mode === 'async') {
        try {
          this.#bus.publish(subject, data);
        } catch (err) {
          entry.reject(mapBusError(err, method, subject));
        }
        return;
      }
      // sync: our own timer governs; the bus timer is a backstop set a little later.
      const busSignal = (requestAbort as AbortController).signal;
      this.#bus.request(subject, data, { timeoutMs: timeoutMs + 1, signal: busSignal }).then(
        (msg) => {
          busInFlight = false;
          this.#onReply(id, msg);
        },
        (err: unknown) => {
          busInFlight = false;
          if (this.#pending.get(id) !== entry) return; // already settled; this is our own abort
          entry.reject(
            err instanceof BusTimeoutError
              ? new RpcTimeoutError(method, timeoutMs)
              : mapBusError(err, method, subject),
          );
        },
      );
    });
  }

  /** Rejects every pending call with `CancelledError` and unsubscribes. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const [, entry] of [...this.#pending])
      entry.reject(new CancelledError('rpc client closed', { method: entry.method }));
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    return Promise.resolve();
  }

  /** The reply to a sync request on its inbox. */
  #onReply(id: string, msg: BusMsg): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    const decoded = decode(msg.data);
    if (decoded.kind === 'response') {
      this.#settle(entry, decoded.message);
      return;
    }
    const reason =
      decoded.kind === 'invalid' ? decoded.error.message : `a ${decoded.kind} instead of a response`;
    entry.reject(
      new JsonRpcError(RpcErrorCode.InvalidRequest, `invalid response: ${reason}`, undefined, {
        method: entry.method,
      }),
    );
  }

  /** Applies a response to its pending call: a 100 keeps it waiting for the final. */
  #settle(entry: Pending, response: RpcResponse): void {
    if ('error' in response) {
      const { code, message, data } = response.error;
      entry.reject(new JsonRpcError(code, message, data, { method: entry.method }));
      return;
    }
    const result = response.result;
    if (result.code === Code.Trying) return;
    if (typeof result.code !== 'number') {
      entry.reject(
        new JsonRpcError(
          RpcErrorCode.InvalidRequest,
          'invalid response: result without a numeric code',
          result,
          {
            method: entry.method,
          },
        ),
      );
      return;
    }
    // Tolerate a missing message (some nodes omit it); the code is what matters.
    entry.resolve({
      ...result,
      code: result.code,
      message: typeof result.message === 'string' ? result.message : '',
    });
  }

  /** Messages on our own subject: responses (async results, finals) or events / node requests. */
  #onOwn(msg: BusMsg): void {
    this.#dispatch(decode(msg.data), msg);
  }

  #dispatch(decoded: Decoded, msg: BusMsg): void {
    switch (decoded.kind) {
      case 'batch':
        for (const item of decoded.items) this.#dispatch(item, msg);
        return;
      case 'response': {
        const response = decoded.message;
        const entry = response.id === null ? undefined : this.#pending.get(response.id);
        if (entry) {
          this.#settle(entry, response);
          return;
        }
        // A provisional answer for a call that is gone carries nothing to act on.
        if ('result' in response && response.result.code === Code.Trying) return;
        this.#unexpected(response);
        return;
      }
      case 'request':
      case 'notification': {
        const { method, params = {}, id } = decoded.message;
        const onMessage = this.#options.onMessage;
        if (!onMessage) {
          this.#logger.debug({ method, subject: msg.subject }, 'rpc: message on own subject ignored');
          return;
        }
        try {
          onMessage({
            method,
            params,
            ...(id === undefined ? {} : { id }),
            ...(msg.reply === undefined ? {} : { reply: msg.reply }),
          });
        } catch (err) {
          this.#logger.error({ err, method }, 'rpc: onMessage threw');
        }
        return;
      }
      case 'invalid':
        this.#logger.warn(
          { subject: msg.subject, error: decoded.error },
          'rpc: invalid message on own subject',
        );
        return;
    }
  }

  #unexpected(response: RpcResponse): void {
    const hook = this.#options.onUnexpected;
    if (!hook) {
      this.#logger.warn({ id: response.id, response }, 'rpc: response for an unknown or expired id');
      return;
    }
    try {
      hook(response);
    } catch (err) {
      this.#logger.error({ err, id: response.id }, 'rpc: onUnexpected threw');
    }
  }
}

/**
 * The abort reason that cancels a bus request whose RPC already settled another way. Shared and built
 * once: nobody sees it (the bus rejection it causes is ignored), so it needs no stack of its own.
 */
const REQUEST_SETTLED: Error = new CancelledError('rpc request settled');

function cancelled(method: string, reason: unknown): CancelledError {
  if (reason instanceof CancelledError) return reason;
  const message = reason instanceof Error ? reason.message : 'cancelled';
  return new CancelledError(message, { method, cause: reason });
}

function mapBusError(err: unknown, method: string, subject: string): unknown {
  if (err instanceof BusNoRespondersError) return new NoRespondersError(subject, { method, cause: err });
  if (err instanceof BusClosedError) return new CancelledError('bus closed', { method, cause: err });
  return err;
}
