/**
 * Watches a promise without awaiting it, so a test can advance virtual time and look at how (and
 * whether) a call settled at each step.
 */

/** How a tracked promise stands: `settled` turns true with either `value` or `error`. */
export interface Tracked<T> {
  value?: T;
  error?: unknown;
  settled: boolean;
}

/**
 * @example
 * const call = track(client.call('XNode.Play', params));
 * await clock.advance(1000);
 * expect(call.settled).toBe(false);
 */
export function track<T>(p: Promise<T>): Tracked<T> {
  const state: Tracked<T> = { settled: false };
  p.then(
    (value) => {
      state.value = value;
      state.settled = true;
    },
    (error: unknown) => {
      state.error = error;
      state.settled = true;
    },
  );
  return state;
}
