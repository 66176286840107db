/**
 * The call events the `call-router` extension sends through the app graph (`event` messages named
 * `call_start`, `call_answer`, `call_end`) and that `billing`, `report` and `metrics` consume. Times are
 * clock milliseconds (`Clock.now()`).
 */

/** Names of the call events, in the order a call produces them. */
export const CALL_EVENTS = ['call_start', 'call_answer', 'call_end'] as const;
export type CallEventName = (typeof CALL_EVENTS)[number];

/** `call_start`: the router took a call (it is accepted, the flow is about to run). */
export interface CallStart {
  uuid: string;
  ctrl_uuid: string;
  node_uuid: string | undefined;
  cid_number: string | undefined;
  dest_number: string | undefined;
  started_at: number;
}

/** `call_answer`: the call's ANSWERED event arrived. */
export interface CallAnswer {
  uuid: string;
  answered_at: number;
}

/** How the flow ended: returned, was cancelled (hang-up, controller close), or threw. */
export type FlowOutcome = 'completed' | 'cancelled' | 'failed';

/** What the per-call pipeline (if any) reported when it closed. */
export interface PipelineSummary {
  /** Milliseconds between the pipeline's billing start and stop (0 if it never started). */
  metered_ms: number;
  /** The recorder's file (relative to the node's record root), when it started a recording. */
  recording?: string;
  /** The speech recogniser's transcript (the simulated recogniser transcribes DTMF and detected text). */
  transcript?: string;
  /** `extension:stage` of every failed stage, or the start error. */
  failures: string[];
}

/** `call_end`: the call is gone (DESTROY or reaped) and its pipeline closed; one per `call_start`. */
export interface CallEnd extends CallStart {
  answered_at: number | undefined;
  ended_at: number;
  cause: string | undefined;
  /** Answered milliseconds: the node's `billmsec` when known, else `ended_at - answered_at`. */
  billable_ms: number;
  /** Per-second billing rounds up: `ceil(billable_ms / 1000)`. */
  billable_seconds: number;
  outcome: FlowOutcome;
  pipeline?: PipelineSummary;
}

/** Narrows an event payload from the graph (typed `unknown`) to one with a string `uuid`. */
export function hasUuid(payload: unknown): payload is { uuid: string } {
  return (
    typeof payload === 'object' &&
    payload !== null &&
    typeof (payload as { uuid?: unknown }).uuid === 'string'
  );
}
