/**
 * cli — the `xcc` command: `demo`, `node`, `ctrl`, `call`, `events`. The only module that wires concrete
 * implementations together and reads env/config files. `main.ts` is the process entry; the pieces below
 * are exported so commands can be embedded or tested in-process.
 */
export { type CallOptions, runCall } from './commands/call.js';
export { type CtrlOptions, runCtrl } from './commands/ctrl.js';
export { type DemoOptions, runDemo } from './commands/demo.js';
export { type EventsOptions, runEvents } from './commands/events.js';
export { type NodeOptions, runNode } from './commands/node.js';
export { loadDataFile, loadDirectory, loadScript } from './config-file.js';
export {
  DEMO_AGENT,
  DEMO_CALLERS,
  DEMO_DEST_NUMBER,
  DEMO_DIRECTORY,
  type DemoCaller,
} from './demo/callers.js';
export { type DemoOutcome, Tally } from './demo/tally.js';
export { CliError, ExitCode, oneLine, usageError } from './errors.js';
export { type FlowContext, type FlowFunction, loadFlowModule } from './flow-module.js';
export { type CliIo, processIo, untilAborted } from './io.js';
export { createLogger, LOG_LEVELS, type LogLevel } from './logger.js';
export { main, runCli } from './main.js';
export {
  addNatsFlags,
  connectNats,
  DEFAULT_NATS_URL,
  NATS_ENV,
  type NatsFlags,
  natsBusOptions,
} from './nats.js';
export { formatLine, summarize, type WireKind, type WireSummary } from './pretty.js';
export { buildProgram, type GlobalFlags, type Program } from './program.js';
export { ScaledClock } from './scaled-clock.js';
