/**
 * Vitest globalSetup: fails the whole run at once, with one clear line, when the `nats-server` binary
 * the integration tests spawn is missing (`npm test` runs scripts/ensure-nats-server.mjs first; this
 * covers a bare `npx vitest`).
 */
import { findNatsServer, NATS_SERVER_INSTRUCTION } from './nats-server.js';

export default function setup(): void {
  if (findNatsServer() === undefined) throw new Error(NATS_SERVER_INSTRUCTION);
}
