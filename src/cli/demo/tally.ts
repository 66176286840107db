/**
 * Counts what happened to the demo's calls and renders the summary line: calls handled, answered, and
 * how each ended (agent, voicemail, no-input, caller hung up, error).
 */

/** How a demo call ended, as the summary groups it. */
export type DemoOutcome = 'agent' | 'voicemail' | 'no-input' | 'caller-hangup' | 'cancelled' | 'error';

const ORDER: readonly DemoOutcome[] = [
  'agent',
  'voicemail',
  'no-input',
  'caller-hangup',
  'cancelled',
  'error',
];

export class Tally {
  #started = 0;
  #answered = 0;
  #ended = 0;
  #totalDurationMs = 0;
  readonly #outcomes = new Map<DemoOutcome, number>();

  /** An inbound call arrived (START). */
  started(): void {
    this.#started++;
  }

  /** The IVR answered a call. */
  answered(): void {
    this.#answered++;
  }

  /** A flow finished with `outcome`. */
  outcome(outcome: DemoOutcome): void {
    this.#outcomes.set(outcome, (this.#outcomes.get(outcome) ?? 0) + 1);
  }

  /** An inbound channel was destroyed after `durationMs`. */
  ended(durationMs: number): void {
    this.#ended++;
    this.#totalDurationMs += durationMs;
  }

  get startedCount(): number {
    return this.#started;
  }

  get endedCount(): number {
    return this.#ended;
  }

  get outcomeCount(): number {
    let n = 0;
    for (const v of this.#outcomes.values()) n += v;
    return n;
  }

  /** `summary: 6 calls (5 ended, 4 answered) · agent 1 · voicemail 2 · … · avg 14.2 s` */
  summary(): string {
    const calls = this.#started === 1 ? 'call' : 'calls';
    const parts = [`summary: ${this.#started} ${calls} (${this.#ended} ended, ${this.#answered} answered)`];
    for (const key of ORDER) {
      const n = this.#outcomes.get(key);
      if (n) parts.push(`${key} ${n}`);
    }
    if (this.#ended > 0) parts.push(`avg ${(this.#totalDurationMs / this.#ended / 1000).toFixed(1)} s`);
    return parts.join(' · ');
  }
}
