/**
 * Call info: what relation a user in a stable state is in. Exactly two kinds (seed 000 item 3): a
 * two-party relation (`p2p`, possibly with no peer yet — a user just answered and talking to the flow)
 * and membership of a conference (`meet`). Every user on an answered call has one; an idle or ringing
 * user has none.
 */
import type { Meet } from './meet.js';
import type { User } from './user.js';

/** A two-party relation. `peer` is undefined for a user alone on its call (e.g. listening to a prompt). */
export interface P2PCallInfo {
  readonly kind: 'p2p';
  /** The user this one is bridged to, if any. */
  readonly peer: User | undefined;
  /** True while the user is on hold. */
  readonly held: boolean;
}

/** Membership of a meet (conference). */
export interface MeetCallInfo {
  readonly kind: 'meet';
  readonly meet: Meet;
}

/** The two kinds of call info. */
export type CallInfo = P2PCallInfo | MeetCallInfo;

/** Call info of a user that was just answered: alone, not held. */
export function aloneInfo(): P2PCallInfo {
  return { kind: 'p2p', peer: undefined, held: false };
}

/** Describes a call info for logs and tests (`p2p:1001`, `p2p:-`, `meet:room1`). */
export function describeCallInfo(info: CallInfo | undefined): string {
  if (info === undefined) return 'none';
  switch (info.kind) {
    case 'p2p':
      return `p2p:${info.peer?.number ?? '-'}${info.held ? ':held' : ''}`;
    case 'meet':
      return `meet:${info.meet.name}`;
  }
}
