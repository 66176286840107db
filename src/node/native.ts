/**
 * Native passthrough methods as far as a simulator can honour them: NativeAPI `ping` → "pong";
 * NativeJSAPI `conferenceInfo` and `status` (JStatus); CtrlStartUp is acknowledged. Any other native
 * command answers 501 (decision 5).
 */
import { Code } from '../protocol/codes.js';
import { conferenceInfo } from './conference.js';
import type { HandlerMap, NodeHooks } from './handlers.js';
import { obj, str } from './params.js';
import { NOT_IMPLEMENTED, ok, result } from './results.js';
import type { NodeRuntime } from './runtime.js';

export function nativeHandlers(rt: NodeRuntime, hooks: NodeHooks): HandlerMap {
  const node = rt.nodeUuid;
  return {
    'XNode.NativeAPI': async (params) => {
      const cmd = str(params, 'cmd');
      if (!cmd) return rt.bad('params.cmd: required');
      if (cmd === 'ping') return ok(node, undefined, { data: 'pong' });
      return result(Code.NotImplemented, `NativeAPI ${cmd}: ${NOT_IMPLEMENTED}`, node, undefined);
    },

    'XNode.NativeJSAPI': async (params) => {
      const data = obj(params, 'data');
      const command = data ? str(data, 'command') : undefined;
      if (!data || !command) return rt.bad('params.data.command: required');
      switch (command) {
        case 'conferenceInfo':
          return conferenceInfo(rt, obj(data, 'data') ?? {});
        case 'status':
          return ok(node, undefined, { data: jstatus(hooks) });
        default:
          return result(Code.NotImplemented, `NativeJSAPI ${command}: ${NOT_IMPLEMENTED}`, node, undefined);
      }
    },

    // A controller announcing itself; nothing to resend (events of owned calls already go to it).
    'XNode.CtrlStartUp': async () => ok(node, undefined),
  };
}

/** JStatus data (reference §6) from the node's own figures. */
function jstatus(hooks: NodeHooks): Record<string, unknown> {
  const s = hooks.stats();
  let rest = Math.floor(s.uptimeMs);
  const take = (unit: number): number => {
    const v = Math.floor(rest / unit);
    rest -= v * unit;
    return v;
  };
  const DAY = 86_400_000;
  const uptime = {
    years: take(365 * DAY),
    days: take(DAY),
    hours: take(3_600_000),
    minutes: take(60_000),
    seconds: take(1000),
    milliseconds: take(1),
    microseconds: 0,
  };
  return {
    systemStatus: s.shuttingDown ? 'shutting down' : 'running',
    version: hooks.version,
    uptime,
    sessions: {
      count: { total: s.sessionsSinceStartup, active: s.sessions, peak: s.sessionPeak, limit: s.sessionsMax },
    },
  };
}
