/**
 * Option and result types of the `Call` methods: one options object per channel API, with the
 * defaults written next to each field. Wire names (snake_case) appear only inside `Call`.
 */
import type { CallParamInput, ChannelEvent, DestinationInput, MediaInput } from '../protocol/index.js';

/** What to play: a Media object, or a string taken as a FILE path/URL/stream. */
export type MediaLike = MediaInput | string;

/** Options every blocking primitive takes. */
export interface BlockingOptions {
  /** Cancels the operation: the node is told to stop, then the promise rejects with `CancelledError`. */
  signal?: AbortSignal;
  /**
   * How long to wait for the node's final answer (default: the method's default timeout, reference §1).
   * On expiry the node is told to stop and the promise rejects with `RpcTimeoutError`.
   */
  timeoutMs?: number;
}

/** Options of quick commands (answered at once by the node). They do not inherit the call's signal. */
export interface CommandOptions {
  signal?: AbortSignal;
  /** Default: the method's default timeout (5 s for most). */
  timeoutMs?: number;
}

export interface AcceptOptions extends CommandOptions {
  /** Take the call from the controller that owns it (default false: a 419 `ConflictError` instead). */
  takeover?: boolean;
  /** Channel variables to subscribe to (carried in later events' `params`). */
  channelParams?: string[];
}

export interface AnswerOptions extends CommandOptions {
  channelParams?: string[];
}

/** Hangup flag: which legs to hang up. */
export type HangupFlag = 'SELF' | 'PEER' | 'BOTH';

export interface HangupOptions extends CommandOptions {
  /** FreeSWITCH hangup cause (default `NORMAL_CLEARING`). */
  cause?: string;
  /** Default `SELF`. */
  flag?: HangupFlag;
  /** Channel variables set before hanging up. */
  variables?: Record<string, string>;
}

export type BroadcastOption = 'BOTH' | 'ALEG' | 'BLEG' | 'AHOLDB' | 'BHOLDA';

export interface BroadcastOptions extends CommandOptions {
  /** Which legs hear it (default: the node's, BOTH). */
  option?: BroadcastOption;
}

export type RecordAction = 'RECORD' | 'START' | 'STOP' | 'MASK' | 'UNMASK';

export interface RecordOptions extends BlockingOptions {
  /** File path (or URL) to record to. Required. */
  path: string;
  /**
   * `RECORD` (default) blocks until the recording ends and is cancellable (Stop is sent on abort);
   * `START`/`STOP`/`MASK`/`UNMASK` are quick commands.
   */
  action?: RecordAction;
  /** Maximum length in seconds. */
  limitSec?: number;
  /** `"default"` or a TGML tone. */
  beep?: string;
  /** DTMF keys that end the recording. */
  terminators?: string;
  /** Stop after this many seconds of silence. */
  silenceSec?: number;
  /** VAD threshold, 0 = off, 1–10000. */
  thresh?: number;
  rate?: 8000 | 16000 | 22050 | 24000 | 32000 | 44100 | 48000;
}

export interface RecordResult {
  path: string | undefined;
  /** The key that ended the recording, if any. */
  terminator: string | undefined;
}

export interface ReadDtmfOptions {
  /** Cancels collection: Stop is sent to the node, then the promise rejects with `CancelledError`. */
  signal?: AbortSignal;
  /** Fewest digits (default 1). */
  min?: number;
  /** Most digits (default 1). */
  max?: number;
  /** The node's overall input timeout in ms (wire `timeout`; node default 5000). */
  timeoutMs?: number;
  /**
   * How long the controller waits for the answer (default: the larger of 60 s and the input timeout
   * plus `max` inter-digit timeouts plus 10 s). On expiry Stop is sent and `RpcTimeoutError` rejects.
   */
  rpcTimeoutMs?: number;
  /** Inter-digit timeout in ms (node default 2000). */
  digitTimeoutMs?: number;
  /** Keys that end input, e.g. `"#"`. */
  terminators?: string;
  /** Prompt played while collecting. */
  prompt?: MediaLike;
  /** Input must match this regular expression. */
  regex?: string;
  /** Played when input fails `regex`. */
  invalidPrompt?: MediaLike;
}

/** Why digit collection ended: enough digits/terminator, timeout, or `regex` mismatch. */
export type ReadReason = 'ok' | 'timeout' | 'invalid';

export interface ReadDtmfResult {
  digits: string;
  terminator: string | undefined;
  reason: ReadReason;
}

export interface DetectSpeechOptions extends BlockingOptions {
  prompt?: MediaLike;
  /** ASR settings (wire SpeechRequest; `engine`, `no_input_timeout`, ...). Default `{}`. */
  speech?: Record<string, unknown>;
  /** Also collect DTMF (wire DTMFRequest). */
  dtmf?: Record<string, unknown>;
}

export type FlowControl = 'NONE' | 'CALLER' | 'CALLEE' | 'ANY';

export interface BridgeOptions extends BlockingOptions {
  /** Who to call: a dial string / number, or call params. Either `to` or `destination`. */
  to?: string | CallParamInput[];
  /** A full wire Destination (overrides `to`). */
  destination?: DestinationInput;
  /** What a hangup of one side does to the other (default: the node's, NONE). */
  flowControl?: FlowControl;
  /** Keep the a-leg on failure: true (node default), false, or a list of causes. */
  continueOnFail?: boolean | string[];
  /** Ringback played to the a-leg, e.g. `%(1000,4000,450)`. */
  ringback?: string;
}

export interface BridgeResult {
  /** `SUCCESS`, or the cause the bridge ended with. */
  cause: string | undefined;
}

export interface ChannelBridgeOptions extends BlockingOptions {
  flowControl?: FlowControl;
  /** Delay before bridging, ms. */
  bridgeDelay?: number;
}

export type HoldAction = 'ON' | 'OFF' | 'TOGGLE';

export interface HoldOptions extends CommandOptions {
  /** Text for phones that show it. */
  display?: string;
}

export interface MuteOptions extends CommandOptions {
  /** Default: the node's (BOTH). */
  direction?: 'WRITE' | 'READ' | 'BOTH';
  level?: number;
  flag?: 'FIRST' | 'LAST';
}

export interface SetVarOptions extends CommandOptions {
  /** Also subscribe these variables (later events carry them in `params`). */
  channelParams?: string[];
}

export interface ConferenceOptions extends BlockingOptions {
  profile?: string;
  flags?: string[];
}

export interface WaitForOptions {
  signal?: AbortSignal;
  /** Give up after this long (default: no limit beyond the call's life) with `RpcTimeoutError`. */
  timeoutMs?: number;
}

/** How a call's tracking ended: a DESTROY from the node, or one of the controller's reasons. */
export type EndReason =
  | 'destroyed'
  | 'node-lost'
  | 'max-lifetime'
  | 'controller-closed'
  | 'taken-over'
  | 'dropped';

/** What `call.ended` resolves with. */
export interface DestroyInfo {
  reason: EndReason;
  /** Hangup cause from the DESTROY event (undefined when the call was reaped). */
  cause: string | undefined;
  /** Seconds from creation to hangup (the event's `duration`), if known. */
  durationSec: number | undefined;
  /** Seconds answered (`billsec`), if known. */
  billsec: number | undefined;
  /** Milliseconds answered (`billmsec`), if known. */
  billmsec: number | undefined;
  /** The DESTROY event itself, when there was one. */
  event: ChannelEvent | undefined;
}

/** A non-channel event routed to a call (`Event.DTMF`, `Event.DetectedData`, `Event.Record`, ...). */
export interface CallNotification {
  method: string;
  params: Record<string, unknown>;
}
