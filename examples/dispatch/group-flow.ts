/**
 * `group`: a group call — a meet (conference) of several users, each called and joined as a task of its
 * own. Members can be added and removed while it runs (`add`/`remove` messages). A member taken by a
 * higher-priority flow (an operator's call) leaves the meet; when that flow lets go of it and it is still
 * on the line, the group takes it back. The session lasts until `end`, which hangs every member up, or
 * until nobody is left in it (members hung up, removed or released).
 */
import { isFlowInterruption, Meet, type User, type UserManager } from '../../src/flow/index.js';
import type { CommandOf } from './commands.js';
import { DispatchError } from './errors.js';
import { PRIORITY } from './priorities.js';
import {
  type DispatchSession,
  receiveOr,
  type StartedSession,
  startSession,
  takeParty,
} from './session-kit.js';

let roomSeq = 0;

/** Outcome of calling a member in: joined, or why not. */
type Joining = { ok: true } | { ok: false; error: unknown };

/**
 * Starts a `group` session. Established once every initial member joined or failed:
 * `{room, joined: [...numbers], failed: [{user, error}]}`. Messages: `add` → `{room, members}` (or the
 * member's failure), `remove` → `{room, members}`.
 */
export function startGroup(manager: UserManager, cmd: CommandOf<'group'>): StartedSession {
  const meet = new Meet(cmd.room ?? `group-${++roomSeq}`);
  const numbers = [...new Set([...(cmd.operator === undefined ? [] : [cmd.operator]), ...cmd.users])];
  return startSession(
    manager,
    'group',
    async (s, established) => {
      /** Users the group wants in (a preempted member stays wanted and is taken back). */
      const wanted = new Set<User>();
      // The group ends by itself once nobody is left in it (all hung up, removed or released).
      let emptied!: () => void;
      const empty = new Promise<void>((resolve) => {
        emptied = resolve;
      });
      const forget = (user: User): void => {
        if (wanted.delete(user) && wanted.size === 0) emptied();
      };
      const members = (): string[] => [...meet.members].map((u) => u.number).sort();

      const join = (user: User, from: string | undefined): Promise<Joining> => {
        let report!: (j: Joining) => void;
        const joining = new Promise<Joining>((resolve) => {
          report = resolve;
        });
        s.spawn(
          async () => {
            try {
              await takeParty(s, user, from === undefined ? {} : { from });
            } catch (error) {
              report({ ok: false, error });
              forget(user);
              if (isFlowInterruption(error)) throw error;
              return; // a member that cannot be reached is reported, not a failure of the group
            }
            s.setEndPolicy(user, 'hangup');
            const membership = s.joinMeet(user, meet);
            report({ ok: true });
            await membership;
            // Left by hanging up: no longer a member (an `add` may bring the user back later).
            if (user.state !== 'talking') forget(user);
          },
          { name: `member:${user.number}` },
        );
        s.onPreempted(user, (ev) => {
          // Torn down (`release`): the member is being hung up, it is gone for good.
          if (ev.by === undefined) {
            forget(user);
            return;
          }
          // Taken by another flow: take the member back once that flow lets go of it, if it is still
          // on the line.
          s.spawn(
            async () => {
              await s.whenFree(user);
              if (!wanted.has(user) || user.state !== 'talking') {
                forget(user);
                return;
              }
              const back = await join(user, undefined);
              if (!back.ok && !isFlowInterruption(back.error)) forget(user);
            },
            { name: `rejoin:${user.number}` },
          );
        });
        return joining;
      };

      const add = (number: string): Promise<Joining> => {
        const user = manager.user(number);
        wanted.add(user);
        return join(user, cmd.operator);
      };

      const initial = await Promise.all(numbers.map(async (n) => ({ n, joining: await add(n) })));
      established({
        room: meet.name,
        joined: initial.filter((x) => x.joining.ok).map((x) => x.n),
        failed: initial.flatMap((x) =>
          x.joining.ok ? [] : [{ user: x.n, error: describe(x.joining.error) }],
        ),
      });

      for (;;) {
        if (wanted.size === 0) return;
        const next = await receiveOr(s, empty);
        if (next.kind === 'other') return;
        const { letter } = next;
        const msg = letter.message;
        switch (msg.type) {
          case 'add': {
            const user = manager.user(msg.user);
            if (wanted.has(user)) {
              letter.fail(new DispatchError('bad-request', `user ${msg.user} is already in ${s.id}`));
              break;
            }
            const joining = await add(msg.user);
            if (joining.ok) letter.reply({ session: s.id, room: meet.name, members: members() });
            else letter.fail(joining.error);
            break;
          }
          case 'remove': {
            const user = manager.user(msg.user);
            if (!wanted.has(user)) {
              letter.fail(new DispatchError('not-found', `user ${msg.user} is not in ${s.id}`));
              break;
            }
            wanted.delete(user); // not `forget`: the group ends after the reply if it is now empty
            await removeMember(s, user);
            letter.reply({ session: s.id, room: meet.name, members: members() });
            break;
          }
          case 'complete':
            letter.fail(new DispatchError('unsupported', `${s.id} is a group call: nothing to complete`));
            break;
        }
      }
    },
    { priority: PRIORITY.group, endPolicy: 'hangup' },
  );
}

/** Stops the member's membership (Stop on the node) and hangs it up, if the group still owns it. */
async function removeMember(s: DispatchSession, user: User): Promise<void> {
  if (s.owns(user)) await s.release(user, 'hangup');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
