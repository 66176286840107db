/**
 * `monitor`: the operator listens to a user's call without being heard. The choice made here: listening
 * is always a meet in which the operator is muted (conference flag `mute`).
 * - The user is in a meet (a group call): the operator joins that meet, muted; nothing else changes.
 * - The user is in a two-party call: the pair is moved into a meet of its own (they still hear only each
 *   other, plus the silent operator); when monitoring ends, or either of them leaves it, they are
 *   bridged again — unless another flow took one of them meanwhile.
 */
import { Meet, type User, type UserManager } from '../../src/flow/index.js';
import type { CommandOf } from './commands.js';
import { DispatchError } from './errors.js';
import { PRIORITY } from './priorities.js';
import {
  type DispatchSession,
  ensureCanTake,
  peerOf,
  type StartedSession,
  settle,
  startSession,
  takeParty,
  talking,
} from './session-kit.js';

/** Conference flags of the listening operator. */
export const MONITOR_FLAGS: readonly string[] = ['mute'];

/**
 * Starts a `monitor` session. Established when the operator is in the meet:
 * `{operator, user, room, mode: 'meet' | 'p2p'}`. Fails with `not-in-call` when the user is in neither.
 */
export function startMonitor(manager: UserManager, cmd: CommandOf<'monitor'>): StartedSession {
  const op = manager.user(cmd.operator);
  const user = manager.user(cmd.user);
  return startSession(
    manager,
    'monitor',
    async (s, established) => {
      target(user); // fail fast, before ringing the operator
      ensureCanTake(s, [op]);
      await takeParty(s, op, { from: user.number });
      const t = target(user);
      const listen = (meet: Meet): Promise<void> =>
        s.spawn(() => s.joinMeet(op, meet, { flags: [...MONITOR_FLAGS] }), { users: [op], name: 'listen' })
          .result;
      if (t.kind === 'meet') {
        const listening = listen(t.meet);
        established({ operator: op.number, user: user.number, room: t.meet.name, mode: 'meet' });
        await settle(listening);
        return;
      }
      const { peer } = t;
      ensureCanTake(s, [user, peer]);
      await s.acquire(user, { clear: true });
      await s.acquire(peer, { clear: true });
      s.setEndPolicy(user, 'gc');
      s.setEndPolicy(peer, 'gc');
      s.defer(() => rebridge(s, user, peer), { users: [user, peer], name: 'restore' });
      const room = new Meet(s.id.replace(/[^\w-]/g, '-'));
      const members = [user, peer].map(
        (x) => s.spawn(() => s.joinMeet(x, room), { users: [x], name: `member:${x.number}` }).result,
      );
      const listening = listen(room);
      established({ operator: op.number, user: user.number, room: room.name, mode: 'p2p' });
      // Until `end`, the operator hanging up, or one of the pair leaving.
      await Promise.race([...members, listening].map((p) => settle(p)));
    },
    { priority: PRIORITY.monitor, endPolicy: 'gc' },
  );
}

type Target = { kind: 'meet'; meet: Meet } | { kind: 'p2p'; peer: User };

/** What there is to listen to. */
function target(user: User): Target {
  const info = user.callInfo;
  if (user.state === 'talking' && info?.kind === 'meet') return { kind: 'meet', meet: info.meet };
  try {
    return { kind: 'p2p', peer: peerOf(user) };
  } catch {
    throw new DispatchError('not-in-call', `user ${user.number} is in no call to monitor`);
  }
}

/** The pair back in a two-party call; a survivor whose partner hung up is hung up. */
async function rebridge(s: DispatchSession, user: User, peer: User): Promise<void> {
  if (talking(user) && talking(peer)) {
    await s.link(user, peer);
    return;
  }
  for (const x of [user, peer]) if (talking(x)) s.setEndPolicy(x, 'hangup');
}
