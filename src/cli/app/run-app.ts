/**
 * Building a controller application from a loaded app file: the app graph over the built-in addons,
 * with the per-call pipeline and imported subgraphs handed to the router. Lifecycle order defaults to
 * `declared` (the file's `lifecycle.order` wins), which is what makes `main` — declared first — start
 * billing and report before the router takes a call, and stop them after it let go of the last one.
 */
import { type CloseReport, Graph, type GraphEvent, type GraphOptions } from '../../graph/index.js';
import { silentLogger } from '../../protocol/index.js';
import type { AppFile } from './app-file.js';
import type { AppDeps } from './deps.js';
import { createAppRegistry } from './registry.js';

export interface CreateAppOptions {
  /** Called with every event of the app graph (after the built-in logging of failures). */
  onEvent?: (event: GraphEvent) => void;
  /** Keep the app graph's events in `graph.events`. Default true. */
  recordEvents?: boolean;
  /** Stage timeouts (ms) over the file's and the engine's defaults. */
  stageTimeoutMs?: GraphOptions['stageTimeoutMs'];
  /** Wait for a manual stop trigger (ms). Default: the file's, else the engine's 10 s. */
  gateTimeoutMs?: number;
}

/**
 * The app graph for `app`, wired to `deps` (not started: call `graph.start()`, later `graph.close()`).
 *
 * @example
 * const app = await loadAppFile('examples/graph/app.json');
 * const graph = createApp(app, { bus, clock, out: console.log, baseDir: app.baseDir, loadFlow });
 * await graph.start();   // main → billing → report → metrics → router
 * await graph.close();   // router → metrics → main → report → billing
 */
export function createApp(
  app: Pick<AppFile, 'graph' | 'perCall' | 'subgraphs'>,
  deps: AppDeps,
  options: CreateAppOptions = {},
): Graph {
  const logger = deps.logger ?? silentLogger;
  const wired: AppDeps = {
    ...deps,
    ...(app.perCall === undefined ? {} : { perCall: app.perCall }),
    subgraphs: { ...app.subgraphs, ...deps.subgraphs },
  };
  const onEvent = (event: GraphEvent): void => {
    switch (event.type) {
      case 'stage_failed':
      case 'stage_timeout':
      case 'gate_timeout':
      case 'handler_error':
        logger.warn({ event }, `app graph: ${event.type} in ${event.extension}`);
        break;
      default:
        logger.debug({ event }, `app graph: ${event.type}`);
    }
    options.onEvent?.(event);
  };
  return new Graph(app.graph, {
    registry: createAppRegistry(wired),
    clock: deps.clock,
    order: fileOrder(app.graph) ?? 'declared',
    subgraphs: wired.subgraphs ?? {},
    onEvent,
    recordEvents: options.recordEvents ?? true,
    ...(options.stageTimeoutMs === undefined ? {} : { stageTimeoutMs: options.stageTimeoutMs }),
    ...(options.gateTimeoutMs === undefined ? {} : { gateTimeoutMs: options.gateTimeoutMs }),
  });
}

/** One line per failed stage of a close report, e.g. `router stop timeout: …`. */
export function describeFailures(report: CloseReport): string[] {
  return report.failures.map((f) => `${f.extension} ${f.stage} ${f.reason}: ${f.message}`);
}

function fileOrder(graph: unknown): 'parallel' | 'declared' | undefined {
  if (typeof graph !== 'object' || graph === null) return undefined;
  const lifecycle = (graph as { lifecycle?: { order?: unknown } }).lifecycle;
  const order = lifecycle?.order;
  return order === 'parallel' || order === 'declared' ? order : undefined;
}
