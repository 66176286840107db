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
import type { Micros, RelatedStory } from '../story.js';
import { Deduplicator, eventKey } from './dedup.js';
import { applyToLeg, type LegFacts, legIdOf, linksOf, newLeg } from './leg.js';
import { cleanValue } from './party-resolver.js';
import { compareOrdered, type Ordered, ReorderBuffer } from './reorder-buffer.js';

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
}

interface Group {
  legs: Set<RouterLeg>;
  events: Ordered[];
  anomalies: Set<string>;
  related: RelatedStory[];
  conferences: Set<string>;
  timer: Timer | undefined;
  /** Clock time the armed timer fires at (meaningful while `timer` is set). */
  timerAt: number;
  /** Clock time the group is due for finalisation (the timer re-arms lazily up to it). */
  deadline: number;
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
  /** Recently finished groups by leg uuid: a late event reopens its call (bounded). */
  readonly #retired = new Map<string, Group>();
  readonly #retain: number;
  #arrival = 0;
  #lastTs = 0;
  readonly #stats = { received: 0, duplicates: 0, unroutable: 0 };

  constructor(options: RouterOptions) {
    this.#clock = options.clock;
    this.#onReady = options.onReady;
    this.#quietMs = options.quietMs ?? 30_000;
    this.#idleMs = options.idleTimeoutMs ?? 7_200_000;
    this.#dedup = new Deduplicator(options.dedupKeys);
    this.#retain = options.retainLegs ?? 20_000;
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
    if (!this.#dedup.admit(eventKey(ev))) {
      this.#stats.duplicates++;
      return;
    }
    // An event without a timestamp is placed at the newest time seen (its best estimate).
    const ts = ev.timestamp ?? this.#lastTs;
    if (ts > this.#lastTs) this.#lastTs = ts;
    this.#buffer.push({ ev, ts, seq: ev.sequence ?? 0, arrival: this.#arrival++ });
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
    for (const group of this.#groups) group.timer?.cancel();
    this.#groups.clear();
    this.#legs.clear();
    this.#heldBy.clear();
    this.#retired.clear();
  }

  get stats(): RouterStats {
    return {
      ...this.#stats,
      openCalls: this.#groups.size,
      openLegs: this.#legs.size,
      buffered: this.#buffer.size,
    };
  }

  #route(item: Ordered): void {
    const { ev } = item;
    const uuid = legIdOf(ev);
    const links = linksOf(ev, uuid);
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
    for (const link of links) {
      if (leg?.leftBehind?.has(link.to) === true) continue;
      const a = link.from === uuid && leg !== undefined ? leg : this.#legOf(link.from);
      const b = this.#legOf(link.to);
      this.#join(a.group, b.group);
      if (link.kind === 'bridge' || link.kind === 'uuid_bridge' || link.kind === 'intercept') {
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
    }
    // Read the group only now: the joins above may have merged the leg's group into another.
    const group = leg?.group ?? this.#legOf(links[0]!.from).group;
    const conference = ev.get('Conference-Unique-ID') ?? ev.get('Conference-Name');
    if (conference !== undefined && ev.get('Action') === 'add-member')
      this.#joinConference(group, conference);
    group.events.push(item);
    this.#schedule(group);
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
      anomalies: new Set(),
      related: [],
      conferences: new Set(),
      timer: undefined,
      timerAt: 0,
      deadline: 0,
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
    for (const item of small.events) big.events.push(item);
    for (const anomaly of small.anomalies) big.anomalies.add(anomaly);
    for (const rel of small.related) big.related.push(rel);
    for (const conf of small.conferences) big.conferences.add(conf);
    small.timer?.cancel();
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
    if (group.timer !== undefined && group.timerAt <= group.deadline) return;
    this.#arm(group, now);
  }

  #arm(group: Group, now: number): void {
    group.timer?.cancel();
    group.timerAt = group.deadline;
    group.timer = this.#clock.setTimeout(() => {
      group.timer = undefined;
      const at = this.#clock.now();
      if (at < group.deadline) this.#arm(group, at);
      else this.#finalize(group);
    }, group.deadline - now);
  }

  #finalize(group: Group): void {
    if (group.done) return;
    group.done = true;
    group.timer?.cancel();
    group.timer = undefined;
    this.#groups.delete(group);
    const anchor = anchorOf(group);
    const seenLegs = [...group.legs].filter((l) => l.seen);
    for (const leg of group.legs) {
      if (this.#legs.get(leg.facts.uuid) === leg) {
        this.#legs.delete(leg.facts.uuid);
        this.#retired.set(leg.facts.uuid, group);
      }
      const holder = holderNumber(leg.facts);
      if (holder !== undefined && this.#heldBy.get(holder) === leg) this.#heldBy.delete(holder);
    }
    while (this.#retired.size > this.#retain) {
      const oldest = this.#retired.keys().next().value;
      if (oldest === undefined) break;
      this.#retired.delete(oldest);
    }
    if (anchor === undefined || group.events.length === 0) return;
    const id = anchor.key;
    group.events.sort(compareOrdered);
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
      events: group.events.map((o) => o.ev),
      times: group.events.map((o) => o.ts),
      legs,
      openLegs,
      timedOut: openLegs.length > 0,
      related,
      anomalies: [...group.anomalies],
    });
  }
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
