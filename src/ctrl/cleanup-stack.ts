/**
 * The cleanup stack of a call's flow (`call.defer(fn)`): steps run newest first, every step runs even
 * when an earlier one throws, and failures come back as one `AggregateError` — never swallowed.
 */

/** A cleanup step: may be async; its rejection is collected, not thrown. */
export type CleanupStep = () => void | Promise<void>;

export class CleanupStack {
  #steps: CleanupStep[] = [];
  #ran = false;
  readonly #onLateFailure: (err: AggregateError) => void;

  /** `onLateFailure` receives the failure of a step deferred after `run()` (run at once; see `defer`). */
  constructor(onLateFailure: (err: AggregateError) => void = () => {}) {
    this.#onLateFailure = onLateFailure;
  }

  /** Number of steps registered and not yet run. */
  get size(): number {
    return this.#steps.length;
  }

  /** True once `run()` started. */
  get ran(): boolean {
    return this.#ran;
  }

  /**
   * Registers a step. After the stack has run, the step runs at once instead (the resource it cleans
   * up was acquired too late to be covered) and a failure goes to `onLateFailure`.
   */
  defer(step: CleanupStep): void {
    if (!this.#ran) {
      this.#steps.push(step);
      return;
    }
    // Handed to onLateFailure: runSteps never rejects.
    void runSteps([step]).then((err) => {
      if (err) this.#onLateFailure(err);
    });
  }

  /** Runs every step newest first. Resolves with an `AggregateError` of the failures, if any. */
  run(): Promise<AggregateError | undefined> {
    this.#ran = true;
    const steps = this.#steps.reverse();
    this.#steps = [];
    return runSteps(steps);
  }
}

async function runSteps(steps: CleanupStep[]): Promise<AggregateError | undefined> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  return errors.length === 0
    ? undefined
    : new AggregateError(errors, `${errors.length} cleanup step(s) failed`);
}
