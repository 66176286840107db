/**
 * The stateful router: de-duplicates, reorders, and groups switch events into calls. Legs are joined
 * into one group by every linking key an event states (see `linksOf`): call uuid, originator,
 * other-leg, bridge A/B, signal bond, transfer history, callcenter member session, intercept; plus
 * one inferred key, the consultation (a new call from a party that holds the caller). Joining two
 * groups merges them (attended transfer joins the consult call into the caller's call).
 *
 * A group is finalised when every leg it saw has ended and it stayed quiet for `quietMs`, or when
 * it saw nothing for `idleTimeoutMs` (lost hangups: finalised as `timed_out`). A leg that starts a
 * new call of its own after everyone else left (a dialplan transfer of a lone leg) is spawned into
 * a new group, related to the old one. Groups sharing a conference are related, never merged.
 */
import type { Clock, Timer } from '../../clock/index.js';
import type { SwitchEvent } from '../input/index.js';
import { type CompactSwitchEvent, compactEvent, type HeaderSelection } from '../input/switch-event.js';
import type { Micros, RelatedStory } from '../story.js';
import { DeadlineHeap } from './deadline-heap.js';
import { Deduplicator } from './dedup.js';
import {
  applyToLeg,
  collectLinks,
  END_EVENTS,
  type LegFacts,
  type LinkList,
  legIdOf,
  newLeg,
} from './leg.js';
import { cleanValue } from './party-resolver.js';
import { type Ordered, ReorderBuffer } from './reorder-buffer.js';
import { ROUTED_SELECTION } from './routed-headers.js';

/** A leg as the router tracks it: facts for routing plus its place in a group. */
interface RouterLeg {
  facts: LegFacts;
  /** Story-level key: the uuid, or `uuid#n` for the n-th call a spawned leg took part in. */
  key: string;
  group: Group;
  /** False for a leg only referenced by another leg's event so far. */
  seen: boolean;
  /** Whether the leg ever bridged (a leg that never bridged is not spawned). */
  bridged: boolean;
  /** For a spawned leg: when its new call began, and the legs of the old call it must not rejoin. */
  from?: Micros;
  leftBehind?: Set<string>;
  /** Set on the old call's leg when the leg was spawned into a new call. */
  spawnedAway?: boolean;
  /** The REFER/Replaces link of this leg was looked up (done once). */
  replacesLinked?: boolean;
}

interface Group {
  legs: Set<RouterLeg>;
  /**
   * The kept events and, parallel to them, their ordering keys (no object per event: a call's
   * events live until its quiet period ends). Sorted at finalisation.
   */
  events: SwitchEvent[];
  times: Micros[];
  seqs: number[];
  arrivals: number[];
  /** Events not kept because the call reached `maxEventsPerCall`. */
  dropped: number;
  anomalies: Set<string>;
  related: RelatedStory[];
  conferences: Set<string>;
  /** When the router's deadline heap looks at the group next (clock ms; lazily behind `deadline`). */
  dueAt: number;
  /** Position in the deadline heap; -1 when not in it. */
  heapIndex: number;
  /** Clock time the group is due for finalisation (its heap entry moves up to it lazily). */
  deadline: number;
  /** Clock time the group was finalised (for the retention window). */
  retiredAt: number;
  done: boolean;
}

/** A finished group of events, ready for the story builder. */
export interface ReadyCall {
  /** Story id: the anchor leg's key. */
  id: string;
  /** Events in `(timestamp, sequence)` order. */
  events: readonly SwitchEvent[];
  /** Per-event time (µs) parallel to `events` (the event's own timestamp, or its arrival estimate). */
  times: readonly Micros[];
  /** The legs of the call by uuid (a spawned leg's key is `uuid#n`; `from`/`until` bound its part). */
  legs: ReadonlyMap<string, { key: string; from?: Micros; until?: Micros }>;
  /** Keys of legs that were still open (finalised by timeout). */
  openLegs: readonly string[];
  timedOut: boolean;
  related: readonly RelatedStory[];
  anomalies: readonly string[];
}

/** Options of {@link Router}. */
export interface RouterOptions {
  clock: Clock;
  /** Receives each finished call. */
  onReady: (call: ReadyCall) => void;
  /** Reorder window, ms. Default 2 000. */
  reorderWindowMs?: number;
  /** Quiet time after the last leg ended before a call is final, ms. Default 30 000. */
  quietMs?: number;
  /** Time without any event after which an unfinished call is finalised anyway, ms. Default 7 200 000 (2 h). */
  idleTimeoutMs?: number;
  /** Event keys remembered for de-duplication. Default 200 000. */
  dedupKeys?: number;
  /** Legs of finished calls remembered so late events reopen their call. Default 20 000. */
  retainLegs?: number;
  /** How long a finished call is remembered for late events, ms. Default 600 000 (10 min). */
  retainMs?: number;
  /**
   * Events kept per call. Default 2 000. Past it, only hangup events (up to twice the cap) are kept
   * for the story; every event still updates the router's leg facts, links and timers. The story
   * names the number of events left out in `anomalies`.
   */
  maxEventsPerCall?: number;
  /** Header names to keep beyond the router's own list (what custom extractors read). */
  headers?: readonly string[];
}

/** Counters for monitoring and tests. */
export interface RouterStats {
  received: number;
  duplicates: number;
  /** Events that were about no leg (or not routable) and were dropped. */
  unroutable: number;
  openCalls: number;
  openLegs: number;
  buffered: number;
  /** Events held for open calls (after the per-call cap). */
  retainedEvents: number;
  /** Events left out by the per-call cap so far. */
  droppedByCap: number;
  /** Sizes of the bounded maps: de-duplication keys, finished legs remembered, conferences. */
  dedupKeys: number;
  retiredLegs: number;
  conferences: number;
  /** Legs whose latest event is kept to share repeated header values (open legs only). */
  sharedLegs: number;
  /** SIP Call-IDs of open legs and REFER/Replaces waiting for their dialog. */
  sipCallIds: number;
}

/** Events that carry nothing for a story (dropped before any work). */
const IGNORED = new Set([
  'HEARTBEAT',
  'RE_SCHEDULE',
  'API',
  'BACKGROUND_JOB',
  'MESSAGE_QUERY',
  'PRESENCE_PROBE',
]);

/**
 * @example
 * const router = new Router({ clock, onReady: (call) => build(call) });
 * for (const ev of readEvents(text, 'esl-plain')) router.ingest(ev);
 * router.flush();        // release the reorder buffer
 * router.finalizeAll();  // end of input: finish every open call now
 */
export class Router {
  readonly #clock: Clock;
  readonly #onReady: (call: ReadyCall) => void;
  readonly #quietMs: number;
  readonly #idleMs: number;
  readonly #dedup: Deduplicator;
  readonly #buffer: ReorderBuffer;
  readonly #legs = new Map<string, RouterLeg>();
  /** Open groups, for `finalizeAll` and stats. */
  readonly #groups = new Set<Group>();
  /** Conference id → story ids of the groups that joined it (bounded). */
  readonly #conferences = new Map<string, Set<string>>();
  /** Held legs by the number of the device holding (consultation detection). */
  readonly #heldBy = new Map<string, RouterLeg>();
  /** Recently finished groups by leg uuid: a late event reopens its call (bounded in count and time). */
  readonly #retired = new Map<string, Group>();
  readonly #retain: number;
  readonly #retainMs: number;
  readonly #maxEvents: number;
  readonly #selection: HeaderSelection;
  /** Latest compact event per leg uuid: the next one shares its equal values (open legs only). */
  readonly #latest = new Map<string, CompactSwitchEvent>();
  readonly #previous = (uuid: string): CompactSwitchEvent | undefined => this.#latest.get(uuid);
  /** Shared copies of repeated values (bounded: cleared when full; see `compactEvent`). */
  readonly #intern = new Map<string, string>();
  /** Open legs by SIP Call-ID, and REFER-ing legs waiting for the dialog their Replaces names. */
  readonly #bySipCallId = new Map<string, RouterLeg>();
  readonly #replacing = new Map<string, RouterLeg>();
  /** Open groups by deadline, behind one clock timer. */
  readonly #heap = new DeadlineHeap<Group>();
  /** Scratch of `#route`: the links of the event being routed. */
  readonly #links: LinkList = [];
  #timer: Timer | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #retainedEvents = 0;
  #arrival = 0;
  #lastTs = 0;
  readonly #stats = { received: 0, duplicates: 0, unroutable: 0, droppedByCap: 0 };

  constructor(options: RouterOptions) {
    this.#clock = options.clock;
    this.#onReady = options.onReady;
    this.#quietMs = options.quietMs ?? 30_000;
    this.#idleMs = options.idleTimeoutMs ?? 7_200_000;
    this.#dedup = new Deduplicator(options.dedupKeys);
    this.#retain = options.retainLegs ?? 20_000;
    this.#retainMs = options.retainMs ?? 600_000;
    this.#maxEvents = Math.max(1, options.maxEventsPerCall ?? 2_000);
    this.#selection = ROUTED_SELECTION.with(options.headers ?? []);
    this.#buffer = new ReorderBuffer({
      clock: options.clock,
      windowMs: options.reorderWindowMs ?? 2_000,
      release: (item) => {
        this.#route(item);
      },
    });
  }

  /** Takes one event (any order, duplicates allowed). Never throws for bad event content. */
  ingest(ev: SwitchEvent): void {
    this.#stats.received++;
    if (IGNORED.has(ev.name)) return;
    // One pass over the event: from here on only the headers the pipeline reads are kept.
    const compact = compactEvent(ev, this.#selection, { previous: this.#previous, intern: this.#intern });
    if (!this.#dedup.admitEvent(compact)) {
      this.#stats.duplicates++;
      return;
    }
    if (compact.uuid !== undefined) this.#latest.set(compact.uuid, compact);
    // An event without a timestamp is placed at the newest time seen (its best estimate).
    const ts = compact.timestamp ?? this.#lastTs;
    if (ts > this.#lastTs) this.#lastTs = ts;
    this.#buffer.push({ ev: compact, ts, seq: compact.sequence ?? 0, arrival: this.#arrival++ });
  }

  /** The header selection this router keeps of each event. */
  get selection(): HeaderSelection {
    return this.#selection;
  }

  /** Releases the reorder buffer now (end of a replay file). */
  flush(): void {
    this.#buffer.flush();
  }

  /** Finalises every open call now (end of input, shutdown), after flushing the buffer. */
  finalizeAll(): void {
    this.flush();
    for (const group of [...this.#groups]) this.#finalize(group);
  }

  /** Cancels every timer and drops all state without emitting (for disposal after `finalizeAll`). */
  close(): void {
    this.flush();
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#heap.clear();
    this.#groups.clear();
    this.#legs.clear();
    this.#heldBy.clear();
    this.#retired.clear();
    this.#latest.clear();
    this.#intern.clear();
    this.#bySipCallId.clear();
    this.#replacing.clear();
    this.#retainedEvents = 0;
  }

  get stats(): RouterStats {
    return {
      ...this.#stats,
      openCalls: this.#groups.size,
      openLegs: this.#legs.size,
      buffered: this.#buffer.size,
      retainedEvents: this.#retainedEvents,
      dedupKeys: this.#dedup.size,
      retiredLegs: this.#retired.size,
      conferences: this.#conferences.size,
      sharedLegs: this.#latest.size,
      sipCallIds: this.#bySipCallId.size + this.#replacing.size,
    };
  }

  /** The largest number of events any open call holds now (tests of the per-call cap). */
  get largestCall(): number {
    let max = 0;
    for (const group of this.#groups) max = Math.max(max, group.events.length);
    return max;
  }

  #route(item: Ordered): void {
    const { ev } = item;
    const uuid = legIdOf(ev);
    // One flat list reused for every event (`#route` does not re-enter: releases are sequential).
    const links = this.#links;
    collectLinks(ev, uuid, links);
    if (uuid === undefined && links.length === 0) {
      this.#routeByConference(item);
      return;
    }
    let leg: RouterLeg | undefined;
    if (uuid !== undefined) {
      leg = this.#legOf(uuid);
      if (this.#shouldSpawn(leg, ev)) leg = this.#spawn(leg, item.ts);
      leg.seen = true;
    }
    for (let i = 0; i < links.length; i += 3) {
      const from = links[i]!;
      const to = links[i + 1]!;
      const kind = links[i + 2];
      if (leg?.leftBehind?.has(to) === true) continue;
      const a = from === uuid && leg !== undefined ? leg : this.#legOf(from);
      const b = this.#legOf(to);
      this.#join(a.group, b.group);
      if (kind === 'bridge' || kind === 'uuid_bridge' || kind === 'intercept') {
        a.bridged = true;
        b.bridged = true;
      }
    }
    if (leg !== undefined) {
      if (ev.name === 'CHANNEL_BRIDGE' || ev.get('Other-Leg-Unique-ID') !== undefined) leg.bridged = true;
      const wasHeld = leg.facts.held;
      applyToLeg(leg.facts, ev, item.ts);
      this.#trackHold(leg, wasHeld);
      if (ev.name === 'CHANNEL_CREATE' || leg.facts.firstTs === item.ts) this.#linkConsult(leg);
      this.#linkReplaces(leg);
    }
    // Read the group only now: the joins above may have merged the leg's group into another.
    const group = leg?.group ?? this.#legOf(links[0]!).group;
    const conference = ev.get('Conference-Unique-ID') ?? ev.get('Conference-Name');
    if (conference !== undefined && ev.get('Action') === 'add-member')
      this.#joinConference(group, conference);
    this.#keep(group, ev, item.ts, item.seq, item.arrival);
    this.#schedule(group);
  }

  /**
   * Adds an event to a call's retained list, within the per-call cap: past the cap only hangup
   * events are kept (up to twice the cap), so the story still sees every leg end.
   */
  #keep(group: Group, ev: SwitchEvent, ts: Micros, seq: number, arrival: number): void {
    const n = group.events.length;
    if (n < this.#maxEvents || (n < 2 * this.#maxEvents && END_EVENTS.has(ev.name))) {
      group.events.push(ev);
      group.times.push(ts);
      group.seqs.push(seq);
      group.arrivals.push(arrival);
      this.#retainedEvents++;
    } else {
      group.dropped++;
      this.#stats.droppedByCap++;
    }
  }

  /** Events about no leg: conference create/destroy. Only bookkeeping. */
  #routeByConference(item: Ordered): void {
    const conference = item.ev.get('Conference-Unique-ID');
    if (conference !== undefined && item.ev.get('Action') === 'conference-destroy') {
      this.#conferences.delete(conference);
      return;
    }
    this.#stats.unroutable++;
  }

  #legOf(uuid: string): RouterLeg {
    let leg = this.#legs.get(uuid);
    if (leg === undefined) {
      const retired = this.#retired.get(uuid);
      if (retired !== undefined) {
        this.#reopen(retired);
        leg = this.#legs.get(uuid);
        if (leg !== undefined) return leg;
      }
      const group = this.#newGroup();
      leg = { facts: newLeg(uuid), key: uuid, group, seen: false, bridged: false };
      group.legs.add(leg);
      this.#legs.set(uuid, leg);
    }
    return leg;
  }

  /** A late event for a call already emitted: the call is open again and will be emitted again. */
  #reopen(group: Group): void {
    group.done = false;
    this.#retainedEvents += group.events.length;
    group.anomalies.add('late event after the story was emitted');
    this.#groups.add(group);
    for (const leg of group.legs) {
      this.#retired.delete(leg.facts.uuid);
      if (!this.#legs.has(leg.facts.uuid) && leg.from === undefined) this.#legs.set(leg.facts.uuid, leg);
      else if (leg.from !== undefined) this.#legs.set(leg.facts.uuid, leg);
    }
  }

  #newGroup(): Group {
    const group: Group = {
      legs: new Set(),
      events: [],
      times: [],
      seqs: [],
      arrivals: [],
      dropped: 0,
      anomalies: new Set(),
      related: [],
      conferences: new Set(),
      dueAt: 0,
      heapIndex: -1,
      deadline: 0,
      retiredAt: 0,
      done: false,
    };
    this.#groups.add(group);
    return group;
  }

  /** Merges the smaller group into the larger one. */
  #join(a: Group, b: Group): void {
    if (a === b) return;
    const [big, small] = a.events.length >= b.events.length ? [a, b] : [b, a];
    for (const leg of small.legs) {
      leg.group = big;
      big.legs.add(leg);
    }
    this.#retainedEvents -= small.events.length;
    for (let i = 0; i < small.events.length; i++) {
      this.#keep(big, small.events[i]!, small.times[i]!, small.seqs[i]!, small.arrivals[i]!);
    }
    big.dropped += small.dropped;
    for (const anomaly of small.anomalies) big.anomalies.add(anomaly);
    for (const rel of small.related) big.related.push(rel);
    for (const conf of small.conferences) big.conferences.add(conf);
    this.#heap.delete(small);
    this.#groups.delete(small);
  }

  /**
   * Spawn rule: a leg other than the caller's that bridged before, whose every companion has ended,
   * gets a new caller profile (a dialplan transfer): from here on it is a new call.
   */
  #shouldSpawn(leg: RouterLeg, ev: SwitchEvent): boolean {
    if (!leg.bridged || leg.facts.endedAt !== undefined || !ev.name.startsWith('CHANNEL_')) return false;
    const index = Number(ev.get('Caller-Profile-Index') ?? '0');
    if (!(index > leg.facts.profileIndex && leg.facts.profileIndex > 0)) return false;
    // The caller's own leg moving on (blind transfer, voicemail) stays in its story.
    if (anchorOf(leg.group) === leg) return false;
    let companions = 0;
    for (const other of leg.group.legs) {
      if (other === leg || !other.seen) continue;
      companions++;
      if (other.facts.endedAt === undefined) return false;
    }
    return companions > 0;
  }

  #spawn(leg: RouterLeg, at: Micros): RouterLeg {
    const old = leg.group;
    const oldId = anchorOf(old)?.key ?? leg.key;
    // The leg leaves the old call here: the old call sees it end now.
    leg.facts.endedAt ??= at;
    leg.spawnedAway = true;
    const generation = Number(leg.key.split('#')[1] ?? '1') + 1;
    const group = this.#newGroup();
    const fresh: RouterLeg = {
      facts: newLeg(leg.facts.uuid),
      key: `${leg.facts.uuid}#${generation}`,
      group,
      seen: true,
      bridged: false,
    };
    group.legs.add(fresh);
    group.related.push({ id: oldId, via: 'spawned_from' });
    old.related.push({ id: fresh.key, via: 'spawned' });
    fresh.from = at;
    fresh.leftBehind = new Set([...old.legs].map((l) => l.facts.uuid));
    // The old group keeps its RouterLeg (for the story); the uuid now routes to the new one.
    this.#legs.set(leg.facts.uuid, fresh);
    this.#schedule(old);
    return fresh;
  }

  /** Keeps `#heldBy` in step: a held leg is indexed by the number of the device that holds it. */
  #trackHold(leg: RouterLeg, wasHeld: boolean): void {
    if (leg.facts.held === wasHeld) return;
    const holder = holderNumber(leg.facts);
    if (holder === undefined) return;
    if (leg.facts.held) this.#heldBy.set(holder, leg);
    else if (this.#heldBy.get(holder) === leg) this.#heldBy.delete(holder);
  }

  /** A new call from a device that holds another call is a consultation of that call. */
  #linkConsult(leg: RouterLeg): void {
    if (leg.facts.direction !== 'inbound') return;
    const caller = cleanValue(leg.facts.cidNumber) ?? cleanValue(leg.facts.username);
    if (caller === undefined) return;
    const held = this.#heldBy.get(caller);
    if (held === undefined || held === leg || held.facts.endedAt !== undefined || held.group.done) return;
    this.#join(held.group, leg.group);
  }

  /**
   * Attended transfer by the phone (SIP REFER with Replaces): the REFER-ing leg names the dialog it
   * replaces by its SIP Call-ID; the leg of that dialog (the consultation call) joins its call, as
   * the uuid_bridge that follows would. Either side may be seen first.
   */
  #linkReplaces(leg: RouterLeg): void {
    const own = leg.facts.sipCallId;
    if (own !== undefined && !this.#bySipCallId.has(own)) {
      this.#bySipCallId.set(own, leg);
      const waiting = this.#replacing.get(own);
      if (waiting !== undefined) {
        this.#replacing.delete(own);
        if (waiting !== leg && !waiting.group.done) this.#join(waiting.group, leg.group);
      }
    }
    const replaces = leg.facts.replaces;
    if (replaces === undefined || leg.replacesLinked === true) return;
    leg.replacesLinked = true;
    const target = this.#bySipCallId.get(replaces);
    if (target === undefined) this.#replacing.set(replaces, leg);
    else if (target !== leg && !target.group.done) this.#join(target.group, leg.group);
  }

  #joinConference(group: Group, conference: string): void {
    group.conferences.add(conference);
    let ids = this.#conferences.get(conference);
    if (ids === undefined) {
      ids = new Set();
      this.#conferences.set(conference, ids);
      if (this.#conferences.size > 10_000) {
        const oldest = this.#conferences.keys().next().value;
        if (oldest !== undefined) this.#conferences.delete(oldest);
      }
    }
    const id = anchorOf(group)?.key;
    if (id !== undefined) ids.add(id);
  }

  /**
   * Moves the group's deadline: quiet period when every leg ended, idle timeout otherwise. The timer
   * is only re-created when the deadline moves earlier; a later deadline is honoured when the armed
   * timer fires (it re-arms for the remainder), so a busy call does not re-create a timer per event.
   */
  #schedule(group: Group): void {
    const now = this.#clock.now();
    group.deadline = now + (isComplete(group) ? this.#quietMs : this.#idleMs);
    // The heap entry only moves earlier here; a later deadline is picked up when the entry is due.
    if (group.heapIndex >= 0 && group.dueAt <= group.deadline) return;
    this.#heap.set(group, group.deadline);
    this.#arm();
  }

  /** Keeps the one router timer armed for the earliest of: a call's heap entry, a retention expiry. */
  #arm(): void {
    let next = this.#heap.peek()?.dueAt ?? Number.POSITIVE_INFINITY;
    const oldest = this.#retired.values().next().value;
    if (oldest !== undefined) next = Math.min(next, oldest.retiredAt + this.#retainMs);
    if (next === Number.POSITIVE_INFINITY) {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#timerAt = next;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    this.#timer?.cancel();
    const now = this.#clock.now();
    this.#timerAt = next;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, next - now));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (let top = this.#heap.peek(); top !== undefined && top.dueAt <= now; top = this.#heap.peek()) {
      if (now < top.deadline) this.#heap.set(top, top.deadline);
      else this.#finalize(top);
    }
    this.#expireRetired(now);
    this.#arm();
  }

  /** Forgets finished calls older than the retention window. */
  #expireRetired(now: number): void {
    for (const [uuid, group] of this.#retired) {
      if (group.retiredAt + this.#retainMs > now) break;
      this.#retired.delete(uuid);
    }
  }

  #finalize(group: Group): void {
    if (group.done) return;
    group.done = true;
    this.#heap.delete(group);
    this.#groups.delete(group);
    this.#retainedEvents -= group.events.length;
    const anchor = anchorOf(group);
    const seenLegs = [...group.legs].filter((l) => l.seen);
    group.retiredAt = this.#clock.now();
    for (const leg of group.legs) {
      const uuid = leg.facts.uuid;
      if (this.#legs.get(uuid) === leg) {
        this.#legs.delete(uuid);
        this.#latest.delete(uuid);
        // Re-inserted at the end: the map stays in retirement order (oldest first).
        this.#retired.delete(uuid);
        this.#retired.set(uuid, group);
      }
      const holder = holderNumber(leg.facts);
      if (holder !== undefined && this.#heldBy.get(holder) === leg) this.#heldBy.delete(holder);
      const sip = leg.facts.sipCallId;
      if (sip !== undefined && this.#bySipCallId.get(sip) === leg) this.#bySipCallId.delete(sip);
      const replaces = leg.facts.replaces;
      if (replaces !== undefined && this.#replacing.get(replaces) === leg) this.#replacing.delete(replaces);
    }
    while (this.#retired.size > this.#retain) {
      const oldest = this.#retired.keys().next().value;
      if (oldest === undefined) break;
      this.#retired.delete(oldest);
    }
    this.#arm();
    if (group.dropped > 0) {
      group.anomalies.add(`${group.dropped} events past the per-call cap of ${this.#maxEvents} not kept`);
    }
    if (anchor === undefined || group.events.length === 0) return;
    const id = anchor.key;
    sortEvents(group);
    const related = [...group.related];
    for (const conference of group.conferences) {
      for (const other of this.#conferences.get(conference) ?? []) {
        if (other !== id && !related.some((r) => r.id === other))
          related.push({ id: other, via: 'conference' });
      }
    }
    const openLegs = seenLegs.filter((l) => l.facts.endedAt === undefined).map((l) => l.key);
    const legs = new Map<string, { key: string; from?: Micros; until?: Micros }>();
    for (const leg of seenLegs) {
      const entry: { key: string; from?: Micros; until?: Micros } = { key: leg.key };
      if (leg.from !== undefined) entry.from = leg.from;
      // A leg spawned away: this call saw it until the spawn (its facts' end was set then).
      if (leg.spawnedAway === true && leg.facts.endedAt !== undefined) {
        entry.until = leg.facts.endedAt;
      }
      legs.set(leg.facts.uuid, entry);
    }
    this.#onReady({
      id,
      events: group.events.slice(),
      times: group.times.slice(),
      legs,
      openLegs,
      timedOut: openLegs.length > 0,
      related,
      anomalies: [...group.anomalies],
    });
  }
}

/**
 * Sorts a group's events (and their keys) by `(timestamp, sequence, arrival)`, as `compareOrdered`
 * orders buffered events. Usually they already are (the reorder buffer released them in order):
 * then nothing is allocated.
 */
function sortEvents(group: Group): void {
  const { events, times, seqs, arrivals } = group;
  const n = events.length;
  const before = (i: number, j: number): number =>
    times[i]! - times[j]! || seqs[i]! - seqs[j]! || arrivals[i]! - arrivals[j]!;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (before(i - 1, i) > 0) sorted = false;
  if (sorted) return;
  const order = Array.from({ length: n }, (_, i) => i).sort(before);
  group.events = order.map((i) => events[i]!);
  group.times = order.map((i) => times[i]!);
  group.seqs = order.map((i) => seqs[i]!);
  group.arrivals = order.map((i) => arrivals[i]!);
}

/** The first leg of a group by creation (then first-seen) time: the caller's leg. */
function anchorOf(group: Group): RouterLeg | undefined {
  let best: RouterLeg | undefined;
  let bestAt = Number.POSITIVE_INFINITY;
  for (const leg of group.legs) {
    if (!leg.seen) continue;
    const at = leg.facts.createdAt ?? leg.facts.firstTs ?? Number.POSITIVE_INFINITY;
    // Agent legs of a queue are never the anchor: the member (caller) leg is.
    const penalty = leg.facts.ccSide === 'agent' ? 1e15 : 0;
    if (best === undefined || at + penalty < bestAt || (at + penalty === bestAt && leg.key < best.key)) {
      best = leg;
      bestAt = at + penalty;
    }
  }
  return best;
}

function isComplete(group: Group): boolean {
  let any = false;
  for (const leg of group.legs) {
    if (!leg.seen) continue;
    any = true;
    if (leg.facts.endedAt === undefined) return false;
  }
  return any;
}

/** The number of the device on a leg's far end (who can hold it): the B-leg's destination. */
function holderNumber(facts: LegFacts): string | undefined {
  return facts.direction === 'outbound'
    ? (cleanValue(facts.firstDestination) ?? cleanValue(facts.cidNumber))
    : cleanValue(facts.cidNumber);
}
