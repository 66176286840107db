/**
 * `call`: an operator ↔ user two-party call. Both are rung (each sees the other's number), bridged, and
 * the session lasts as long as the bridge: when one side hangs up, the other is hung up too — unless it
 * was taken from another flow (a group call), which then gets it back.
 */
import type { UserManager } from '../../src/flow/index.js';
import type { CommandOf } from './commands.js';
import { PRIORITY } from './priorities.js';
import { type StartedSession, settle, startSession, takeParty } from './session-kit.js';

/**
 * Starts a `call` session. Established when both parties answered and are bridged: `{operator, user}`
 * with their channel uuids. Fails with `busy` (a party is held by a flow of equal or higher priority) or
 * `call-failed` (with the hangup cause).
 */
export function startCall(manager: UserManager, cmd: CommandOf<'call'>): StartedSession {
  const op = manager.user(cmd.operator);
  const user = manager.user(cmd.user);
  return startSession(
    manager,
    'call',
    async (s, established) => {
      for (const [me, other] of [
        [op, user],
        [user, op],
      ] as const) {
        s.onPreempted(me, (ev) => {
          // Taken by another flow (an insert, a transfer, a monitor): that flow may want the other party
          // too, so it is let go rather than hung up. A tear-down (release) ends the call: hang up.
          if (ev.by !== undefined && s.owns(other)) s.setEndPolicy(other, 'gc');
        });
      }
      await Promise.all([takeParty(s, op, { from: user.number }), takeParty(s, user, { from: op.number })]);
      const bridge = s.bridge(op, user);
      established({ operator: op.number, user: user.number, uuids: [op.call?.uuid, user.call?.uuid] });
      await settle(bridge);
    },
    { priority: PRIORITY.call, endPolicy: 'hangup' },
  );
}
