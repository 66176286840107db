/**
 * The dispatch example: an operator console flow set over the bus, on the flow runtime (`src/flow`).
 * See README.md for the command shapes, the priorities and what each session does.
 */
export { startCall } from './call-flow.js';
export {
  COMMAND_NAMES,
  type Command,
  type CommandName,
  type CommandOf,
  CommandSchema,
  decodeCommand,
  type Reply,
} from './commands.js';
export {
  DEFAULT_DISPATCH_SUBJECT,
  type Dispatch,
  type DispatchOptions,
  type SessionSummary,
  startDispatch,
} from './dispatch.js';
export { DispatchError, type DispatchErrorCode, type ReplyError, toReplyError } from './errors.js';
export { startGroup } from './group-flow.js';
export { startInsert } from './insert-flow.js';
export { MONITOR_FLAGS, startMonitor } from './monitor-flow.js';
export { PRIORITY, type SessionKind } from './priorities.js';
export type { SessionMessage, SessionReply, StartedSession } from './session-kit.js';
export { startTransfer } from './transfer-flow.js';
