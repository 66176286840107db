/**
 * What the built-in app addons need from the outside world. The CLI builds it from flags and files;
 * tests and the embedded example build it from a MemoryBroker and a VirtualClock.
 */
import type { Bus } from '../../bus/index.js';
import type { Clock } from '../../clock/index.js';
import type { Graph } from '../../graph/index.js';
import type { Logger, SubjectOptions } from '../../protocol/index.js';
import type { FlowFunction } from '../flow-module.js';

export interface AppDeps {
  /** The bus the `call-router`'s controller runs on. */
  bus: Bus;
  clock: Clock;
  /** Library log lines (pino in the CLI). Default: silent. */
  logger?: Logger;
  /** One human-readable output line (stdout in the CLI): `report` to stdout, `metrics` periodic lines. */
  out(line: string): void;
  /** Folder that relative paths in properties (`report.path`) are resolved against: the app file's. */
  baseDir: string;
  /** Resolves a `call-router`'s `flow` property to its flow function (the CLI preloads the modules). */
  loadFlow(name: string): Promise<FlowFunction>;
  /** The per-call pipeline graph JSON (app file `per_call`), run for every call the router takes. */
  perCall?: unknown;
  /** Definitions for `import_uri` subgraphs, shared by the app graph and the per-call graph. */
  subgraphs?: Readonly<Record<string, unknown>>;
  /** Tenant prefix and subject overrides for the router's controller. */
  subjectOptions?: SubjectOptions;
  /** Controller uuid for the router (a `ctrl_uuid` property wins). Default: random. */
  ctrlUuid?: string;
  /**
   * Called with every per-call graph once it started (tests read its event log). When set, per-call
   * graphs record their events; otherwise they do not (they are short-lived and numerous).
   */
  onPipeline?(callUuid: string, graph: Graph): void;
}
