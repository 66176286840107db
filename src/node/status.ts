/**
 * Node status events (reference §7.6): the Node object sent as Event.NodeRegister at start,
 * Event.NodeUpdate every heartbeat (it doubles as the liveness signal), Event.NodeUnregister at stop.
 */
import type { NodeStats } from './handlers.js';

export interface NodeDescription {
  uuid: string;
  name: string;
  ip: string;
  version: string;
}

/** The `Node` params of the status events. Only figures the node really counts are included. */
export function nodeInfo(node: NodeDescription, stats: NodeStats): Record<string, unknown> {
  return {
    uuid: node.uuid,
    name: node.name,
    ip: node.ip,
    version: node.version,
    uptime: Math.floor(stats.uptimeMs / 1000),
    sessions: stats.sessions,
    sessions_max: stats.sessionsMax,
    sessions_since_startup: stats.sessionsSinceStartup,
    session_peak_max: stats.sessionPeak,
    shutdown: stats.shuttingDown,
  };
}
