/**
 * A binary min-heap of items keyed by a due time, with removal and re-keying by position (each item
 * stores its own index). The router keeps every open call in one, behind a single clock timer,
 * instead of one timer per call.
 */

/** An item of a {@link DeadlineHeap}: `dueAt` is its key, `heapIndex` is managed by the heap (-1: out). */
export interface HeapItem {
  dueAt: number;
  heapIndex: number;
}

export class DeadlineHeap<T extends HeapItem> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The item due first, or undefined. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds `item` due at `dueAt`, or moves it there when it is already in. */
  set(item: T, dueAt: number): void {
    const moveUp = item.heapIndex < 0 || dueAt < item.dueAt;
    item.dueAt = dueAt;
    if (item.heapIndex < 0) {
      item.heapIndex = this.#items.length;
      this.#items.push(item);
    }
    if (moveUp) this.#up(item.heapIndex);
    else this.#down(item.heapIndex);
  }

  /** Takes `item` out (no-op when it is not in). */
  delete(item: T): void {
    const at = item.heapIndex;
    if (at < 0) return;
    const last = this.#items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.#items[at] = last;
    last.heapIndex = at;
    this.#up(at);
    this.#down(last.heapIndex);
  }

  /** Empties the heap. */
  clear(): void {
    for (const item of this.#items) item.heapIndex = -1;
    this.#items.length = 0;
  }

  #up(at: number): void {
    const items = this.#items;
    const item = items[at]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const p = items[parent]!;
      if (p.dueAt <= item.dueAt) break;
      items[at] = p;
      p.heapIndex = at;
      at = parent;
    }
    items[at] = item;
    item.heapIndex = at;
  }

  #down(at: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[at]!;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && items[right]!.dueAt < items[left]!.dueAt ? right : left;
      const c = items[child]!;
      if (c.dueAt >= item.dueAt) break;
      items[at] = c;
      c.heapIndex = at;
      at = child;
    }
    items[at] = item;
    item.heapIndex = at;
  }
}
