/**
 * `Mailbox`: how the outside world talks to a running flow (seed item 5) — an operator command posted
 * as a message, or a request whose reply the sender awaits. The flow takes letters with `receive()`
 * inside its own code, so a message never interrupts what the flow is doing; it is handled when the flow
 * asks for it. When the flow ends, the mailbox closes: posting fails, pending requests are rejected.
 */
import type { Clock, Timer } from '../clock/index.js';
import { MailboxClosedError } from './errors.js';

/** One received message. `reply`/`fail` answer a request; for a plain post they do nothing. */
export interface Letter<M, R> {
  readonly message: M;
  /** True when the sender awaits a reply (`request`). */
  readonly wantsReply: boolean;
  reply(value: R): void;
  fail(error: unknown): void;
}

/** Options of `request` and `receive`. */
export interface MailboxWaitOptions {
  signal?: AbortSignal;
  /** Give up after this long (default: no limit) with a `MailboxTimeoutError`. */
  timeoutMs?: number;
}

/** A request or receive that waited longer than its `timeoutMs`. */
export class MailboxTimeoutError extends Error {
  override readonly name = 'MailboxTimeoutError';
}

interface Pending<R> {
  settle(outcome: { ok: true; value: R } | { ok: false; error: unknown }): void;
}

/**
 * A typed mailbox with one consumer (the flow). `M` is the message type (typically a discriminated
 * union of commands), `R` the reply type of requests.
 *
 * @example
 * // inside the flow
 * const letter = await session.receive();
 * switch (letter.message.type) { case 'status': letter.reply({ members: meet.members.size }); break; ... }
 * // outside
 * const status = await handle.request({ type: 'status' }, { timeoutMs: 5000 });
 */
export class Mailbox<M, R = void> {
  readonly #clock: Clock;
  readonly #owner: string;
  #letters: Letter<M, R>[] = [];
  #receivers: { resolve(l: Letter<M, R>): void; reject(err: unknown): void }[] = [];
  /** Requests not yet answered (queued or received). */
  #open = new Set<Pending<R>>();
  #closed = false;

  constructor(clock: Clock, owner: string) {
    this.#clock = clock;
    this.#owner = owner;
  }

  get closed(): boolean {
    return this.#closed;
  }
  /** Letters waiting to be received. */
  get size(): number {
    return this.#letters.length;
  }
  /** Requests sent and not answered yet. */
  get openRequests(): number {
    return this.#open.size;
  }

  /** Posts a message with no reply. Throws `MailboxClosedError` after the flow ended. */
  post(message: M): void {
    if (this.#closed) throw new MailboxClosedError(this.#owner);
    this.#deliver({ message, wantsReply: false, reply: () => {}, fail: () => {} });
  }

  /** Sends a message and resolves with the flow's reply. Rejects if the flow ends without replying. */
  request(message: M, options: MailboxWaitOptions = {}): Promise<R> {
    if (this.#closed) return Promise.reject(new MailboxClosedError(this.#owner));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    return new Promise<R>((resolve, reject) => {
      let timer: Timer | undefined;
      const onAbort = (): void => pending.settle({ ok: false, error: options.signal?.reason });
      const pending: Pending<R> = {
        settle: (outcome) => {
          if (!this.#open.delete(pending)) return;
          timer?.cancel();
          options.signal?.removeEventListener('abort', onAbort);
          if (outcome.ok) resolve(outcome.value);
          else reject(outcome.error);
        },
      };
      this.#open.add(pending);
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        timer = this.#clock.setTimeout(
          () => pending.settle({ ok: false, error: new MailboxTimeoutError(`no reply within ${ms} ms`) }),
          ms,
        );
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#deliver({
        message,
        wantsReply: true,
        reply: (value) => pending.settle({ ok: true, value }),
        fail: (error) => pending.settle({ ok: false, error }),
      });
    });
  }

  /** The next letter (waiting if there is none). Rejects with `MailboxClosedError` once closed and empty. */
  receive(options: MailboxWaitOptions = {}): Promise<Letter<M, R>> {
    const ready = this.#letters.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closed) return Promise.reject(new MailboxClosedError(this.#owner));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    return new Promise<Letter<M, R>>((resolve, reject) => {
      let timer: Timer | undefined;
      const finish = (): void => {
        timer?.cancel();
        options.signal?.removeEventListener('abort', onAbort);
        this.#receivers = this.#receivers.filter((r) => r !== receiver);
      };
      const receiver = {
        resolve: (l: Letter<M, R>) => {
          finish();
          resolve(l);
        },
        reject: (err: unknown) => {
          finish();
          reject(err);
        },
      };
      const onAbort = (): void => receiver.reject(options.signal?.reason);
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        timer = this.#clock.setTimeout(
          () => receiver.reject(new MailboxTimeoutError(`no message within ${ms} ms`)),
          ms,
        );
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#receivers.push(receiver);
    });
  }

  /** Closes: receivers and every unanswered request are rejected with `MailboxClosedError`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = new MailboxClosedError(this.#owner);
    for (const r of [...this.#receivers]) r.reject(error);
    this.#letters = [];
    for (const p of [...this.#open]) p.settle({ ok: false, error });
  }

  #deliver(letter: Letter<M, R>): void {
    const receiver = this.#receivers[0];
    if (receiver) receiver.resolve(letter);
    else this.#letters.push(letter);
  }
}
