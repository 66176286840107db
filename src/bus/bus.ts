/**
 * The message bus with NATS semantics: subjects with `*`/`>` wildcards, plain and queue-group
 * subscriptions, request/reply through a one-shot inbox with timeout and no-responders, drain and close.
 * `NatsBus` wraps the official client; `MemoryBus` is the same contract in one process.
 */

export interface BusMsg {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Inbox to answer on, if the sender asked for a reply. */
  readonly reply: string | undefined;
  /** Publishes `data` to `reply`. Returns false (and sends nothing) if there is no reply subject. */
  respond(data: Uint8Array): boolean;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /**
   * Called for each message, in order. A throwing callback is logged by the bus and does not stop the
   * subscription. Without a callback the subscription is an async iterable instead.
   */
  callback?: (msg: BusMsg) => void;
}

export interface Subscription extends AsyncIterable<BusMsg> {
  readonly subject: string;
  readonly queue: string | undefined;
  /** Stops delivery; iterators end. Idempotent. */
  unsubscribe(): void;
  readonly isClosed: boolean;
}

export interface RequestOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Bus {
  /** Largest payload the bus carries; larger publishes throw `PayloadTooLargeError`. */
  readonly maxPayload: number;
  publish(subject: string, data: Uint8Array, options?: { reply?: string }): void;
  subscribe(subject: string, options?: SubscribeOptions): Subscription;
  /**
   * Publishes with a fresh inbox and resolves with the first reply. Rejects with `BusTimeoutError`,
   * `BusNoRespondersError` (nobody subscribed), the signal's reason, or `BusClosedError`.
   */
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMsg>;
  /** A fresh unique inbox subject. */
  inbox(): string;
  /** Resolves once everything published so far has reached the server (MemoryBus: delivered). */
  flush(): Promise<void>;
  /** Stops subscriptions after delivering what was received, flushes, then closes. */
  drain(): Promise<void>;
  /** Closes at once; pending requests reject with `BusClosedError`. Idempotent. */
  close(): Promise<void>;
  /** Resolves when the bus is closed (by us, or for good by the server). */
  readonly closed: Promise<void>;
  /** Called after the underlying connection came back (NatsBus); MemoryBus never calls it. */
  onReconnect(listener: () => void): () => void;
  /**
   * Called when the underlying connection is lost (NatsBus: the client's `disconnect` status; MemoryBus:
   * its `simulateDisconnect()` test hook). Optional: a bus without it never reports disconnects.
   * Returns a disposer.
   */
  onDisconnect?(listener: () => void): () => void;
  /** Number of live subscriptions this bus holds (leak checks use it). */
  readonly subscriptionCount: number;
}
