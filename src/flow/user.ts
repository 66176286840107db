/**
 * `User`: one party (a number) as the flow runtime sees it — its current channel (`Call`), its state,
 * its call info and the flow that owns it. Users are created and changed only by the user manager;
 * flows read them and operate on them through their session.
 */
import type { Timer } from '../clock/index.js';
import type { Call } from '../ctrl/index.js';
import type { CallInfo } from './call-info.js';

/**
 * - `idle`: no call.
 * - `calling`: a call-out to the user is ringing.
 * - `inbound`: the user called in; the call is not answered yet.
 * - `talking`: the call is answered (a stable state: the user has a call info).
 */
export type UserState = 'idle' | 'calling' | 'inbound' | 'talking';

/** The owner of a user, as seen from outside. */
export interface OwnerRef {
  readonly id: string;
  readonly name: string;
  readonly priority: number;
}

/** A call-out in progress: its own task, which survives the flow that started it (seed item 4). */
export interface CallOut {
  readonly promise: Promise<Call>;
  readonly controller: AbortController;
}

/** A preemption in progress (seed item 9: a later one stops the earlier). */
export interface PreemptionInProgress {
  readonly by: string | undefined;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** Mutable state of a user, owned by the user manager. */
export interface UserSlot {
  call: Call | undefined;
  state: UserState;
  info: CallInfo | undefined;
  /** The session that owns the user (typed loosely to keep this file free of session internals). */
  owner: (OwnerRef & object) | undefined;
  /** Aborted when the owner loses the user: its operations and bound tasks stop. */
  lease: AbortController | undefined;
  /** Operations and bound tasks of the owner on this user, awaited by a preemption. */
  running: Set<Promise<unknown>>;
  callOut: CallOut | undefined;
  preemption: PreemptionInProgress | undefined;
  /** Kept up for an operator: the garbage collector leaves it alone. */
  parked: boolean;
  /** Path of the background recording (Record START) that runs, if any. */
  recording: string | undefined;
  gcTimer: Timer | undefined;
  /** Waiters for the user to become unowned. */
  freeWaiters: Set<() => void>;
  /** Waiters for the user's call to end. */
  endWaiters: Set<() => void>;
}

/** Internal access for the user manager. */
export const kUser: unique symbol = Symbol('openxcc.flow.user');

/**
 * One party. Get it from `manager.user(number)` (or `manager.adopt(call)` for an inbound call).
 *
 * @example
 * const alice = manager.user('1001');
 * alice.state;    // 'idle'
 * await session.call(alice); // rings 1001; now 'talking', callInfo { kind: 'p2p', peer: undefined }
 */
export class User {
  /** The user's number (dialled as a destination number unless a dial string is given). */
  readonly number: string;
  readonly #slot: UserSlot = {
    call: undefined,
    state: 'idle',
    info: undefined,
    owner: undefined,
    lease: undefined,
    running: new Set(),
    callOut: undefined,
    preemption: undefined,
    parked: false,
    recording: undefined,
    gcTimer: undefined,
    freeWaiters: new Set(),
    endWaiters: new Set(),
  };

  /** @internal Users are created by the user manager. */
  constructor(number: string) {
    this.number = number;
  }

  /** The user's current channel, if it has one. */
  get call(): Call | undefined {
    return this.#slot.call;
  }
  get state(): UserState {
    return this.#slot.state;
  }
  /** The user's current relation; defined whenever the user is `talking`. */
  get callInfo(): CallInfo | undefined {
    return this.#slot.info;
  }
  /** The flow that owns the user, if any. */
  get owner(): OwnerRef | undefined {
    const o = this.#slot.owner;
    return o === undefined ? undefined : { id: o.id, name: o.name, priority: o.priority };
  }
  /** True while the user is kept up for an operator (exempt from garbage collection). */
  get parked(): boolean {
    return this.#slot.parked;
  }
  /** True while a preemption of this user is in progress. */
  get preempting(): boolean {
    return this.#slot.preemption !== undefined;
  }

  /** @internal */
  get [kUser](): UserSlot {
    return this.#slot;
  }

  toJSON(): Record<string, unknown> {
    return { number: this.number, state: this.state, owner: this.#slot.owner?.name, uuid: this.call?.uuid };
  }
}
