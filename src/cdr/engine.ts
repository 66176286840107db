/**
 * The story engine: router (correlation) → extractors (patterns) → finalisation (disposition,
 * durations, direction) → enrichment (Directory, once per story) → `onStory`. Stories are built
 * from each finished call's events replayed in `(timestamp, sequence)` order, so the result does
 * not depend on arrival order, duplicates, or which redundant event was lost.
 */
import type { Clock } from '../clock/index.js';
import { CachingDirectory, type Directory } from './directory.js';
import { defaultExtractors, type Extractor, type PartnerChange, StoryContext } from './extractors/index.js';
import type { SwitchEvent } from './input/index.js';
import { applyToLeg, END_EVENTS, legIdOf } from './router/leg.js';
import { isNumberLike, resolveParty } from './router/party-resolver.js';
import { type ReadyCall, Router, type RouterOptions, type RouterStats } from './router/router.js';
import {
  type CallStory,
  type Disposition,
  type Micros,
  type Party,
  type PartyKind,
  type StoryLeg,
  secondsBetween,
} from './story.js';

/** Options of {@link StoryEngine}. */
export interface StoryEngineOptions {
  clock: Clock;
  /** Receives every finished story (and again, with a higher version, when late events amend it). */
  onStory: (story: CallStory) => void;
  /**
   * Enrichment source; wrapped in a `CachingDirectory`, which drops its answers when the directory's
   * `revision` moves (a reload). Default: none (kinds guessed from numbers).
   */
  directory?: Directory;
  /** Pattern plug-ins. Default `defaultExtractors()`. */
  extractors?: Extractor[];
  /** Router tuning (reorder window, quiet period, idle timeout, de-duplication memory, caps, headers). */
  router?: Omit<RouterOptions, 'clock' | 'onReady'>;
  /** Called when building or enriching one story throws (the story is skipped, the engine goes on). */
  onError?: (error: unknown, storyId: string) => void;
}

/**
 * @example
 * const engine = new StoryEngine({ clock: new RealClock(), onStory: (s) => store.save(s) });
 * for (const ev of readEvents(text, 'esl-plain')) engine.ingest(ev);
 * await engine.finalizeAll();
 */
export class StoryEngine {
  readonly #router: Router;
  readonly #extractors: Extractor[];
  readonly #directory: Directory | undefined;
  readonly #onStory: (story: CallStory) => void;
  readonly #onError: (error: unknown, storyId: string) => void;
  readonly #versions = new Map<string, number>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: StoryEngineOptions) {
    this.#extractors = options.extractors ?? defaultExtractors();
    this.#directory =
      options.directory === undefined
        ? undefined
        : new CachingDirectory(options.directory, { clock: options.clock });
    this.#onStory = options.onStory;
    this.#onError = options.onError ?? (() => undefined);
    const headers = [
      ...(options.router?.headers ?? []),
      ...this.#extractors.flatMap((ex) => ex.headers ?? []),
    ];
    this.#router = new Router({
      ...options.router,
      headers,
      clock: options.clock,
      onReady: (call) => this.#ready(call),
    });
  }

  /** Takes one switch event. */
  ingest(ev: SwitchEvent): void {
    this.#router.ingest(ev);
  }

  /** Releases the reorder buffer (end of a replay). */
  flush(): void {
    this.#router.flush();
  }

  /** Finalises every open call now and resolves when their stories were emitted. */
  async finalizeAll(): Promise<void> {
    this.#router.finalizeAll();
    await this.idle();
  }

  /** Resolves when every story handed to enrichment was emitted. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Drops open state and timers (call `finalizeAll` first to keep it). */
  async close(): Promise<void> {
    this.#router.close();
    await this.idle();
  }

  get stats(): RouterStats {
    return this.#router.stats;
  }

  #ready(call: ReadyCall): void {
    let story: CallStory;
    try {
      story = buildStory(call, this.#extractors);
    } catch (err) {
      this.#onError(err, call.id);
      return;
    }
    const version = (this.#versions.get(story.id) ?? 0) + 1;
    this.#versions.set(story.id, version);
    if (this.#versions.size > 100_000) {
      const oldest = this.#versions.keys().next().value;
      if (oldest !== undefined) this.#versions.delete(oldest);
    }
    story.version = version;
    const done = enrichStory(story, this.#directory).then(
      (enriched) => this.#onStory(enriched),
      (err: unknown) => this.#onError(err, story.id),
    );
    this.#pending.add(done);
    // Removal is the promise's own continuation; `idle()` awaits what is still pending.
    void done.finally(() => this.#pending.delete(done));
  }
}

/** Replays a list of events through a fresh engine and returns the stories (CLI `cdr replay`). */
export async function storiesFromEvents(
  events: Iterable<SwitchEvent>,
  options: Omit<StoryEngineOptions, 'onStory'>,
): Promise<CallStory[]> {
  const stories: CallStory[] = [];
  const engine = new StoryEngine({ ...options, onStory: (s) => stories.push(s) });
  for (const ev of events) engine.ingest(ev);
  await engine.finalizeAll();
  await engine.close();
  return stories;
}

/** What a bridge change does to the partner bookkeeping of {@link buildStory}. */
interface BridgeOps {
  join(a: string, b: string, at: Micros): void;
  part(x: string, at: Micros): void;
}

/** Applies the bridge partner change an event states: joins `a` and `b`, or parts legs. */
function applyBridge(ev: SwitchEvent, uuid: string | undefined, at: Micros, ops: BridgeOps): void {
  switch (ev.name) {
    case 'CHANNEL_BRIDGE': {
      const a = ev.get('Bridge-A-Unique-ID') ?? uuid;
      const b = ev.get('Bridge-B-Unique-ID') ?? ev.get('Other-Leg-Unique-ID');
      if (a !== undefined && b !== undefined && a !== b) ops.join(a, b, at);
      return;
    }
    case 'CHANNEL_UNBRIDGE': {
      const a = ev.get('Bridge-A-Unique-ID') ?? uuid;
      const b = ev.get('Bridge-B-Unique-ID') ?? ev.get('Other-Leg-Unique-ID');
      if (a !== undefined) ops.part(a, at);
      if (b !== undefined) ops.part(b, at);
      return;
    }
    case 'callcenter::info': {
      const member = ev.get('CC-Member-Session-UUID');
      if (member === undefined || uuid === undefined || member === uuid) return;
      if (ev.get('CC-Action') === 'bridge-agent-start') ops.join(member, uuid, at);
      return;
    }
    default:
      if (uuid !== undefined && END_EVENTS.has(ev.name)) ops.part(uuid, at);
  }
}

/** Builds the (not yet enriched) story of a finished call. Pure: same events, same story. */
export function buildStory(
  call: ReadyCall,
  extractors: readonly Extractor[] = defaultExtractors(),
): CallStory {
  let anchorUuid = call.id;
  for (const [uuid, entry] of call.legs) if (entry.key === call.id) anchorUuid = uuid;
  const ctx = new StoryContext(anchorUuid);
  const notify = (change: PartnerChange): void => {
    for (const ex of extractors) ex.partnerChanged?.(change, ctx);
  };
  const part = (x: string, at: Micros): void => {
    const p = ctx.partner.get(x);
    if (p === undefined) return;
    ctx.partner.delete(x);
    ctx.lastPartner.set(x, p);
    if (ctx.partner.get(p) === x) {
      ctx.partner.delete(p);
      ctx.lastPartner.set(p, x);
      notify({ leg: p, before: x, after: undefined, at });
    }
    notify({ leg: x, before: p, after: undefined, at });
  };
  const join = (a: string, b: string, at: Micros): void => {
    if (ctx.partner.get(a) === b && ctx.partner.get(b) === a) return;
    part(a, at);
    part(b, at);
    ctx.partner.set(a, b);
    ctx.partner.set(b, a);
    notify({ leg: a, before: ctx.lastPartner.get(a), after: b, at });
    notify({ leg: b, before: ctx.lastPartner.get(b), after: a, at });
  };
  const ops: BridgeOps = { join, part };

  const events = call.events;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    const at = call.times[i] ?? ctx.now;
    ctx.now = at;
    const uuid = legIdOf(ev);
    if (uuid !== undefined && call.legs.has(uuid)) {
      const leg = ctx.leg(uuid);
      applyToLeg(leg, ev, at);
      const from = call.legs.get(uuid)?.from;
      if (from !== undefined) {
        // A spawned leg's new call starts at the spawn, whatever its channel times say.
        if (leg.createdAt === undefined || leg.createdAt < from) leg.createdAt = from;
        if (leg.answeredAt !== undefined && leg.answeredAt < from) leg.answeredAt = from;
      }
    }
    applyBridge(ev, uuid, at, ops);
    // A lost CHANNEL_BRIDGE: a B-leg answering for the leg that originated it is bridged to it.
    if (ev.name === 'CHANNEL_ANSWER' && uuid !== undefined) {
      const origin = ctx.legs.get(uuid)?.originator;
      if (
        origin !== undefined &&
        !ctx.partner.has(origin) &&
        !ctx.partner.has(uuid) &&
        ctx.legs.has(origin)
      ) {
        join(origin, uuid, at);
      }
    }
    for (const ex of extractors) ex.observe?.(ev, at, ctx);
  }
  for (const [uuid, entry] of call.legs) {
    const leg = ctx.leg(uuid);
    if (leg.endedAt === undefined && entry.until !== undefined) leg.endedAt = entry.until;
  }
  for (const ex of extractors) ex.finish?.(ctx);

  const anchor = ctx.leg(anchorUuid);
  const lastTime = call.times[call.times.length - 1] ?? ctx.now;
  let endedAt = anchor.endedAt ?? 0;
  for (const leg of ctx.legs.values()) endedAt = Math.max(endedAt, leg.endedAt ?? 0);
  if (endedAt === 0) endedAt = lastTime;
  const startedAt = anchor.createdAt ?? anchor.firstTs ?? call.times[0] ?? endedAt;
  const segments = ctx.draft.finish(endedAt);
  // A talk opened before anything was known of the partner leg (its early events lost): name the
  // party from what the whole call told about that leg.
  for (const seg of segments) {
    const far = seg.legs[1];
    if (seg.party === undefined && (seg.kind === 'talk' || seg.kind === 'agent_talk') && far !== undefined) {
      const party = ctx.deviceParty(far, seg.kind === 'agent_talk' ? 'agent' : undefined);
      if (party !== undefined) seg.party = party;
    }
  }

  const caller = ctx.deviceParty(anchorUuid, 'caller') ?? 'unknown';
  const dialledRaw =
    anchor.direction === 'outbound' ? undefined : (anchor.dialled ?? anchor.firstDestination);
  const to =
    (dialledRaw !== undefined ? ctx.addParty(resolveParty({ number: dialledRaw }), 'callee') : undefined) ??
    firstCallee(ctx) ??
    'unknown';

  const legs: StoryLeg[] = [];
  const legParties: LegParty[] = [];
  for (const [uuid, entry] of call.legs) {
    const facts = ctx.leg(uuid);
    const leg: StoryLeg = {
      uuid: entry.key,
      direction: facts.direction ?? 'inbound',
      createdAt: facts.createdAt ?? facts.firstTs ?? startedAt,
    };
    const device = ctx.deviceParty(uuid);
    // The same call again returns the same id and changes nothing: billing reuses it.
    legParties.push({
      party: device,
      anchor: uuid === anchorUuid,
      billS: secondsBetween(facts.answeredAt, facts.endedAt),
    });
    if (facts.direction === 'outbound') {
      if (device !== undefined) leg.to = device;
    } else if (device !== undefined) {
      leg.from = device;
    }
    if (facts.answeredAt !== undefined) leg.answeredAt = facts.answeredAt;
    if (facts.endedAt !== undefined) leg.endedAt = facts.endedAt;
    if (facts.cause !== undefined) leg.cause = facts.cause;
    legs.push(leg);
  }
  legs.sort((a, b) => a.createdAt - b.createdAt || (a.uuid < b.uuid ? -1 : 1));

  const anomalies = new Set([...call.anomalies, ...ctx.anomalies]);
  if (call.timedOut) anomalies.add(`finalised by timeout with open legs: ${call.openLegs.join(', ')}`);
  if (anchor.createdAt === undefined) anomalies.add('caller leg creation not seen');

  const story: CallStory = {
    id: call.id,
    version: 1,
    state: call.timedOut ? 'timed_out' : 'closed',
    direction: 'inbound',
    from: caller,
    to,
    parties: [...ctx.parties.values()],
    legs,
    segments,
    disposition: 'failed',
    startedAt,
    endedAt,
    totalDurationS: secondsBetween(startedAt, endedAt),
    billableS: 0,
    talkS: 0,
    related: [...call.related],
    anomalies: [...anomalies].sort(),
  };
  if (anchor.answeredAt !== undefined) story.answeredAt = anchor.answeredAt;
  if (anchor.cause !== undefined) story.hangupCause = anchor.cause;
  const partner = ctx.partner.get(anchorUuid) ?? ctx.lastPartner.get(anchorUuid);
  const partnerEnd = partner === undefined ? undefined : ctx.legs.get(partner)?.endedAt;
  if (anchor.endedAt !== undefined && partnerEnd !== undefined) {
    // The partner ended first, but the caller went on alone (parked, transferred to an IVR or a
    // voicemail box) and hung up there: the caller ended the call, not the partner long gone.
    const wentOn = segments.some((s) => s.start >= partnerEnd && s.start < (anchor.endedAt ?? 0));
    story.hangupBy = anchor.endedAt <= partnerEnd || wentOn ? 'caller' : 'callee';
  } else if (anchor.endedAt !== undefined) {
    story.hangupBy = 'caller';
  }
  story.talkS = segments
    .filter((s) => s.kind === 'talk' || s.kind === 'agent_talk' || s.kind === 'conference')
    .reduce((sum, s) => sum + secondsBetween(s.start, s.end), 0);
  story.talkS = Math.round(story.talkS * 1000) / 1000;
  story.disposition = dispositionOf(story, ctx, anchorUuid);
  // Kinds and billing need kinds: guessed now, replaced by enrichment when a directory knows better.
  finishWithKinds(story);
  legKinds.set(story, legParties);
  return story;
}

/** The party id of the first leg the caller's call rang. */
function firstCallee(ctx: StoryContext): string | undefined {
  for (const leg of ctx.legs.values()) {
    if (ctx.originatedByAnchor(leg.uuid)) return ctx.deviceParty(leg.uuid);
  }
  return undefined;
}

const TALK = new Set(['talk', 'agent_talk', 'conference']);
const NO_ANSWER = new Set(['NO_ANSWER', 'NO_USER_RESPONSE', 'ALLOTTED_TIMEOUT', 'PROGRESS_TIMEOUT']);

function dispositionOf(story: CallStory, ctx: StoryContext, anchorUuid: string): Disposition {
  const kinds = new Set(story.segments.map((s) => s.kind));
  if (story.segments.some((s) => TALK.has(s.kind) && s.end > s.start)) return 'answered';
  if (kinds.has('voicemail')) return 'voicemail';
  if (ctx.facts.get('faxReceived') === true) return 'fax';
  if (ctx.facts.get('queueAbandoned') === true) return 'abandoned';
  const causes = story.segments
    .filter((s) => s.kind === 'ring')
    .map((s) => s.details.cause)
    .filter((c): c is string => typeof c === 'string');
  const anchorCause = ctx.legs.get(anchorUuid)?.cause;
  if (anchorCause === 'USER_BUSY' || causes.includes('USER_BUSY')) return 'busy';
  if (causes.includes('ORIGINATOR_CANCEL') || kinds.has('ivr')) return 'abandoned';
  if ((anchorCause !== undefined && NO_ANSWER.has(anchorCause)) || causes.some((c) => NO_ANSWER.has(c))) {
    return 'no_answer';
  }
  if (story.answeredAt !== undefined || anchorCause === 'ORIGINATOR_CANCEL') return 'abandoned';
  return 'failed';
}

/** Per story: the device party of each leg and its answered span (for billing after enrichment). */
interface LegParty {
  party: string | undefined;
  anchor: boolean;
  billS: number;
}
const legKinds = new WeakMap<CallStory, LegParty[]>();

/** Guess of a number's kind when no directory says: short numbers are extensions. */
export function guessKind(party: Party): PartyKind {
  if (party.number !== undefined) {
    const digits = party.number.replace(/^\+/, '');
    return isNumberLike(party.number) && digits.length <= 5 && !party.number.startsWith('+')
      ? 'internal'
      : 'external';
  }
  return party.login !== undefined ? 'internal' : 'unknown';
}

function finishWithKinds(story: CallStory): void {
  for (const party of story.parties) if (party.kind === 'unknown') party.kind = guessKind(party);
  applyKinds(story);
}

/** Direction and billable time from party kinds (run again after enrichment). */
function applyKinds(story: CallStory): void {
  const kindOf = new Map(story.parties.map((p) => [p.id, p.kind]));
  const legs = legKinds.get(story) ?? [];
  const callerKind = kindOf.get(story.from) ?? 'unknown';
  const externalOthers = legs.filter(
    (l) => !l.anchor && l.party !== undefined && kindOf.get(l.party) === 'external',
  );
  story.direction =
    callerKind === 'external'
      ? 'inbound'
      : externalOthers.length > 0 || kindOf.get(story.to) === 'external'
        ? 'outbound'
        : 'internal';
  const anchor = legs.find((l) => l.anchor);
  if (callerKind === 'external' && anchor !== undefined) story.billableS = anchor.billS;
  else story.billableS = Math.round(externalOthers.reduce((s, l) => s + l.billS, 0) * 1000) / 1000;
}

/**
 * Fills person, department and kind of every number/login party from the directory (one lookup
 * per distinct key; the engine's directory is cached), then recomputes direction and billing.
 */
export async function enrichStory(story: CallStory, directory: Directory | undefined): Promise<CallStory> {
  if (directory !== undefined) {
    await Promise.all(
      story.parties.map(async (party) => {
        if (party.number === undefined && party.login === undefined) return;
        const key = party.number ?? party.login!;
        let entry = await directory.lookup(key);
        if (entry === undefined && party.login !== undefined && party.number !== undefined) {
          entry = await directory.lookup(party.login);
        }
        if (entry === undefined) return;
        party.kind = entry.kind;
        if (entry.person !== undefined) party.person = entry.person;
        if (entry.department !== undefined) party.department = entry.department;
        if (party.number === undefined && entry.extension !== undefined) party.number = entry.extension;
      }),
    );
  }
  applyKinds(story);
  legKinds.delete(story);
  return story;
}
