/**
 * The controller side of JSON-RPC over a Bus: sends XCC requests in three modes (sync request/reply,
 * async with the result on our own ctrl subject, notify), correlates final results by id (also after a
 * 100 Trying), and owns one Clock timer and one pending entry per call, released on every path.
 * With the opt-in `reliability` option it is a seed-004 originator: transaction ids
 * `<originator>:<epoch>:<serial>`, resends of the same bytes on incremental timers, provisional answers
 * switching to the long timer (see docs/reliability.md).
 */
import { BusClosedError, BusNoRespondersError, BusTimeoutError } from '../bus/errors.js';
import type { Bus, BusMsg, Subscription } from '../bus/index.js';
import type { Clock, Timer } from '../clock/index.js';
import { Code, RpcErrorCode } from '../protocol/codes.js';
import {
  type Decoded,
  decode,
  encode,
  type RpcResponse,
  request,
  resultResponse,
} from '../protocol/envelope.js';
import { CancelledError, JsonRpcError, NoRespondersError, RpcTimeoutError } from '../protocol/errors.js';
import { type Logger, silentLogger } from '../protocol/logger.js';
import { ACK_REQUIRED_FIELD, ACK_METHOD, ACK_TO_FIELD } from './acks.js';
import { DisconnectedError } from './disconnect.js';
import { PENDING_LIMIT_CODE, PendingLimitError, RpcConfigError } from './errors.js';
import { createIdGenerator } from './id.js';
import { DEFAULT_SEGMENT_RECV_TIMER_MS, isSegmentResult, SegmentReceiver } from './segment.js';
import {
  DEFAULT_PENDING_LIMIT,
  newEpoch,
  type OriginatorReliability,
  parseTransactionId,
  transactionIds,
  validateOriginatorReliability,
} from './reliability.js';
import {
  DEFAULT_LONG_REQUEST_TIMER,
  DEFAULT_REQUEST_TIMER,
  type IncrementalTimer,
  LegTimer,
} from './timers.js';
import { TransSender } from './trans-sender.js';
import type { CallOptions, ResultObject, RetryPolicy, RpcClientOptions, UnexpectedReason } from './types.js';

/** Notification method of a provisional answer (§3.1): params `{id, status: 100|202}`. */
export const PROGRESS_METHOD = 'rpc.progress';

/** Default time a call waits for its final result. */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;

interface Pending {
  readonly method: string;
  resolve(result: ResultObject): void;
  reject(err: unknown): void;
  /** A provisional answer (100, or an `rpc.progress`) arrived: reliable calls switch timers. */
  progress?: () => void;
  /** Reliable calls: where the request went (acks default there) and the peer it names, if any. */
  readonly subject?: string;
  readonly peer?: string | undefined;
}

/** Reliability options with every default filled in. */
type Reliability = Required<Omit<OriginatorReliability, 'epoch' | 'batching' | 'onDisconnect' | 'peerOf'>> & {
  epoch: string;
};

/** Final answers remembered per client (ids), so a duplicate is dropped (and acked again) — case 4. */
const ANSWERED_MEMORY = 4096;

/** Default `peerOf`: `…node.<uuid>` names a peer; a queue-group subject (`cn.xswitch.node`) does not. */
function defaultPeerOf(subject: string): string | undefined {
  const match = /\.node\.([^.*>]+)$/.exec(subject);
  return match?.[1];
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
  readonly #reliability: Reliability | undefined;
  /** Reassembles segmented answers (reliability on). */
  readonly #segments: SegmentReceiver | undefined;
  /** Transaction sender (reliability.batching), and whether we made it (then we close it). */
  readonly #sender: TransSender | undefined;
  readonly #ownSender: boolean;
  readonly #peerOf: (subject: string) => string | undefined;
  /** Ids answered finally (bounded, oldest first) → the subject their acks go to. */
  readonly #answered = new Map<string, string>();
  #offDisconnect: (() => void) | undefined;
  #sub: Subscription | undefined;
  #closed = false;

  /** @throws RpcConfigError when `options.reliability` is invalid. */
  constructor(bus: Bus, clock: Clock, options: RpcClientOptions) {
    this.#bus = bus;
    this.#clock = clock;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    const rel = options.reliability;
    if (rel) {
      validateOriginatorReliability(rel);
      this.#reliability = {
        originator: rel.originator,
        epoch: rel.epoch ?? newEpoch(),
        requestTimer: rel.requestTimer ?? DEFAULT_REQUEST_TIMER,
        longRequestTimer: rel.longRequestTimer ?? DEFAULT_LONG_REQUEST_TIMER,
        longRequestResend: rel.longRequestResend ?? true,
        recvPendingLimit: rel.recvPendingLimit ?? DEFAULT_PENDING_LIMIT,
        segmentRecvTimerMs: rel.segmentRecvTimerMs ?? DEFAULT_SEGMENT_RECV_TIMER_MS,
      };
      this.#segments = new SegmentReceiver(bus, clock, {
        recvTimerMs: this.#reliability.segmentRecvTimerMs,
        logger: this.#logger,
      });
      // Transaction ids replace `options.ids`: resends and the responder's cache key on them.
      this.#nextId = transactionIds(this.#reliability.originator, this.#reliability.epoch);
      this.#ownSender = rel.batching !== undefined && !(rel.batching instanceof TransSender);
      this.#sender =
        rel.batching === undefined || rel.batching instanceof TransSender
          ? rel.batching
          : new TransSender((s, b) => bus.publish(s, b), clock, rel.batching, this.#logger);
      this.#peerOf = rel.peerOf ?? defaultPeerOf;
      if (rel.onDisconnect === 'cancel') {
        if (!bus.onDisconnect)
          throw new RpcConfigError([
            `reliability.onDisconnect: 'cancel' needs a bus that reports disconnects (Bus.onDisconnect)`,
          ]);
        this.#offDisconnect = bus.onDisconnect(() => this.#onDisconnect());
      }
    } else {
      this.#reliability = undefined;
      this.#segments = undefined;
      this.#nextId = options.ids ?? createIdGenerator();
      this.#sender = undefined;
      this.#ownSender = false;
      this.#peerOf = defaultPeerOf;
    }
  }

  /** The transaction sender in use (reliability.batching), for inspection. */
  get sender(): TransSender | undefined {
    return this.#sender;
  }

  /** `onDisconnect: 'cancel'`: every call in flight fails with `DisconnectedError`. */
  #onDisconnect(): void {
    const entries = [...this.#pending.values()];
    if (entries.length > 0) this.#logger.warn({ calls: entries.length }, 'rpc: disconnected; calls failed');
    for (const entry of entries) entry.reject(new DisconnectedError(undefined, { method: entry.method }));
  }

  /** The epoch of our transaction ids (reliability on), else undefined. */
  get epoch(): string | undefined {
    return this.#reliability?.epoch;
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
    if (this.#reliability)
      return this.#callReliable(this.#reliability, subject, method, full, signal, options.timeoutMs);
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

  /**
   * Seed-004 originator: publishes with an id (async mode, so every answer comes to our own subject and
   * resends have a stable reply path), resends the same bytes on `requestTimer`, switches to
   * `longRequestTimer` on a provisional answer, and fails with `RpcTimeoutError` (outcome unknown) on the
   * final leg. `timeoutMs` (the method's own time, e.g. a Dial's ring time) stretches the long phase
   * so that it lasts at least that long while the responder keeps answering provisionally.
   */
  #callReliable(
    rel: Reliability,
    subject: string,
    method: string,
    full: Record<string, unknown>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<ResultObject> {
    const longTimer = stretchLongTimer(rel.longRequestTimer, timeoutMs);
    const id = this.#nextId();
    // Encoded once: every resend is byte for byte the first send.
    const data = encode(request(method, full, id));
    const uuid = typeof full.uuid === 'string' ? full.uuid : undefined;
    const started = this.#clock.now();
    return new Promise<ResultObject>((resolve, reject) => {
      let phase: 'short' | 'long' = 'short';
      let provisional = 0;
      const release = (): void => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
        this.#segments?.drop(id);
      };
      const entry: Pending = {
        method,
        subject,
        peer: this.#peerOf(subject),
        resolve: (result) => {
          release();
          resolve(result);
        },
        reject: (err) => {
          release();
          reject(err);
        },
        progress: () => {
          provisional += 1;
          if (provisional > rel.recvPendingLimit) {
            entry.reject(
              new PendingLimitError(
                `${method}: more than ${rel.recvPendingLimit} provisional answers; the outcome on the node is unknown`,
                { method, ...(uuid === undefined ? {} : { uuid }) },
              ),
            );
            return;
          }
          if (phase === 'short') {
            // Megaco handle_recv_pending: the short timer stops, a fresh long timer starts.
            phase = 'long';
            timer.cancel();
            timer = new LegTimer(this.#clock, longTimer, onLeg);
            timer.start();
            return;
          }
          // Long phase: restart using a retry; ignored on the final leg.
          timer.restart();
        },
      };
      const send = (first: boolean): void => {
        try {
          if (this.#sender) this.#sender.request(subject, id, data);
          else this.#bus.publish(subject, data);
        } catch (err) {
          // A failed resend is what resends are for (the link may come back); a closed bus is final.
          if (first || err instanceof BusClosedError) entry.reject(mapBusError(err, method, subject));
          else this.#logger.warn({ err, id, method }, 'rpc: resend failed; next leg will try again');
        }
      };
      const onLeg = (final: boolean): void => {
        if (this.#pending.get(id) !== entry) return;
        if (final) {
          entry.reject(
            new RpcTimeoutError(method, this.#clock.now() - started, uuid === undefined ? {} : { uuid }),
          );
          return;
        }
        if (phase === 'short' || rel.longRequestResend) send(false);
      };
      const onAbort = (): void => entry.reject(cancelled(method, signal?.reason));
      let timer = new LegTimer(this.#clock, rel.requestTimer, onLeg);
      this.#pending.set(id, entry);
      signal?.addEventListener('abort', onAbort, { once: true });
      timer.start();
      send(true);
    });
  }

  /**
   * Cancels one call locally (Megaco `cancel`): it rejects with `CancelledError`; an answer arriving
   * later goes to `onUnexpected`. Returns false if no call has this id.
   */
  cancel(id: string, reason = 'rpc call cancelled'): boolean {
    const entry = this.#pending.get(id);
    if (!entry) return false;
    entry.reject(new CancelledError(reason, { method: entry.method }));
    return true;
  }

  /** Cancels every pending call (see `cancel`); the client stays usable. Returns how many. */
  cancelAll(reason = 'rpc call cancelled'): number {
    const entries = [...this.#pending.values()];
    for (const entry of entries) entry.reject(new CancelledError(reason, { method: entry.method }));
    return entries.length;
  }

  /** Ids of the calls waiting for a final result (e.g. to `cancel` one). */
  pendingIds(): string[] {
    return [...this.#pending.keys()];
  }

  /** Rejects every pending call with `CancelledError` and unsubscribes. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const [, entry] of [...this.#pending])
      entry.reject(new CancelledError('rpc client closed', { method: entry.method }));
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#offDisconnect?.();
    this.#offDisconnect = undefined;
    // Acks still stored go out now; a shared sender belongs to whoever made it.
    if (this.#ownSender) this.#sender?.close();
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

  /**
   * A segment of a pending call's answer (§2.5): the first acts as a provisional answer; the
   * reassembled result then goes the way of any final answer.
   */
  #segment(entry: Pending, id: string, result: Record<string, unknown>): void {
    this.#segments?.receive(id, result, {
      method: entry.method,
      first: () => entry.progress?.(),
      deliver: (whole) => {
        const response = resultResponse(id, whole);
        if (this.#acceptFinal(entry, response)) this.#settle(entry, response);
      },
      fail: (err) => entry.reject(err),
    });
  }

  /** Applies a response to its pending call: a 100 keeps it waiting for the final. */
  #settle(entry: Pending, response: RpcResponse): void {
    if ('error' in response) {
      const { code, message, data } = response.error;
      entry.reject(
        code === PENDING_LIMIT_CODE
          ? new PendingLimitError(message, { method: entry.method })
          : new JsonRpcError(code, message, data, { method: entry.method }),
      );
      return;
    }
    const result = response.result;
    if (result.code === Code.Trying) {
      entry.progress?.();
      return;
    }
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
          if (this.#segments && 'result' in response && isSegmentResult(response.result)) {
            this.#segment(entry, response.id, response.result);
            return;
          }
          if (this.#reliability && !this.#acceptFinal(entry, response)) return;
          this.#settle(entry, response);
          return;
        }
        const stray = 'result' in response ? this.#segments?.stray(response.id, response.result) : undefined;
        if (stray !== undefined) {
          // Segment 1 of an answer never delivered is reported like a late final; the rest are dropped.
          if (stray === 1 && response.id !== null && !this.#answered.has(response.id))
            this.#unexpected(response);
          return;
        }
        if (this.#reliability && this.#duplicateFinal(response)) return;
        // A provisional answer for a call that is gone carries nothing to act on (first layer); the
        // transaction layer reports it (§3.5 case 10).
        if (!this.#reliability && 'result' in response && response.result.code === Code.Trying) return;
        this.#unexpected(response);
        return;
      }
      case 'request':
      case 'notification': {
        const { method, params = {}, id } = decoded.message;
        if (this.#reliability && method === PROGRESS_METHOD && id === undefined) {
          this.#onProgress(params);
          return;
        }
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

  /** `rpc.progress {id, status}`: a provisional answer as a notification (§3.1). */
  #onProgress(params: Record<string, unknown>): void {
    const id = params.id;
    if (typeof id !== 'string') {
      this.#logger.warn({ params }, 'rpc: rpc.progress without a string id ignored');
      return;
    }
    const entry = this.#pending.get(id);
    if (entry) {
      entry.progress?.();
      return;
    }
    const status = typeof params.status === 'number' ? params.status : Code.Trying;
    this.#unexpected({ jsonrpc: '2.0', id, result: { code: status, message: PROGRESS_METHOD } });
  }

  /**
   * Reliable mode, a response for a pending call. A provisional passes through. A final one naming the
   * wrong peer (`result.node_uuid` ≠ the node the subject names) goes to `onUnexpected` (`WRONG_PEER`,
   * §3.5 case 5) and the call keeps waiting. Otherwise the id is remembered (case 4), an ack goes out if
   * the answer asks for one, and the ack fields are taken out of the result the caller sees.
   */
  #acceptFinal(entry: Pending, response: RpcResponse): boolean {
    if (!('result' in response)) {
      this.#remember(response.id, entry.subject);
      return true;
    }
    const result = response.result;
    if (result.code === Code.Trying) return true;
    if (entry.peer !== undefined && typeof result.node_uuid === 'string' && result.node_uuid !== entry.peer) {
      this.#logger.warn(
        { id: response.id, expected: entry.peer, got: result.node_uuid },
        'rpc: final answer from the wrong peer',
      );
      this.#unexpected(response, 'WRONG_PEER');
      return false;
    }
    const ackTo = this.#ackTo(result, entry.subject);
    this.#remember(response.id, ackTo);
    if (result[ACK_REQUIRED_FIELD] === true) {
      if (ackTo !== undefined) this.#sendAck(ackTo, response.id);
      const { [ACK_REQUIRED_FIELD]: _required, [ACK_TO_FIELD]: _to, ...rest } = result;
      (response as { result: Record<string, unknown> }).result = rest;
    }
    return true;
  }

  /**
   * Reliable mode, a final answer whose call already got one (case 4): dropped, and acked again if it
   * asks for an ack (the responder resends until acked). True if it was such a duplicate.
   */
  #duplicateFinal(response: RpcResponse): boolean {
    if (response.id === null || !this.#answered.has(response.id)) return false;
    if ('result' in response && response.result.code === Code.Trying) return false;
    this.#logger.debug({ id: response.id }, 'rpc: duplicate final answer dropped');
    if ('result' in response && response.result[ACK_REQUIRED_FIELD] === true) {
      const ackTo = this.#ackTo(response.result, this.#answered.get(response.id));
      if (ackTo !== undefined) this.#sendAck(ackTo, response.id);
    }
    return true;
  }

  #ackTo(result: Record<string, unknown>, fallback: string | undefined): string | undefined {
    const to = result[ACK_TO_FIELD];
    return typeof to === 'string' && to.length > 0 ? to : fallback;
  }

  #remember(id: string | null, ackTo: string | undefined): void {
    if (id === null) return;
    this.#answered.set(id, ackTo ?? '');
    if (this.#answered.size > ANSWERED_MEMORY) {
      const oldest = this.#answered.keys().next().value;
      if (oldest !== undefined) this.#answered.delete(oldest);
    }
  }

  /** `rpc.ack` for one transaction: through the transaction sender (batched into ranges) or alone. */
  #sendAck(subject: string, id: string): void {
    const tx = parseTransactionId(id);
    if (!tx) return;
    try {
      if (this.#sender) {
        this.#sender.ack(subject, tx.originator, tx.epoch, tx.serial);
        return;
      }
      const params = { originator: tx.originator, epoch: tx.epoch, ranges: [[tx.serial, tx.serial]] };
      this.#bus.publish(subject, encode(request(ACK_METHOD, params)));
    } catch (err) {
      // The responder resends the reply on its ack timer; the duplicate is acked again.
      this.#logger.warn({ err, id, subject }, 'rpc: ack could not be sent');
    }
  }

  #unexpected(response: RpcResponse, reason: UnexpectedReason = 'UNKNOWN_ID'): void {
    const hook = this.#options.onUnexpected;
    if (!hook) {
      this.#logger.warn({ id: response.id, response, reason }, 'rpc: response for an unknown or expired id');
      return;
    }
    try {
      hook(response, { reason });
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

/**
 * The long timer of one reliable call: when the method itself may take `timeoutMs` (a ringing Dial, a
 * long prompt), enough legs are added for the long phase to cover it. Only constant-wait timers
 * (factor 1, no increment) are stretched; a growing timer already reaches far.
 */
function stretchLongTimer(timer: IncrementalTimer, timeoutMs: number | undefined): IncrementalTimer {
  if (timeoutMs === undefined || timer.maxRetries === 'infinity' || timer.waitMs <= 0) return timer;
  if ((timer.factor ?? 1) !== 1 || (timer.incrMs ?? 0) !== 0) return timer;
  const legs = Math.ceil(timeoutMs / timer.waitMs);
  return legs - 1 > timer.maxRetries ? { ...timer, maxRetries: legs - 1 } : timer;
}
