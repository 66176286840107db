/**
 * A `Bus` wrapper that counts what one party sends to node subjects (requests and plain publishes), so
 * the benchmark can report RPCs per call without tapping the wire. Everything else is delegated.
 */
import { type Bus, type BusMsg, type RequestOptions, WrappedBus } from '../src/bus/index.js';

export class CountingBus extends WrappedBus {
  /** Messages sent to subjects starting with `prefix` (requests + publishes). */
  sentToPrefix = 0;

  constructor(
    inner: Bus,
    readonly prefix: string,
  ) {
    super(inner);
  }

  override publish(subject: string, data: Uint8Array, options?: { reply?: string }): void {
    if (subject.startsWith(this.prefix)) this.sentToPrefix++;
    super.publish(subject, data, options);
  }

  override request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMsg> {
    if (subject.startsWith(this.prefix)) this.sentToPrefix++;
    return super.request(subject, data, options);
  }
}
