/**
 * Messages between extensions: commands (answered by one or more results, the last one `final`) and
 * fire-and-forget messages (data, events, audio and video frames).
 */
import type { GraphErrorCode } from './errors.js';

/** Message kinds a connection routes. `cmd` is answered; the others are sent once, with no result. */
export const MESSAGE_KINDS = ['cmd', 'data', 'event', 'audio_frame', 'video_frame'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
/** The kinds that get no result. */
export type DataKind = Exclude<MessageKind, 'cmd'>;

/** The reserved command that drives a manual lifecycle stage; only ever sent to an explicit destination. */
export const TRIGGER_LIFE_CYCLE = 'ten:trigger_life_cycle';

/** A result to a command. Streamed results are `ok` with `final: false`; errors are always final. */
export type CmdResult =
  | { status: 'ok'; final: boolean; from: string; detail?: unknown }
  | { status: 'error'; final: true; from: string; code: GraphErrorCode; message: string; detail?: unknown };

/** What an `onCmd` handler may return as its final answer (nothing = ok without detail). */
export type CmdReply =
  | { status?: 'ok'; detail?: unknown }
  | { status: 'error'; message: string; detail?: unknown };

/** A command as its receiver sees it. */
export interface IncomingCmd {
  readonly name: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** Qualified name of the sending extension; `undefined` when sent from outside the graph. */
  readonly source: string | undefined;
  /**
   * Streams a non-final ok result to the sender (e.g. partial recognition results). Ignored once the
   * final result went out.
   */
  progress(detail: unknown): void;
}

/** A data/event/frame message as its receiver sees it. */
export interface IncomingData {
  readonly kind: DataKind;
  readonly name: string;
  readonly payload: unknown;
  readonly source: string | undefined;
}

/** Options of `sendCmd` / `streamCmd`. */
export interface SendCmdOptions {
  /**
   * Explicit destination(s): extension names (relative to the sender's subgraph, or qualified
   * `subgraph/extension`) or subgraph names (forwarded through `exposed_messages`). Without it the
   * graph's connections decide.
   */
  dest?: string | readonly string[];
  /** Final result deadline; default: the graph's `cmdTimeoutMs` (180 000). */
  timeoutMs?: number;
}

export function errorResult(from: string, code: GraphErrorCode, message: string): CmdResult {
  return { status: 'error', final: true, from, code, message };
}
