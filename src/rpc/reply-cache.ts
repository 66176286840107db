/**
 * The responder's reply cache (seed 004, Megaco reply records): one entry per transaction id, in state
 * `eval` while the handler works, `done` with the encoded final answer (kept `ttlMs` after it was sent),
 * or `aborted` after too many duplicates. Owns one Clock timer per finished entry.
 */
import type { Clock, Timer } from '../clock/index.js';

/** One transaction as the responder sees it. */
export type ReplyEntry =
  | { readonly state: 'eval'; readonly id: string; readonly method: string; pendingSent: number }
  | { readonly state: 'done'; readonly id: string; readonly method: string; readonly bytes: Uint8Array }
  | { readonly state: 'aborted'; readonly id: string; readonly method: string };

/**
 * @example
 * const cache = new ReplyCache(clock, 60_000);
 * cache.begin(id, method);
 * // … handler done:
 * cache.complete(id, bytes);
 * cache.get(id); // { state: 'done', bytes }
 */
export class ReplyCache {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, ReplyEntry>();
  readonly #timers = new Map<string, Timer>();

  constructor(clock: Clock, ttlMs: number) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** Entries held (any state). */
  get size(): number {
    return this.#entries.size;
  }

  get(id: string): ReplyEntry | undefined {
    return this.#entries.get(id);
  }

  /** Records a new request in `eval`. */
  begin(id: string, method: string): void {
    this.#entries.set(id, { state: 'eval', id, method, pendingSent: 0 });
  }

  /**
   * Stores the final answer's bytes and starts the TTL. Returns false (and stores nothing) unless the
   * entry is in `eval`: an aborted request's late answer is not sent or kept.
   */
  complete(id: string, bytes: Uint8Array): boolean {
    const entry = this.#entries.get(id);
    if (entry?.state !== 'eval') return false;
    this.#entries.set(id, { state: 'done', id, method: entry.method, bytes });
    this.#expireAfterTtl(id);
    return true;
  }

  /** Marks an entry aborted; it is dropped after the TTL (later duplicates are dropped meanwhile). */
  abort(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry || entry.state === 'aborted') return;
    this.#entries.set(id, { state: 'aborted', id, method: entry.method });
    this.#expireAfterTtl(id);
  }

  /** Forgets an entry now (e.g. a request that needs no answer). */
  delete(id: string): void {
    this.#timers.get(id)?.cancel();
    this.#timers.delete(id);
    this.#entries.delete(id);
  }

  /** Forgets everything and cancels every timer. */
  clear(): void {
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    this.#entries.clear();
  }

  #expireAfterTtl(id: string): void {
    // Why not restart on duplicates: the TTL covers the originator's window from the answer on
    // (Megaco does not restart reply_timer on a resent reply either).
    this.#timers.get(id)?.cancel();
    this.#timers.set(
      id,
      this.#clock.setTimeout(() => {
        this.#timers.delete(id);
        this.#entries.delete(id);
      }, this.#ttlMs),
    );
  }
}
