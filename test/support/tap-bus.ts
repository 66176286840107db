/**
 * A Bus whose publishes a test can pass, drop or hold (and release later, in any order): the lossy,
 * reordering link of the rpc transaction-layer tests. Everything else is delegated (`WrappedBus`). For
 * seeded random faults by subject use `FaultBus` (src/bus); this one decides per message, from its content.
 */
import { WrappedBus } from '../../src/bus/index.js';

export type Verdict = 'pass' | 'drop' | 'hold';

export class TapBus extends WrappedBus {
  /** Decides each publish; default pass. */
  tap: (subject: string, data: Uint8Array) => Verdict = () => 'pass';
  /** Shorthand for a tap that only drops: return true to lose this publish. */
  drop: (subject: string, data: Uint8Array) => boolean = () => false;
  /** Publishes lost by `drop` or `tap`. */
  dropped = 0;
  readonly held: { subject: string; data: Uint8Array }[] = [];
  /** Publishes held message `i` (0-based, in hold order); it stays in `held` so it can be replayed. */
  release(i: number): void {
    const m = this.held[i] as { subject: string; data: Uint8Array };
    this.inner.publish(m.subject, m.data);
  }
  override publish(subject: string, data: Uint8Array, options?: { reply?: string }): void {
    const verdict = this.drop(subject, data) ? 'drop' : this.tap(subject, data);
    if (verdict === 'drop') {
      this.dropped += 1;
      return;
    }
    if (verdict === 'hold') {
      this.held.push({ subject, data });
      return;
    }
    this.inner.publish(subject, data, options);
  }
  onDisconnect(listener: () => void): () => void {
    if (!this.inner.onDisconnect) throw new Error('the wrapped bus reports no disconnects');
    return this.inner.onDisconnect(listener);
  }
}
