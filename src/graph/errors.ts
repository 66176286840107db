/**
 * Graph failures: `GraphSpecError` for a graph refused at load (each issue names the node or
 * connection at fault), `GraphStartError` for a graph whose startup failed (it has been closed), and
 * the `GraphErrorCode`s that error command results carry.
 */
import type { Stage } from './stages.js';

/**
 * Codes carried by error command results (`CmdResult.code`). Each failure has its own code so a
 * sender can tell them apart without parsing messages.
 */
export const GRAPH_ERROR_CODES = [
  /** `ten:trigger_life_cycle` without a `stage` field. */
  'MISSING_STAGE',
  /** `stage` is not one of configure/init/start/stop/deinit. */
  'UNKNOWN_STAGE',
  /** A real stage that cannot be triggered manually (yet): configure, init, deinit. */
  'UNSUPPORTED_STAGE',
  /** The extension does not declare this stage in `property.ten.manual_trigger_life_cycle`. */
  'NOT_MANUAL',
  /** The stage has already completed; a new trigger is answered at once, never left hanging. */
  'STAGE_ALREADY_DONE',
  /** The stage will never run: close began before it started (start is skipped on close). */
  'STAGE_PASSED',
  /** The stage ran but failed (threw or timed out). */
  'STAGE_FAILED',
  /** No connection routes this message from the sender, or the destination does not exist. */
  'NO_ROUTE',
  /** A subgraph destination does not expose this message. */
  'NOT_EXPOSED',
  /** The receiver has no `onCmd` handler. */
  'NO_HANDLER',
  /** The receiver's `onCmd` threw or returned an error result. */
  'HANDLER_ERROR',
  /** The receiver or the sender closed (deinit done, or closed before init) with the command open. */
  'CLOSED',
  /** No final result came back within the command timeout. */
  'PATH_TIMEOUT',
] as const;
export type GraphErrorCode = (typeof GRAPH_ERROR_CODES)[number];

/** One problem found in a graph spec. `where` names the node, connection or field at fault. */
export interface GraphSpecIssue {
  where: string;
  message: string;
}

/** A graph refused at load; `issues` lists every problem found, each naming where it is. */
export class GraphSpecError extends Error {
  override readonly name = 'GraphSpecError';
  readonly issues: readonly GraphSpecIssue[];

  constructor(issues: readonly GraphSpecIssue[]) {
    super(`invalid graph: ${issues.map((i) => `${i.where}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/** One extension that failed a stage. */
export interface StageFailure {
  extension: string;
  stage: Stage;
  reason: 'error' | 'timeout';
  message: string;
}

/** Startup failed (a configure/init/start threw or timed out). The graph was closed before this rejects. */
export class GraphStartError extends Error {
  override readonly name = 'GraphStartError';
  readonly failures: readonly StageFailure[];

  constructor(failures: readonly StageFailure[]) {
    super(
      `graph start failed: ${failures.map((f) => `${f.extension} ${f.stage} ${f.reason}: ${f.message}`).join('; ')}`,
    );
    this.failures = failures;
  }
}

/** A graph used in a way its state does not allow (e.g. `start()` twice, or after close). */
export class GraphStateError extends Error {
  override readonly name = 'GraphStateError';
}
