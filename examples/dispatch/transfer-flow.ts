/**
 * `transfer` with consultation: the operator, talking to a user A, puts A on hold and calls C. While
 * they consult, A waits. `complete` joins A and C and drops the operator. `end` (or C failing to answer,
 * or C hanging up during the consultation) gives up: C is hung up and the operator and A talk again.
 * If the operator hangs up during the consultation, the transfer completes by itself.
 */
import type { User, UserManager } from '../../src/flow/index.js';
import type { CommandOf } from './commands.js';
import { DispatchError } from './errors.js';
import { PRIORITY } from './priorities.js';
import {
  type DispatchSession,
  ensureCanTake,
  receiveOr,
  type StartedSession,
  settle,
  startSession,
  takeParty,
  talking,
} from './session-kit.js';

/**
 * Starts a `transfer` session. Established when C answered and talks to the operator:
 * `{operator, user, to, consulting: true}`. Message `complete` → `{transferred: [user, to]}`.
 */
export function startTransfer(manager: UserManager, cmd: CommandOf<'transfer'>): StartedSession {
  const op = manager.user(cmd.operator);
  const a = manager.user(cmd.user);
  const c = manager.user(cmd.to);
  return startSession(
    manager,
    'transfer',
    async (s, established) => {
      for (const x of [op, a]) {
        if (!talking(x)) throw new DispatchError('not-in-call', `user ${x.number} is not on a call`);
      }
      ensureCanTake(s, [op, a, c]);
      // `clear`: whatever they were in (an operator call, a relation left by a flow) is undone first.
      await s.acquire(op, { clear: true });
      await s.acquire(a, { clear: true });
      s.setEndPolicy(op, 'gc');
      s.setEndPolicy(a, 'gc');
      await s.hold(a);
      // Giving up (cancelled with `end`, C unreachable or gone): the operator and A talk again.
      s.compensate(() => reconnect(s, op, a), { users: [op, a], name: 'reconnect' });
      await takeParty(s, c, { from: a.number });
      s.setEndPolicy(c, 'hangup');
      const consult = s.spawn(() => s.bridge(op, c), { users: [op, c], name: 'consult' });
      established({ operator: op.number, user: a.number, to: c.number, consulting: true });

      for (;;) {
        const next = await receiveOr(s, consult.result);
        if (next.kind === 'other') {
          if (talking(c) && !talking(op)) break; // the operator left: complete by itself
          throw new DispatchError('failed', `${c.number} left the consultation; ${a.number} is reconnected`);
        }
        const { letter } = next;
        switch (letter.message.type) {
          case 'complete':
            // UnBridge ends the consultation's bridge (cancelling the task would not: the bridge runs
            // under the flow's signal and the users' leases, not the task's own signal).
            await s.unbridge(op);
            await settle(consult.result);
            await join(s, a, c);
            s.setEndPolicy(op, 'hangup');
            letter.reply({ transferred: [a.number, c.number] });
            return;
          case 'add':
          case 'remove':
            letter.fail(new DispatchError('unsupported', `${s.id} is a transfer: only complete or end`));
            break;
        }
      }
      await join(s, a, c);
    },
    { priority: PRIORITY.transfer, endPolicy: 'gc' },
  );
}

/** A and C talk: A off hold, a stable bridge that outlives the flow (neither is hung up at its end). */
async function join(s: DispatchSession, a: User, c: User): Promise<void> {
  await s.hold(a, false);
  await s.link(a, c);
  s.setEndPolicy(a, 'gc');
  s.setEndPolicy(c, 'gc');
}

/** The compensation: A off hold and back with the operator (if both are still there). */
async function reconnect(s: DispatchSession, op: User, a: User): Promise<void> {
  if (talking(a)) await s.hold(a, false);
  if (talking(op) && talking(a)) {
    await s.link(op, a);
    return;
  }
  for (const x of [op, a]) if (talking(x)) s.setEndPolicy(x, 'hangup');
}
