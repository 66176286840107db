/**
 * A `Bus` wrapper that counts what one party sends to node subjects (requests and plain publishes), so
 * the benchmark can report RPCs per call without tapping the wire. Everything else is delegated.
 */
import type { Bus, BusMsg, RequestOptions, SubscribeOptions, Subscription } from '../src/bus/index.js';

export class CountingBus implements Bus {
  /** Messages sent to subjects starting with `prefix` (requests + publishes). */
  sentToPrefix = 0;

  constructor(
    readonly inner: Bus,
    readonly prefix: string,
  ) {}

  get maxPayload(): number {
    return this.inner.maxPayload;
  }
  get closed(): Promise<void> {
    return this.inner.closed;
  }
  get subscriptionCount(): number {
    return this.inner.subscriptionCount;
  }
  publish(subject: string, data: Uint8Array, options?: { reply?: string }): void {
    if (subject.startsWith(this.prefix)) this.sentToPrefix++;
    this.inner.publish(subject, data, options);
  }
  subscribe(subject: string, options?: SubscribeOptions): Subscription {
    return this.inner.subscribe(subject, options);
  }
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMsg> {
    if (subject.startsWith(this.prefix)) this.sentToPrefix++;
    return this.inner.request(subject, data, options);
  }
  inbox(): string {
    return this.inner.inbox();
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  onReconnect(listener: () => void): () => void {
    return this.inner.onReconnect(listener);
  }
}
