/**
 * The call story: the one high-level record the CDR engine produces per customer call, whatever
 * number of legs, bridges and transfers it took. Pure types plus a few helpers; no I/O. Stores, the
 * CLI and the console read this shape, so it only ever grows (new optional fields), never changes.
 *
 * Times are microseconds since the Unix epoch (`Micros`), as FreeSWITCH's `Event-Date-Timestamp`.
 * Durations are seconds (floats, millisecond precision).
 */

/** Microseconds since the Unix epoch. */
export type Micros = number;

/** Whether a party belongs to us (an extension, an agent) or is outside (a PSTN number). */
export type PartyKind = 'internal' | 'external' | 'unknown';

/**
 * What a party did in the story. `caller`/`callee` are the two ends of the first call; the others
 * appear as the call moves on.
 */
export type PartyRole =
  | 'caller'
  | 'callee'
  | 'agent'
  | 'specialist'
  | 'transfer_target'
  /** Took a parked call out of the lot. */
  | 'retriever'
  | 'forward_target'
  | 'interceptor'
  | 'ivr'
  | 'queue'
  | 'voicemail'
  | 'conference'
  | 'fax';

/**
 * One participant: a person or number, or a service (IVR menu, queue, voicemail box, conference).
 *
 * Party ids are stable within a story: `tel:<number>` for numbers (after the party resolver cleaned
 * them), `login:<login>` for a device login no number was found for, `ivr:<menu>`, `queue:<name>`,
 * `voicemail:<box>`, `conference:<name>`, `fax:<leg>`.
 */
export interface Party {
  id: string;
  role: PartyRole;
  /** The cleaned number (digits, `+`, `*`, `#`), when the party has one. */
  number?: string;
  /** Display name as signalled (caller-id name), when one was usable. */
  name?: string;
  /** A device/SIP login seen where a number should have been. */
  login?: string;
  /** Internal/external; `unknown` only before enrichment or when nothing could tell. */
  kind: PartyKind;
  /** Filled by enrichment from the `Directory`. */
  person?: string;
  /** Filled by enrichment from the `Directory`. */
  department?: string;
}

/** One channel (FreeSWITCH leg) of the story. */
export interface StoryLeg {
  /** `Unique-ID`. */
  uuid: string;
  direction: 'inbound' | 'outbound';
  /** Party id of the calling side of this leg. */
  from?: string;
  /** Party id of the called side of this leg. */
  to?: string;
  createdAt: Micros;
  answeredAt?: Micros;
  endedAt?: Micros;
  /** `Hangup-Cause` (e.g. `NORMAL_CLEARING`, `USER_BUSY`, `PICKED_OFF`). */
  cause?: string;
}

/**
 * Segment kinds of the caller's timeline:
 * - `ring`: a called party alerting; `ivr`: an IVR menu (details.choices = digits pressed);
 * - `queue_wait`: waiting in a callcenter/fifo queue (details.queue, details.outcome answered|abandoned);
 * - `agent_talk`: talking to a queue agent; `talk`: talking to anyone else;
 * - `consult`: the party holding the caller consults someone else (details.with);
 * - `hold`: the caller is on hold; `park`: parked;
 * - `transfer` (details.type attended|blind), `forward`, `pickup`: zero-length markers;
 * - `voicemail` (details.box, details.messageS), `fax` (details.pages, details.success),
 *   `conference` (details.conference).
 */
export type SegmentKind =
  | 'ring'
  | 'ivr'
  | 'queue_wait'
  | 'agent_talk'
  | 'talk'
  | 'consult'
  | 'hold'
  | 'park'
  | 'transfer'
  | 'forward'
  | 'pickup'
  | 'voicemail'
  | 'fax'
  | 'conference';

/** Scalar detail values only, so every store can keep them as JSON. */
export type DetailValue = string | number | boolean;

/** One step of the caller's timeline. Segments are ordered by `start` (then by when they were opened). */
export interface Segment {
  kind: SegmentKind;
  /** Party id of whom (or what) the caller dealt with in this step. */
  party?: string;
  start: Micros;
  end: Micros;
  /** Legs that carried this step. */
  legs: string[];
  details: Record<string, DetailValue>;
}

/**
 * How the call ended for the business:
 * - `answered`: the caller talked to a person (agent, extension, conference);
 * - `abandoned`: the caller gave up (in IVR, queue or while ringing) before talking to anyone;
 * - `busy`, `no_answer`, `failed`: the called side refused, did not answer, or the call failed;
 * - `voicemail`: no talk, but a voicemail was left (or the box was reached);
 * - `fax`: no talk, a fax was received.
 */
export type Disposition = 'answered' | 'abandoned' | 'busy' | 'no_answer' | 'failed' | 'voicemail' | 'fax';

/** A story this one relates to without being merged (same conference, spawned from it). */
export interface RelatedStory {
  id: string;
  via: 'conference' | 'spawned_from' | 'spawned';
}

/** The call story. */
export interface CallStory {
  /** The anchor leg's `Unique-ID` (the first leg of the call); `<uuid>#<n>` for a spawned story. */
  id: string;
  /** Starts at 1; a story amended by late events is emitted again with a higher version. */
  version: number;
  /** `closed` when every leg ended; `timed_out` when the story was finalised by timeout with legs open. */
  state: 'closed' | 'timed_out';
  direction: 'inbound' | 'outbound' | 'internal';
  /** Party id of the caller. */
  from: string;
  /** Party id of the number the caller dialled (the DID for inbound calls). */
  to: string;
  parties: Party[];
  legs: StoryLeg[];
  segments: Segment[];
  disposition: Disposition;
  startedAt: Micros;
  /** When the caller's leg was first answered (by anyone, including an IVR). */
  answeredAt?: Micros;
  endedAt: Micros;
  /** endedAt − startedAt, seconds. */
  totalDurationS: number;
  /** Answered time of the external-facing leg(s), seconds (what a carrier bills). */
  billableS: number;
  /** Time the caller spent talking (talk + agent_talk + conference segments), seconds. */
  talkS: number;
  /** Hangup cause of the anchor leg. */
  hangupCause?: string;
  /** Who hung up first: the caller's side or the far side. */
  hangupBy?: 'caller' | 'callee';
  related: RelatedStory[];
  /** Evidence of trouble the engine worked around (lost, duplicated, late or garbage events). */
  anomalies: string[];
}

/** Seconds between two µs instants, rounded to milliseconds; 0 when either is missing or negative. */
export function secondsBetween(start: Micros | undefined, end: Micros | undefined): number {
  if (start === undefined || end === undefined || end <= start) return 0;
  return Math.round((end - start) / 1000) / 1000;
}
