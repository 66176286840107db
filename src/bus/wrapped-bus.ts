/**
 * `WrappedBus`: the base of the `Bus` wrappers (`FaultBus`, the benchmark's counting bus, the test
 * taps). It forwards every `Bus` member to the inner bus, so a wrapper overrides only what it observes
 * or changes.
 */
import type { Bus, BusMsg, RequestOptions, SubscribeOptions, Subscription } from './bus.js';

/**
 * A Bus that forwards everything to `inner`; subclasses override what they observe or change.
 *
 * `onDisconnect` is left out on purpose: it is optional in `Bus` and consumers test for its presence
 * (`RpcClient` with `onDisconnect: 'cancel'`), so each subclass decides whether it reports disconnects.
 *
 * @example
 * class CountingBus extends WrappedBus {
 *   published = 0;
 *   override publish(subject: string, data: Uint8Array, options?: { reply?: string }): void {
 *     this.published += 1;
 *     super.publish(subject, data, options);
 *   }
 * }
 */
export class WrappedBus implements Bus {
  /** The bus every call goes on to. */
  readonly inner: Bus;
  constructor(inner: Bus) {
    this.inner = inner;
  }
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
    this.inner.publish(subject, data, options);
  }
  subscribe(subject: string, options?: SubscribeOptions): Subscription {
    return this.inner.subscribe(subject, options);
  }
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMsg> {
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
