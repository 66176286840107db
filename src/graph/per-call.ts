/**
 * Per-call pipelines: one graph instance per call, started (declared order) when the call starts and
 * closed (reverse order, billing last) when the call's signal aborts. Structurally typed: graph does
 * not import ctrl — anything with an `AbortSignal` that aborts at hang-up will do.
 */
import type { CloseReport, GraphOptions } from './graph.js';
import { Graph } from './graph.js';

/** What a per-call graph needs of a call: a signal that aborts when the call ends. */
export interface CallLike {
  readonly signal: AbortSignal;
}

export interface PerCallGraphOptions extends GraphOptions {
  /** Called once the pipeline started (or failed to), e.g. to hand the graph to the call flow. */
  onStarted?: (graph: Graph) => void;
}

/**
 * Starts a graph for `call` and closes it when `call.signal` aborts; resolves with the close report
 * after deinit (no leftovers: the abort listener is removed, timers and commands are released).
 * Order defaults to `declared`. A startup failure closes the graph at once and rejects with
 * `GraphStartError`; a spec error throws `GraphSpecError` before anything runs.
 *
 * @example
 * controller.onCall(async (call) => {
 *   const pipeline = runPerCallGraph(call, pipelineJson, { registry, clock });
 *   await ivr(call);   // the pipeline closes itself when the call ends
 *   await pipeline;
 * });
 */
export async function runPerCallGraph(
  call: CallLike,
  spec: unknown,
  options: PerCallGraphOptions,
): Promise<CloseReport> {
  const graph = new Graph(spec, { order: 'declared', ...options });
  let onAbort: (() => void) | undefined;
  const ended = new Promise<void>((resolve) => {
    if (call.signal.aborted) return resolve();
    onAbort = () => resolve();
    call.signal.addEventListener('abort', onAbort, { once: true });
  });
  // If the call ends while the pipeline is starting, close skips what has not started yet.
  // close() never rejects, and is the same promise awaited below.
  void ended.then(() => graph.close('call ended'));
  try {
    await graph.start();
  } catch (err) {
    // start() closed the graph before rejecting; drop the listener so nothing outlives the call.
    if (onAbort) call.signal.removeEventListener('abort', onAbort);
    throw err;
  }
  options.onStarted?.(graph);
  await ended;
  return graph.close('call ended');
}
