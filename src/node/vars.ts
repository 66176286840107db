/**
 * Channel-variable and channel-flag methods: SetVar (+ channel_params subscription), GetVar, Hold
 * (ON/OFF/TOGGLE → `held`), Mute.
 */
import { Channel } from './channel.js';
import type { HandlerMap } from './handlers.js';
import { num, str, stringMap, strings } from './params.js';
import { ok } from './results.js';
import type { NodeRuntime } from './runtime.js';

const HOLD_ACTIONS = ['ON', 'OFF', 'TOGGLE'] as const;
const MUTE_DIRECTIONS = ['READ', 'WRITE', 'BOTH'] as const;

export function varsHandlers(rt: NodeRuntime): HandlerMap {
  const node = rt.nodeUuid;
  return {
    'XNode.SetVar': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      for (const [k, v] of Object.entries(stringMap(params, 'data'))) ch.setVariable(k, v);
      ch.subscribe(strings(params, 'channel_params'));
      return ok(node, ch.uuid);
    },

    'XNode.GetVar': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      const names = strings(params, 'data');
      const data: Record<string, string> = {};
      // No names: every variable set on the channel.
      if (names.length === 0) for (const [k, v] of ch.variables) data[k] = v;
      for (const n of names) {
        const v = ch.variable(n);
        if (v !== undefined) data[n] = v;
      }
      return ok(node, ch.uuid, { data });
    },

    'XNode.Hold': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      const raw = params.action;
      const action =
        typeof raw === 'number'
          ? HOLD_ACTIONS[raw]
          : raw === undefined
            ? 'ON'
            : HOLD_ACTIONS.find((a) => a === raw);
      if (!action) return rt.bad('params.action: expected ON, OFF or TOGGLE', ch.uuid);
      ch.held = action === 'TOGGLE' ? !ch.held : action === 'ON';
      return ok(node, ch.uuid, { held: ch.held });
    },

    'XNode.Mute': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      const raw = params.direction;
      const direction =
        typeof raw === 'number'
          ? MUTE_DIRECTIONS[raw]
          : raw === undefined
            ? 'BOTH'
            : MUTE_DIRECTIONS.find((d) => d === raw);
      if (!direction) return rt.bad('params.direction: expected READ, WRITE or BOTH', ch.uuid);
      const level = num(params, 'level') ?? 1;
      // level 0 lifts the mute (FreeSWITCH uuid_audio semantics); the simulator has no audio to mute.
      ch.muted = level === 0 ? undefined : { direction, level };
      const flag = str(params, 'flag');
      return ok(node, ch.uuid, flag === undefined ? {} : { flag });
    },
  };
}
