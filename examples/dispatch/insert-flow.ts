/**
 * `insert` (force insert, barge-in): the operator breaks into the two-party call of a user. The user
 * talks to the operator while the other party waits on hold; when the barge ends (`end`, or the operator
 * hangs up) the two are put back together — unless the held party was taken by another flow meanwhile,
 * in which case the restore is skipped and neither of them is touched.
 */
import type { User, UserManager } from '../../src/flow/index.js';
import type { CommandOf } from './commands.js';
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

/**
 * Starts an `insert` session. Established when the operator is bridged to the user and the peer is on
 * hold: `{operator, user, held}`. Fails with `not-in-call` (the user has no two-party call) or `busy`.
 */
export function startInsert(manager: UserManager, cmd: CommandOf<'insert'>): StartedSession {
  const op = manager.user(cmd.operator);
  const user = manager.user(cmd.user);
  return startSession(
    manager,
    'insert',
    async (s, established) => {
      // Fail fast, before ringing anyone; checked again once the operator answered.
      ensureCanTake(s, [op, user, peerOf(user)]);
      // Ring the operator first: the pair is disturbed only once someone is there to barge in.
      await takeParty(s, op, { from: user.number });
      const peer = peerOf(user);
      ensureCanTake(s, [user, peer]);
      // `clear` unbridges the pair even when nobody owned it (a relation left by a finished flow).
      await s.acquire(user, { clear: true });
      await s.acquire(peer, { clear: true });
      // Both stay up when this flow ends: restored, or taken by whoever took them.
      s.setEndPolicy(user, 'gc');
      s.setEndPolicy(peer, 'gc');
      s.defer(() => restore(s, user, peer), { users: [user, peer], name: 'restore' });
      await s.hold(peer);
      const barge = s.spawn(() => s.bridge(op, user), { users: [op, user], name: 'barge' });
      established({ operator: op.number, user: user.number, held: peer.number });
      await settle(barge.result);
    },
    { priority: PRIORITY.insert, endPolicy: 'gc' },
  );
}

/**
 * Puts the pair back together (off hold, bridged). The runtime skips it when the flow no longer owns
 * both. If one of them hung up meanwhile, the other has nobody to go back to: it is hung up.
 */
async function restore(s: DispatchSession, user: User, peer: User): Promise<void> {
  if (talking(peer)) await s.hold(peer, false);
  if (talking(user) && talking(peer)) {
    await s.link(user, peer);
    return;
  }
  for (const x of [user, peer]) if (talking(x)) s.setEndPolicy(x, 'hangup');
}
