/**
 * The undo stack of a flow: cleanup steps (always run) and compensations (run only when the flow failed
 * or was cancelled), newest first. A step bound to users runs only if the flow still owns all of them
 * (seed item 5.2: a compensation must not touch a user another flow took). A failing step does not stop
 * the others; failures come back together.
 */
import type { User } from './user.js';

/** A cleanup or compensation step. */
export type UndoStep = () => void | Promise<void>;

export interface UndoEntry {
  /** `always`: cleanup, runs whatever the outcome; `compensate`: runs only after failure or cancellation. */
  kind: 'always' | 'compensate';
  /** The step is skipped unless the flow still owns every one of these users. */
  users: readonly User[];
  step: UndoStep;
  /** For logs and reports. */
  name: string;
}

/** What running the stack did. */
export interface UndoReport {
  ran: string[];
  skipped: string[];
  errors: unknown[];
}

export class UndoStack {
  #entries: UndoEntry[] = [];
  #ran = false;

  get size(): number {
    return this.#entries.length;
  }

  get ran(): boolean {
    return this.#ran;
  }

  push(entry: UndoEntry): void {
    if (this.#ran) throw new Error(`undo step ${entry.name} registered after the flow ended`);
    this.#entries.push(entry);
  }

  /** Runs the entries newest first. `owns` tells whether the flow still owns a user at that moment. */
  async run(options: { failed: boolean; owns: (user: User) => boolean }): Promise<UndoReport> {
    this.#ran = true;
    const entries = this.#entries.reverse();
    this.#entries = [];
    const report: UndoReport = { ran: [], skipped: [], errors: [] };
    for (const entry of entries) {
      if (entry.kind === 'compensate' && !options.failed) continue;
      if (!entry.users.every((u) => options.owns(u))) {
        report.skipped.push(entry.name);
        continue;
      }
      try {
        await entry.step();
        report.ran.push(entry.name);
      } catch (err) {
        report.errors.push(err);
      }
    }
    return report;
  }
}
