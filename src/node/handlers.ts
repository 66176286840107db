/**
 * What every handler area (call-control, media, bridge, conference, vars, native) shares: the handler
 * map type and the hooks into the XNode that owns them (shutdown state, injecting calls, node figures).
 */
import type { MethodHandler } from '../rpc/types.js';
import type { InboundOffer } from './media.js';

export type HandlerMap = Record<string, MethodHandler>;

/** The parts of XNode that handlers reach; the node implements them. */
export interface NodeHooks {
  /** True once shutdown or stop began: new calls are refused with 603. */
  readonly shuttingDown: boolean;
  /** Creates an inbound call (throws when refused). */
  inject(offer: InboundOffer): string;
  /** Starts a graceful shutdown in the background. */
  beginShutdown(): void;
  /** Node figures for status commands (NativeJSAPI status). */
  stats(): NodeStats;
  readonly name: string;
  readonly version: string;
}

export interface NodeStats {
  /** Live channels. */
  sessions: number;
  sessionsSinceStartup: number;
  sessionPeak: number;
  /** 0 = no limit configured. */
  sessionsMax: number;
  uptimeMs: number;
  shuttingDown: boolean;
}
