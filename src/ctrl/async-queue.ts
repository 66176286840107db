/**
 * A push-fed async iterable with one consumer: the building block of `call.events()` and
 * `controller.calls()`. Leaving the `for await` loop (break/throw/return) runs `onReturn`, which is
 * how iterators unsubscribe.
 */

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #buffer: T[] = [];
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #closed = false;
  readonly #onReturn: ((dropped: T[]) => void) | undefined;

  /** `onReturn` runs once when the consumer leaves early, with the items it never took. */
  constructor(onReturn?: (dropped: T[]) => void) {
    this.#onReturn = onReturn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Items pushed and not yet taken. */
  get buffered(): readonly T[] {
    return this.#buffer;
  }

  push(item: T): void {
    if (this.#closed) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ value: item, done: false });
    } else {
      this.#buffer.push(item);
    }
  }

  /** Ends the iteration after the buffered items have been taken. */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiter = this.#waiter;
    if (waiter && this.#buffer.length === 0) {
      this.#waiter = undefined;
      waiter({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#buffer.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    const wasOpen = !this.#closed;
    this.#closed = true;
    const dropped = this.#buffer;
    this.#buffer = [];
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
    if (wasOpen) this.#onReturn?.(dropped);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
