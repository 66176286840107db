/**
 * The seam between the ESL client and the network: the client speaks ESL over any duplex byte
 * stream that a `EslConnect` factory opens. `src/cli/esl-transport.ts` implements it with node:net;
 * tests use in-memory streams.
 */

/** One open connection to an ESL server. */
export interface EslConnection {
  /**
   * Bytes from the server, chunked arbitrarily. Ends when the connection closes (from either side);
   * may throw on a transport error (the client treats both as a disconnect).
   */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Sends text (UTF-8). Writing to a closed connection is ignored. */
  write(data: string): void;
  /** Closes the connection and ends `chunks`. Idempotent; never rejects. */
  close(): Promise<void>;
}

/** Opens a connection; rejects when it cannot (the client retries with backoff). */
export type EslConnect = (options: { signal: AbortSignal }) => Promise<EslConnection>;
