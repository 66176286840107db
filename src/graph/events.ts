/**
 * The graph's event log: every stage begin/end, failure, timeout, gate wait, trigger and dropped
 * message, with the clock time. Tests assert ordering from it; operators read why a close was slow.
 */
import type { GraphErrorCode } from './errors.js';
import type { DataKind } from './messages.js';
import type { ManualStage, Stage } from './stages.js';

export type GraphEvent =
  | { type: 'stage_begin'; at: number; extension: string; stage: Stage }
  | { type: 'stage_done'; at: number; extension: string; stage: Stage }
  | { type: 'stage_failed'; at: number; extension: string; stage: Stage; message: string }
  | { type: 'stage_timeout'; at: number; extension: string; stage: Stage; timeoutMs: number }
  /** A callback settled after its stage timed out; the engine ignored it. */
  | { type: 'late_settle'; at: number; extension: string; stage: Stage; outcome: 'ok' | 'error' }
  /** A start stage not begun when close came (TEN skips it). */
  | { type: 'stage_skipped'; at: number; extension: string; stage: Stage }
  /** A manual-stop extension is parked until someone sends the stop trigger. */
  | { type: 'gate_wait'; at: number; extension: string; stage: ManualStage }
  | { type: 'gate_timeout'; at: number; extension: string; stage: ManualStage; timeoutMs: number }
  | {
      type: 'trigger';
      at: number;
      extension: string;
      stage: string;
      /** `queued`/`joined` = answered when the stage completes; otherwise the immediate error code. */
      outcome: 'queued' | 'joined' | GraphErrorCode;
    }
  | { type: 'message_dropped'; at: number; extension: string; kind: DataKind; name: string; reason: string }
  | { type: 'handler_error'; at: number; extension: string; name: string; message: string }
  | { type: 'graph_close'; at: number; reason: string }
  | { type: 'graph_closed'; at: number };

/** An event before the engine stamps `at`. */
export type GraphEventInit = GraphEvent extends infer E
  ? E extends GraphEvent
    ? Omit<E, 'at'>
    : never
  : never;
