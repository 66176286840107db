/**
 * flow — the flow runtime (seed 000): multi-party call flows as async functions with sessions, users
 * owned by one flow at a time, preemption by priority, compensation, tear-down, garbage collection and
 * the two kinds of call info (p2p and meet). Built on the ctrl SDK; see docs/flows.md.
 *
 * @example
 * import { UserManager } from 'openxcc/flow';
 *
 * const users = new UserManager({ controller: ctrl, clock });
 * const flow = users.start(async (s) => {
 *   const a = users.user('1001');
 *   const b = users.user('1002');
 *   await Promise.all([s.call(a), s.call(b)]);
 *   await s.bridge(a, b); // until one side hangs up
 * }, { name: 'p2p', priority: 1 });
 * await flow.done;
 */
export { type CallInfo, describeCallInfo, type MeetCallInfo, type P2PCallInfo } from './call-info.js';
export {
  FlowCancelledError,
  FlowError,
  type FlowErrorCode,
  isCallGone,
  isFlowInterruption,
  MailboxClosedError,
  NotOwnerError,
  PreemptedError,
  PreemptionRefusedError,
  PreemptionSupersededError,
  RuntimeClosedError,
  UserUnavailableError,
} from './errors.js';
export { type Letter, Mailbox, MailboxTimeoutError, type MailboxWaitOptions } from './mailbox.js';
export { Meet } from './meet.js';
export {
  type AcquireOptions,
  type CallUserOptions,
  type FlowSpawnOptions,
  FlowSession,
  type UndoOptions,
} from './session.js';
export type { SpawnOptions, Task } from './task-scope.js';
export {
  type EndPolicy,
  type FlowLogger,
  type PreemptionEvent,
  type PreemptionHandler,
  silentFlowLogger,
} from './types.js';
export type { UndoReport, UndoStep } from './undo-stack.js';
export type { OwnerRef, UserState } from './user.js';
export { User } from './user.js';
export {
  type FlowFunction,
  type FlowHandle,
  type FlowOutcome,
  type StartOptions,
  UserManager,
  type UserManagerLeaks,
  type UserManagerOptions,
} from './user-manager.js';
