/**
 * The story builder's working state, shared by the extractors: leg facts replayed in event order,
 * current bridge partners, parties, and the segment draft. The builder owns the bookkeeping;
 * extractors only read facts and open/close/mark segments.
 */
import type { SwitchEvent } from '../input/index.js';
import { type LegFacts, newLeg } from '../router/leg.js';
import { cleanValue, partyIdOf, resolveParty } from '../router/party-resolver.js';
import type { DetailValue, Micros, Party, PartyRole, Segment, SegmentKind } from '../story.js';

/** A change of a leg's bridge partner (told to extractors). */
export interface PartnerChange {
  leg: string;
  before: string | undefined;
  after: string | undefined;
  at: Micros;
}

/** A pattern extractor: a plug-in that turns some events into segments and facts. */
export interface Extractor {
  /** Short unique name (`ivr`, `queue-callcenter`, …). */
  readonly name: string;
  /**
   * Headers this extractor reads that the router does not keep by default (see `ROUTED_HEADERS`;
   * names starting `CC-`, `FIFO-`, `VM-`, `Conference-`, `Member-`, `fax-`, `Valet-` are kept too).
   * Events reach extractors as compact events holding only kept headers: `get` of any other name
   * returns undefined.
   */
  readonly headers?: readonly string[];
  /** Called for every event of the call, in order, after the leg facts were updated. */
  observe?(ev: SwitchEvent, at: Micros, ctx: StoryContext): void;
  /** Called when a leg's bridge partner changes (before `observe` of the same event). */
  partnerChanged?(change: PartnerChange, ctx: StoryContext): void;
  /** Called once after the last event. */
  finish?(ctx: StoryContext): void;
}

interface OpenSegment {
  segment: Segment;
  order: number;
}

/** Segments under construction. Keys name open segments so extractors can close what they opened. */
export class SegmentDraft {
  readonly #open = new Map<string, OpenSegment>();
  readonly #done: OpenSegment[] = [];
  #order = 0;

  /** Opens a segment under `key`; a second open of an open key is ignored (idempotent). */
  open(
    key: string,
    kind: SegmentKind,
    at: Micros,
    init: { party?: string | undefined; legs?: string[]; details?: Record<string, DetailValue> } = {},
  ): Segment | undefined {
    if (this.#open.has(key)) return undefined;
    const segment: Segment = { kind, start: at, end: at, legs: init.legs ?? [], details: init.details ?? {} };
    if (init.party !== undefined) segment.party = init.party;
    this.#open.set(key, { segment, order: this.#order++ });
    return segment;
  }

  isOpen(key: string): boolean {
    return this.#open.has(key);
  }

  get(key: string): Segment | undefined {
    return this.#open.get(key)?.segment;
  }

  /** Closes the segment under `key` at `at`, merging `details`. Returns it, or undefined if not open. */
  close(key: string, at: Micros, details: Record<string, DetailValue> = {}): Segment | undefined {
    const entry = this.#open.get(key);
    if (entry === undefined) return undefined;
    this.#open.delete(key);
    entry.segment.end = Math.max(at, entry.segment.start);
    Object.assign(entry.segment.details, details);
    this.#done.push(entry);
    return entry.segment;
  }

  /** Closes every open segment whose key starts with `prefix`. */
  closeAll(prefix: string, at: Micros): void {
    for (const key of [...this.#open.keys()]) if (key.startsWith(prefix)) this.close(key, at);
  }

  /** A zero-length marker (transfer, forward, pickup). */
  mark(
    kind: SegmentKind,
    at: Micros,
    init: { party?: string | undefined; legs?: string[]; details?: Record<string, DetailValue> } = {},
  ): void {
    const key = `#mark${this.#order}`;
    this.open(key, kind, at, init);
    this.close(key, at);
  }

  /** The latest segment (open or closed) of a kind. */
  last(kind: SegmentKind): Segment | undefined {
    let best: OpenSegment | undefined;
    for (const entry of [...this.#done, ...this.#open.values()]) {
      if (entry.segment.kind === kind && (best === undefined || entry.order > best.order)) best = entry;
    }
    return best?.segment;
  }

  /** Closes what is open at `end` and returns all segments ordered by start, then by opening order. */
  finish(end: Micros): Segment[] {
    for (const key of [...this.#open.keys()]) this.close(key, end);
    return this.#done
      .sort((a, b) => a.segment.start - b.segment.start || a.order - b.order)
      .map((e) => e.segment);
  }
}

/** State shared by the extractors of one story. */
export class StoryContext {
  /** Leg facts as of the event being processed. */
  readonly legs = new Map<string, LegFacts>();
  /** Current bridge partner of each leg. */
  readonly partner = new Map<string, string>();
  /** Previous partner of each leg (kept across unbridge; transfer detection). */
  readonly lastPartner = new Map<string, string>();
  /** Roles extractors assign to legs' devices (agent, specialist, interceptor, …). */
  readonly roleHint = new Map<string, PartyRole>();
  readonly parties = new Map<string, Party>();
  readonly draft = new SegmentDraft();
  /** Story-level facts extractors leave for disposition (e.g. `queueAbandoned`). */
  readonly facts = new Map<string, DetailValue>();
  readonly anomalies = new Set<string>();
  /** Time of the last event processed. */
  now: Micros = 0;

  constructor(
    /** The anchor (caller's) leg uuid. */
    readonly anchor: string,
  ) {}

  leg(uuid: string): LegFacts {
    let leg = this.legs.get(uuid);
    if (leg === undefined) {
      leg = newLeg(uuid);
      this.legs.set(uuid, leg);
    }
    return leg;
  }

  /** The leg the anchor is bridged to now. */
  get anchorPartner(): string | undefined {
    return this.partner.get(this.anchor);
  }

  /** Whether `uuid` was originated by the anchor's call (a B-leg of it). */
  originatedByAnchor(uuid: string): boolean {
    const leg = this.legs.get(uuid);
    if (leg === undefined || uuid === this.anchor) return false;
    return leg.originator === this.anchor || leg.callUuid === this.anchor;
  }

  /**
   * The party on the device end of a leg: the callee for an outbound leg (FS → phone), the caller
   * for an inbound one. Registers the party (first role wins) and returns its id.
   */
  deviceParty(uuid: string, role?: PartyRole): string | undefined {
    const leg = this.legs.get(uuid);
    if (leg === undefined) return undefined;
    if (leg.direction === 'outbound') {
      return this.addParty(
        resolveParty({ number: leg.firstDestination ?? leg.destination, channelName: leg.channelName }),
        role ?? this.roleHint.get(uuid) ?? 'callee',
      );
    }
    return this.addParty(
      resolveParty({
        number: leg.cidNumber,
        name: leg.cidName,
        username: leg.username,
        channelName: leg.channelName,
      }),
      role ?? this.roleHint.get(uuid) ?? 'caller',
    );
  }

  /** The number of a leg's device, cleaned (for matching a consultation's caller). */
  deviceNumber(uuid: string): string | undefined {
    const leg = this.legs.get(uuid);
    if (leg === undefined) return undefined;
    const raw = leg.direction === 'outbound' ? (leg.firstDestination ?? leg.destination) : leg.cidNumber;
    return resolveParty({ number: raw, username: leg.username }).number ?? cleanValue(raw);
  }

  /** Registers a resolved party; returns its id (undefined when it has no number or login). */
  addParty(
    resolved: { number?: string; name?: string; login?: string; fixes: string[] },
    role: PartyRole,
  ): string | undefined {
    const id = partyIdOf(resolved);
    if (id === undefined) return undefined;
    for (const fix of resolved.fixes) this.anomalies.add(`party ${id}: ${fix}`);
    const known = this.parties.get(id);
    if (known !== undefined) {
      if (known.name === undefined && resolved.name !== undefined) known.name = resolved.name;
      // `callee` is the generic role: a more specific one learnt later (agent, specialist…) wins.
      if (known.role === 'callee' && role !== 'callee' && role !== 'caller') known.role = role;
      return id;
    }
    const party: Party = { id, role, kind: 'unknown' };
    if (resolved.number !== undefined) party.number = resolved.number;
    if (resolved.name !== undefined) party.name = resolved.name;
    if (resolved.login !== undefined) party.login = resolved.login;
    this.parties.set(id, party);
    return id;
  }

  /** Registers a service party (`ivr:main`, `queue:support`, …). */
  serviceParty(id: string, role: PartyRole, name?: string): string {
    if (!this.parties.has(id)) {
      const party: Party = { id, role, kind: 'internal' };
      if (name !== undefined) party.name = name;
      this.parties.set(id, party);
    }
    return id;
  }
}
