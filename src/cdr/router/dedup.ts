/**
 * Duplicate detection for at-least-once event sources: an event is identified by
 * `(Core-UUID, Event-Sequence)`, or, without a sequence, by its leg, name, timestamp and action.
 * Bounded: per switch, sequences more than `maxKeys` below its highest are forgotten; of the other keys,
 * the oldest first.
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
 * The sequences of one switch seen lately, as a bitmap over the last `size` sequence numbers below
 * the highest one seen (a ring: bit `seq % size`). FreeSWITCH numbers its events in order, so this
 * covers the same ground as a set of the last `size` sequences at a fixed cost: `size / 8` bytes and
 * no allocation per event.
 */
class SequenceWindow {
  readonly #bits: Uint32Array;
  readonly #size: number;
  #highest = -1;
  /** Bits set: sequences remembered. */
  count = 0;

  constructor(size: number) {
    this.#size = size;
    this.#bits = new Uint32Array(Math.ceil(size / 32));
  }

  /** True the first time `seq` (a safe integer ≥ 0) is offered within the window, false for a repeat. */
  admit(seq: number): boolean {
    const size = this.#size;
    if (seq > this.#highest) {
      // The ring slots of the old highest + 1 … `seq` now stand for new sequences: clear them.
      if (this.#highest < 0 || seq - this.#highest >= size) {
        this.#bits.fill(0);
        this.count = 0;
      } else {
        for (let n = this.#highest + 1; n <= seq; n++) this.#clear(n % size);
      }
      this.#highest = seq;
      this.#set(seq % size);
      return true;
    }
    // Older than the window: nothing is known of it (as with a forgotten key), so it is let through.
    if (seq <= this.#highest - size) return true;
    const at = seq % size;
    if ((this.#bits[at >>> 5]! & (1 << (at & 31))) !== 0) return false;
    this.#set(at);
    return true;
  }

  #set(at: number): void {
    this.#bits[at >>> 5]! |= 1 << (at & 31);
    this.count++;
  }

  #clear(at: number): void {
    const word = at >>> 5;
    const bit = 1 << (at & 31);
    if ((this.#bits[word]! & bit) === 0) return;
    this.#bits[word]! &= ~bit;
    this.count--;
  }
}

/** Switches (Core-UUIDs) whose sequence windows are kept at once; the least recently heard goes first. */
const MAX_SWITCHES = 64;

/**
 * Remembers recently seen events. Sequenced events are remembered per `Core-UUID` in a window over
 * the last `maxKeys` sequence numbers of that switch (a bitmap: no key and no allocation per event);
 * the others by {@link eventKey}, at most `maxKeys` of them, the oldest forgotten first.
 */
export class Deduplicator {
  readonly #seen = new Set<string>();
  /** Core-UUID → its window (insertion order = least recently heard first). */
  readonly #windows = new Map<string, SequenceWindow>();
  /** The switch heard from last and its window (one switch usually dominates). */
  #lastCore: string | undefined;
  #lastWindow: SequenceWindow | undefined;
  readonly #max: number;

  /** @param maxKeys sequences remembered per switch, and keys of unsequenced events (default 200 000). */
  constructor(maxKeys = 200_000) {
    this.#max = maxKeys;
  }

  /** True the first time an event is offered, false for a duplicate. */
  admitEvent(ev: SwitchEvent): boolean {
    const seq = ev.sequence;
    if (seq === undefined || !Number.isSafeInteger(seq) || seq < 0) return this.admit(eventKey(ev));
    const core = ev.coreUuid ?? '';
    let window = this.#lastWindow;
    if (core !== this.#lastCore || window === undefined) {
      window = this.#windows.get(core);
      if (window === undefined) {
        window = new SequenceWindow(this.#max);
        if (this.#windows.size >= MAX_SWITCHES) {
          const oldest = this.#windows.keys().next().value;
          if (oldest !== undefined) this.#windows.delete(oldest);
        }
      } else {
        this.#windows.delete(core);
      }
      // Re-inserted at the end: the map stays in least-recently-heard order.
      this.#windows.set(core, window);
      this.#lastCore = core;
      this.#lastWindow = window;
    }
    return window.admit(seq);
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

  /** Keys remembered: sequences in the windows plus keys of unsequenced events. */
  get size(): number {
    let sequences = 0;
    for (const window of this.#windows.values()) sequences += window.count;
    return this.#seen.size + sequences;
  }
}
