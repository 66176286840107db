/**
 * The one real-time poll of the test suite, for tests about real servers, processes and sockets (logic
 * tests run on the VirtualClock and never poll): checks `check` every 10 ms until it holds, and rejects
 * naming `what` after `ms` real ms, so a broken run fails instead of hanging.
 */
export async function until(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`not within ${ms} ms: ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
}
