/**
 * `Meet`: a conference by composition — a room name and the users in it. Membership is kept by the user
 * manager: a user is a member while its conference operation runs, and leaves when it is stopped,
 * preempted or hangs up.
 */
import type { User } from './user.js';

/** Internal access for the user manager. */
export const kMeet: unique symbol = Symbol('openxcc.flow.meet');

/**
 * A conference room and its members.
 *
 * @example
 * const meet = new Meet('dispatch-1');
 * session.spawn(() => session.joinMeet(alice, meet));
 * meet.members.size; // 1 once Alice joined
 */
export class Meet {
  /** Conference room name on the node. */
  readonly name: string;
  readonly #members = new Set<User>();

  constructor(name: string) {
    this.name = name;
  }

  /** Users currently in the room. */
  get members(): ReadonlySet<User> {
    return this.#members;
  }

  /** @internal */
  get [kMeet](): Set<User> {
    return this.#members;
  }
}
