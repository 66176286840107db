/**
 * The node's media seam. The node (channel state machine, takeover, XNode.* methods, events) talks to
 * media only through `MediaBackend`; `sim` (virtual callers on a Clock) implements it today, `sip`
 * (real SIP/RTP) later. Everything here is cancellable with an AbortSignal: when the signal aborts, the
 * operation stops at once and its promise rejects with the signal's reason.
 */

/** XCC Media object (reference §5.1). */
export interface MediaSpec {
  type?: 'FILE' | 'TEXT' | 'SSML';
  data: string;
  engine?: string;
  voice?: string;
  loop?: number;
  offset?: number;
  silence_ms?: number;
}

/** How a simulated inbound caller behaves once its call exists (documented in docs/simulator.md). */
export type CallerStep =
  | { wait: number }
  | { dtmf: string }
  | { say: string }
  | { hangup: { cause?: string } };

/** How a simulated outbound destination behaves when dialled. */
export interface DestinationBehaviour {
  /** Ring this long then answer (default 1000). */
  answer_after_ms?: number;
  /** Reject with USER_BUSY after `ring_ms` (default 0). */
  busy?: boolean;
  /** Never answer: ends with NO_ANSWER when the ring timeout expires. */
  no_answer?: boolean;
  /** Reject with this cause (e.g. CALL_REJECTED) after `ring_ms`. */
  reject?: string;
  /** Send early media (MEDIA before ANSWERED) after this many ms of ringing (true = at once). */
  early_media?: boolean | number;
  /** Ring time before busy/reject (default 0). */
  ring_ms?: number;
  /** What the far end does after answering (same steps as an inbound caller). */
  script?: CallerStep[];
}

/** A new inbound call the backend announces to the node. */
export interface InboundOffer {
  cid_name: string;
  cid_number: string;
  dest_number: string;
  domain?: string;
  context?: string;
  /** Channel variables the call arrives with. */
  variables?: Record<string, string>;
  /** The far end's behaviour once the channel exists. */
  script?: CallerStep[];
  /** Announce on this subject instead of the ctrl queue group (the `xcc cn.xswitch.ctrl.<uuid>` app argument). */
  subject?: string;
}

/** Things the far end of a channel does, reported by the backend to the node as they happen. */
export type FarEndEvent =
  | { kind: 'dtmf'; digit: string; durationMs: number }
  | { kind: 'speech'; text: string }
  | { kind: 'hangup'; cause: string };

/** Progress of an outbound attempt, in order. Exactly one terminal item ends it. */
export type OriginateProgress =
  | { kind: 'ringing' }
  | { kind: 'early_media' }
  | { kind: 'answered' }
  | { kind: 'failed'; cause: string };

export interface OriginateRequest {
  dest_number: string;
  dial_string?: string;
  /** Ring timeout in ms (from CallParam.timeout / leg_timeout); `no_answer` ends here with NO_ANSWER. */
  timeoutMs: number;
  variables: Record<string, string>;
}

export interface PlayOutcome {
  /** Milliseconds actually played. */
  playedMs: number;
}

export interface RecordOutcome {
  /** The path as requested. */
  path: string;
  /** Where the file was actually written (absolute), when the backend writes files. */
  file?: string;
  recordMs: number;
  size: number;
  samples: number;
  terminator?: string;
  completion_cause: string;
}

/** Options of `MediaSession.record`. */
export interface RecordOptions {
  path: string;
  limitSec?: number;
  terminators?: string;
  silenceSec?: number;
  rate?: number;
  /**
   * Called once the file is on disk, whatever ended the recording — including an abort, where the
   * promise has already rejected with the signal's reason (lets the node report Event.Record STOP).
   */
  onWritten?: (outcome: RecordOutcome) => void;
}

export interface CollectOptions {
  minDigits: number;
  maxDigits: number;
  timeoutMs: number;
  digitTimeoutMs: number;
  terminators: string;
  /** The prompt played first; digits typed during it count (barge-in). */
  prompt?: MediaSpec;
}

export interface CollectOutcome {
  digits: string;
  terminator: string;
  /** `ok`: enough digits or a terminator; `timeout`: not enough digits in time. */
  reason: 'ok' | 'timeout';
}

export interface SpeechOptions {
  prompt?: MediaSpec;
  noInputTimeoutMs: number;
  speechTimeoutMs: number;
  /** Also accept DTMF (DetectSpeech with `dtmf`). */
  dtmf?: CollectOptions;
}

export type SpeechOutcome =
  | { type: 'Speech.End'; text: string; confidence: number }
  | { type: 'DTMF'; dtmf: string; terminator: string }
  | { type: 'ERROR'; error: 'no_input' | 'speech_timeout' };

/** Media of one channel. Every method rejects with the signal's reason when aborted. */
export interface MediaSession {
  /** Plays for the media's real duration in clock time (WAV length, TEXT estimate, silence_stream://N). */
  play(media: MediaSpec, signal: AbortSignal): Promise<PlayOutcome>;
  /** Duration in ms the media would play for, or an Error describing why it cannot be played. */
  durationOf(media: MediaSpec): Promise<number | Error>;
  /** Records until `limitSec`, a terminator digit, `silenceSec` of silence, or the signal aborts. */
  record(options: RecordOptions, signal: AbortSignal): Promise<RecordOutcome>;
  collectDigits(options: CollectOptions, signal: AbortSignal): Promise<CollectOutcome>;
  detectSpeech(options: SpeechOptions, signal: AbortSignal): Promise<SpeechOutcome>;
  /** Sends DTMF to the far end (a scripted far end may react). */
  sendDtmf(digits: string): void;
  /**
   * Starts the far end's script now, after any script already running. Outbound legs whose media opened
   * early (MEDIA before ANSWERED) get their post-answer script this way, at answer.
   */
  startScript(script: CallerStep[]): void;
  /** Releases everything (timers, script runner). Idempotent. */
  close(): void;
}

export interface MediaBackend {
  readonly name: string;
  /**
   * Starts the backend. `sink.inbound` is called for each new inbound call; it returns the channel
   * uuid the node created (or throws when the node refuses calls, e.g. during shutdown).
   */
  start(sink: MediaSink): void;
  /** Stops generating calls and releases everything. */
  stop(): Promise<void>;
  /**
   * Opens media for a channel. `events` is how the far end's DTMF, speech and hangups reach the node.
   * The channel's script starts running now: open inbound channels when they are created and outbound
   * ones when they are `answered` (pass the originate's `script`). A bad script throws a typed error.
   */
  open(
    channel: { uuid: string; direction: 'inbound' | 'outbound'; script?: CallerStep[] },
    events: (ev: FarEndEvent) => void,
  ): MediaSession;
  /** Places an outbound leg; yields progress until a terminal item. Aborting cancels the attempt. */
  originate(
    request: OriginateRequest,
    signal: AbortSignal,
  ): AsyncIterable<OriginateProgress> & {
    /** The far end's post-answer script, if the destination has one. */
    readonly script?: CallerStep[];
  };
}

export interface MediaSink {
  inbound(offer: InboundOffer): string;
}

/** Why a media operation could not run. */
export type MediaErrorKind = 'not_found' | 'unsupported' | 'invalid' | 'closed' | 'io';

const MEDIA_ERROR_CODES: Readonly<Record<MediaErrorKind, number>> = {
  not_found: 404,
  unsupported: 501,
  invalid: 400,
  closed: 410,
  io: 500,
};

/**
 * A media operation failed for a reason other than an abort (an abort rejects with the signal's reason).
 * `code` is the XCC result code a node should answer with.
 *
 * @example
 * const d = await session.durationOf({ type: 'FILE', data: 'missing.wav' });
 * if (d instanceof MediaError && d.kind === 'not_found') reply(d.code, d.message);
 */
export class MediaError extends Error {
  override readonly name = 'MediaError';
  readonly kind: MediaErrorKind;

  constructor(kind: MediaErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }

  /** The XCC result code for this kind: not_found 404, unsupported 501, invalid 400, closed 410, io 500. */
  get code(): number {
    return MEDIA_ERROR_CODES[this.kind];
  }
}
