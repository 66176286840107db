/**
 * Conference: a channel joins a named room (created on first join) and the method blocks until the
 * member leaves — Stop or a hangup, so it answers 410 (decision 7). Event.Conference join/leave goes to
 * the member's controller. `conferenceInfo` (NativeJSAPI) describes a room and its members.
 */
import { Code } from '../protocol/codes.js';
import type { ResultObject } from '../rpc/types.js';
import { Channel } from './channel.js';
import type { HandlerMap } from './handlers.js';
import { bool, type Params, str, strings } from './params.js';
import { gone, ok, result } from './results.js';
import type { NodeRuntime } from './runtime.js';

export function conferenceHandlers(rt: NodeRuntime): HandlerMap {
  const node = rt.nodeUuid;
  return {
    'XNode.Conference': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      const name = str(params, 'name');
      if (!name) return rt.bad('params.name: required', ch.uuid);
      if (ch.link) return rt.bad('the channel is bridged', ch.uuid);
      if (ch.conference !== undefined) return rt.bad(`already in conference ${ch.conference}`, ch.uuid);
      if (ch.controlOp) return rt.bad(`busy: ${ch.controlOp.method} running`, ch.uuid);
      const op = ch.beginControlOp('XNode.Conference');
      const signal = op.controller.signal;
      try {
        if (ch.direction === 'inbound') rt.answer(ch);
        const room = rt.rooms.join(
          ch,
          name,
          str(params, 'profile') ?? 'default',
          strings(params, 'flags'),
          rt.clock.now(),
        );
        rt.emitTo(ch, 'Event.Conference', { name, action: 'join', member_count: room.members.size });
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
        rt.leaveConference(ch);
        return gone(node, ch.uuid, signal);
      } finally {
        ch.endOp(op);
      }
    },
  };
}

/** NativeJSAPI `conferenceInfo`: `{conferenceName, showMembers?}` → ConferenceInfo, or 404. */
export function conferenceInfo(rt: NodeRuntime, data: Params): ResultObject {
  const name = str(data, 'conferenceName') ?? str(data, 'conference_name');
  if (!name) return rt.bad('params.data.data.conferenceName: required');
  const room = rt.rooms.get(name);
  if (!room) return result(Code.NotFound, `conference ${name} not found`, rt.nodeUuid, undefined);
  const now = rt.clock.now();
  const members =
    bool(data, 'showMembers') === false
      ? []
      : [...room.members.values()].map((m) => ({
          id: m.id,
          uuid: m.channel.uuid,
          caller_id_name: m.channel.cidName,
          caller_id_number: m.channel.cidNumber,
          join_time: Math.floor((now - m.joinedAt) / 1000),
          flags: {
            can_hear: !m.flags.has('deaf'),
            can_speak: !m.flags.has('mute'),
            is_moderator: m.flags.has('moderator'),
            has_floor: false,
            talking: false,
          },
        }));
  return ok(rt.nodeUuid, undefined, {
    data: {
      conference_name: room.name,
      conference_uuid: room.uuid,
      member_count: room.members.size,
      ghost_count: 0,
      rate: 8000,
      run_time: Math.floor((now - room.createdAt) / 1000),
      domain: '',
      flags: { locked: false, recording: false, running: true },
      members,
    },
  });
}
