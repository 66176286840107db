/**
 * Structured concurrency for a flow (effection's model): child tasks run under the flow's signal, can be
 * bound to extra signals (a user's ownership lease), never outlive the flow — `close()` cancels the live
 * ones and resolves only after every one of them finished — and a child that fails (rather than being
 * cancelled) fails its flow.
 */
import { linkSignals } from '../ctrl/index.js';
import { isFlowInterruption } from './errors.js';

/** A child task of a flow. */
export interface Task<T> {
  readonly name: string;
  /** Aborted when the task must stop (flow ended, task cancelled, a bound user preempted). */
  readonly signal: AbortSignal;
  /** The task's outcome. Awaiting it is optional: a failure (not a cancellation) also fails the flow. */
  readonly result: Promise<T>;
  /** True once the task finished. */
  readonly settled: boolean;
  /** Aborts the task and resolves when it finished (never rejects). A no-op on a finished task. */
  cancel(reason?: unknown): Promise<void>;
}

export interface SpawnOptions {
  /** For logs (default `task-<n>`). */
  name?: string;
  /** Extra signals that stop the task (the flow's signal always does). */
  signals?: AbortSignal[];
}

export interface TaskScopeOptions {
  /** The parent's signal: aborting it aborts every child. */
  parent: AbortSignal;
  /** Called with a child's failure (an error that is not an interruption). */
  onFailure: (err: unknown, task: string) => void;
}

const noop = (): void => {};

/** The set of child tasks of one flow. */
export class TaskScope {
  readonly #parent: AbortSignal;
  readonly #onFailure: (err: unknown, task: string) => void;
  readonly #live = new Map<Promise<unknown>, AbortController>();
  #seq = 0;

  constructor(options: TaskScopeOptions) {
    this.#parent = options.parent;
    this.#onFailure = options.onFailure;
  }

  /** Tasks still running. */
  get size(): number {
    return this.#live.size;
  }

  /** Starts `fn` as a child task with its own signal (aborted with the parent or `signals`). */
  spawn<T>(fn: (signal: AbortSignal) => Promise<T>, options: SpawnOptions = {}): Task<T> {
    const name = options.name ?? `task-${++this.#seq}`;
    const own = new AbortController();
    const linked = linkSignals(this.#parent, own.signal, ...(options.signals ?? []));
    let settled = false;
    const run = async (): Promise<T> => {
      // Starts on a microtask so `spawn` returns before the task body runs (no re-entrancy surprises).
      await Promise.resolve();
      if (linked.signal.aborted) throw linked.signal.reason;
      return fn(linked.signal);
    };
    const result = run();
    const done = result.then(
      () => undefined,
      (err: unknown) => {
        if (!isFlowInterruption(err) && !linked.signal.aborted) this.#onFailure(err, name);
      },
    );
    this.#live.set(done, own);
    void done.finally(() => {
      settled = true;
      linked.dispose();
      this.#live.delete(done);
    });
    // The outcome is reported through onFailure; an unawaited `result` must not be an unhandled rejection.
    void result.catch(noop);
    return {
      name,
      signal: linked.signal,
      result,
      get settled() {
        return settled;
      },
      cancel: async (reason?: unknown) => {
        if (!settled) own.abort(reason);
        await done;
      },
    };
  }

  /** Aborts every live task with `reason` and resolves when all (including any they spawned) finished. */
  async close(reason: unknown): Promise<void> {
    while (this.#live.size > 0) {
      for (const ac of this.#live.values()) if (!ac.signal.aborted) ac.abort(reason);
      await Promise.all([...this.#live.keys()]);
    }
  }
}
