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
  const action =
    ev.get('CC-Action') ?? ev.get('Action') ?? ev.get('FIFO-Action') ?? ev.get('VM-Action') ?? '';
  return `~${ev.uuid ?? ev.get('uuid') ?? ''}|${ev.name}|${ev.timestamp ?? ''}|${action}|${ev.get('DTMF-Digit') ?? ''}`;
}

/** Remembers recently seen event keys. */
export class Deduplicator {
  readonly #seen = new Set<string>();
  readonly #max: number;

  /** @param maxKeys keys remembered (default 200 000, about a minute of a busy switch's events). */
  constructor(maxKeys = 200_000) {
    this.#max = maxKeys;
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

  get size(): number {
    return this.#seen.size;
  }
}
