/**
 * graph — the extension lifecycle engine (seeds/003): graphs of extensions loaded from JSON, the
 * configure/init/start/stop/deinit stage machine with acknowledgements, manual triggers
 * (`ten:trigger_life_cycle`), declared-order start and reverse-order stop, stage timeouts, and
 * per-call pipelines. Imports only `clock`.
 */
export { AddonRegistry } from './addon-registry.js';
export {
  GRAPH_ERROR_CODES,
  type GraphErrorCode,
  GraphSpecError,
  type GraphSpecIssue,
  GraphStartError,
  GraphStateError,
  type StageFailure,
} from './errors.js';
export type { GraphEvent } from './events.js';
export type { Addon, AddonContext, Extension, ExtensionEnv } from './extension.js';
export {
  type CloseReport,
  DEFAULT_CMD_TIMEOUT_MS,
  DEFAULT_GATE_TIMEOUT_MS,
  DEFAULT_STAGE_TIMEOUT_MS,
  Graph,
  type GraphOptions,
  type GraphState,
} from './graph.js';
export {
  type CmdReply,
  type CmdResult,
  type DataKind,
  type IncomingCmd,
  type IncomingData,
  MESSAGE_KINDS,
  type MessageKind,
  type SendCmdOptions,
  TRIGGER_LIFE_CYCLE,
} from './messages.js';
export type {
  ConnectionSpec,
  ExposedMessageSpec,
  ExposedPropertySpec,
  ExtensionNodeSpec,
  FlowSpec,
  GraphSpec,
  LifecycleSpec,
  LocSpec,
  NodeSpec,
  SubgraphDefinition,
  SubgraphNodeSpec,
} from './spec.js';
export { parseGraphSpec } from './spec.js';
export {
  LIFECYCLE_STATES,
  type LifecycleState,
  MANUAL_STAGES,
  type ManualStage,
  STAGES,
  type Stage,
  StageMachine,
} from './stages.js';
export { type CallLike, type PerCallGraphOptions, runPerCallGraph } from './per-call.js';
