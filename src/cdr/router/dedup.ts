/**
 * Duplicate detection for at-least-once event sources: an event is identified by
 * `(Core-UUID, Event-Sequence)`, or, without a sequence, by its leg, name, timestamp and action.
 * Bounded: the oldest keys are forgotten first.
 */
import type { SwitchEvent } from '../input/index.js';

/** The identity of an event for de-duplication. */
export function eventKey(ev: SwitchEvent): string {
  const seq = ev.sequence;
  if (seq !== undefined) return `${ev.coreUuid ?? ''}:${seq}`;
  return fallbackKey(ev);
}

/** The key of an event without `Event-Sequence`. */
function fallbackKey(ev: SwitchEvent): string {
  const action =
    ev.get('CC-Action') ?? ev.get('Action') ?? ev.get('FIFO-Action') ?? ev.get('VM-Action') ?? '';
  return `~${ev.uuid ?? ev.get('uuid') ?? ''}|${ev.name}|${ev.timestamp ?? ''}|${action}|${ev.get('DTMF-Digit') ?? ''}`;
}

/**
 * Remembers recently seen events. Sequenced events are kept as numbers per `Core-UUID` (no key
 * string per event); the others by {@link eventKey}. At most `maxKeys` of each kind.
 */
export class Deduplicator {
  readonly #seen = new Set<string>();
  /** Core-UUID → sequences seen (insertion order = age). */
  readonly #sequences = new Map<string, Set<number>>();
  /** Core-UUID → the highest sequence ever admitted (a higher one is new: no set lookup). */
  readonly #highest = new Map<string, number>();
  /** The switch heard from last, its set and highest sequence (one switch usually dominates). */
  #lastCore: string | undefined;
  #lastSeen: Set<number> | undefined;
  #lastHighest = Number.NEGATIVE_INFINITY;
  #sequenced = 0;
  readonly #max: number;

  /** @param maxKeys keys remembered (default 200 000, about a minute of a busy switch's events). */
  constructor(maxKeys = 200_000) {
    this.#max = maxKeys;
  }

  /** True the first time an event is offered, false for a duplicate. */
  admitEvent(ev: SwitchEvent): boolean {
    const seq = ev.sequence;
    if (seq === undefined) return this.admit(fallbackKey(ev));
    const core = ev.coreUuid ?? '';
    let seen: Set<number> | undefined;
    let highest: number;
    if (core === this.#lastCore && this.#lastSeen !== undefined) {
      seen = this.#lastSeen;
      highest = this.#lastHighest;
    } else {
      if (this.#lastCore !== undefined) this.#highest.set(this.#lastCore, this.#lastHighest);
      seen = this.#sequences.get(core);
      if (seen === undefined) {
        seen = new Set();
        this.#sequences.set(core, seen);
      }
      highest = this.#highest.get(core) ?? Number.NEGATIVE_INFINITY;
      this.#lastCore = core;
      this.#lastSeen = seen;
    }
    // Sequences grow: one above every sequence admitted so far was never seen (no lookup needed).
    if (seq > highest) this.#lastHighest = seq;
    else {
      this.#lastHighest = highest;
      if (seen.has(seq)) return false;
    }
    seen.add(seq);
    if (++this.#sequenced > this.#max) this.#forgetOldestSequence(seen);
    return true;
  }

  /** True the first time a key is offered, false for a duplicate. */
  admit(key: string): boolean {
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.#max) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }

  /**
   * Forgets one sequence: the oldest of the switch just heard from (one switch usually dominates),
   * or, when that switch is new, of the switch heard from first.
   */
  #forgetOldestSequence(current: Set<number>): void {
    let victim = current;
    if (current.size <= 1) {
      for (const set of this.#sequences.values()) {
        if (set !== current) {
          victim = set;
          break;
        }
      }
    }
    const oldest = victim.values().next().value;
    if (oldest !== undefined) victim.delete(oldest);
    this.#sequenced--;
    if (victim.size === 0) {
      for (const [core, set] of this.#sequences) {
        if (set !== victim) continue;
        this.#sequences.delete(core);
        this.#highest.delete(core);
        if (core === this.#lastCore) this.#lastCore = undefined;
        if (this.#lastSeen === victim) this.#lastSeen = undefined;
      }
    }
  }

  /** Keys remembered (both kinds). */
  get size(): number {
    return this.#seen.size + this.#sequenced;
  }
}
