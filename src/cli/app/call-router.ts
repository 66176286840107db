/**
 * The `call-router` addon: wraps a `Controller` on the app's bus and hands every call it wins to the
 * flow module named in `property.flow` (the `xcc ctrl <flow-module>` contract). Around each call it
 *
 * - sends `call_start`, `call_answer` and `call_end` events through the app graph's connections (to
 *   billing, report, metrics);
 * - runs the per-call pipeline (app file `per_call`) with `runPerCallGraph({signal: call.signal}, …)`:
 *   started in declared order when the call starts, concurrently with the flow; closed in reverse
 *   order (billing last) when the call's signal aborts (flow end, hang-up, controller close);
 *   `call_end` goes out once the call is gone *and* its pipeline closed, carrying the pipeline's summary.
 *
 * Starting opens the controller (joins the `xctrl` queue group); stopping closes it — no new calls,
 * flows cancelled — and waits until every taken call has sent its `call_end`.
 */
import { z } from 'zod';
import type { Call, ControllerLeaks } from '../../ctrl/index.js';
import { Controller } from '../../ctrl/index.js';
import {
  type Addon,
  type CmdReply,
  type Extension,
  type ExtensionEnv,
  type IncomingCmd,
  runPerCallGraph,
} from '../../graph/index.js';
import { CallGoneError, isCancellation, type Logger, silentLogger } from '../../protocol/index.js';
import { oneLine } from '../errors.js';
import type { FlowContext, FlowFunction } from '../flow-module.js';
import type { CallEnd, CallStart, FlowOutcome, PipelineSummary } from './call-record.js';
import type { AppDeps } from './deps.js';
import { createPerCallRegistry } from './per-call-addons.js';
import { parseProperty } from './property.js';

export const CallRouterProperty = z.strictObject({
  /** The flow module (path relative to the app file, e.g. `../ivr.ts`), resolved by `deps.loadFlow`. */
  flow: z.string().min(1),
  /** Handed to the flow as `ctx.options` (like `--set key=value`); values are strings. */
  options: z.record(z.string(), z.string()).default({}),
  /** Controller uuid (one subject token). Default: the CLI's `--ctrl-uuid`, else random. */
  ctrl_uuid: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'expected one subject token')
    .optional(),
  /** Run the app's per-call pipeline for each call (when the app file has one). Default true. */
  per_call: z.boolean().default(true),
  ten: z.unknown().optional(),
});
export type CallRouterProperty = z.infer<typeof CallRouterProperty>;

/** What the router's `status` command answers. */
export interface RouterStatus {
  ctrl_uuid: string | undefined;
  /** Calls taken whose `call_end` has not gone out yet. */
  active_calls: number;
  /** Per-call graphs not yet closed. */
  active_pipelines: number;
  pipeline_failures: number;
  calls_taken: number;
  leaks: ControllerLeaks | undefined;
}

export class CallRouterExtension implements Extension {
  readonly #deps: AppDeps;
  readonly #property: CallRouterProperty;
  readonly #logger: Logger;
  #flow: FlowFunction | undefined;
  #controller: Controller | undefined;
  /** One promise per taken call, settled after its `call_end` went out. */
  readonly #calls = new Set<Promise<void>>();
  #pipelines = 0;
  #pipelineFailures = 0;
  #taken = 0;

  constructor(deps: AppDeps, property: CallRouterProperty) {
    this.#deps = deps;
    this.#property = property;
    this.#logger = deps.logger ?? silentLogger;
  }

  get status(): RouterStatus {
    return {
      ctrl_uuid: this.#controller?.ctrlUuid,
      active_calls: this.#calls.size,
      active_pipelines: this.#pipelines,
      pipeline_failures: this.#pipelineFailures,
      calls_taken: this.#taken,
      leaks: this.#controller?.leaks(),
    };
  }

  async onInit(): Promise<void> {
    this.#flow = await this.#deps.loadFlow(this.#property.flow);
  }

  async onStart(env: ExtensionEnv): Promise<void> {
    const flow = this.#flow;
    if (flow === undefined) throw new Error('call-router: no flow loaded');
    const ctrlUuid = this.#property.ctrl_uuid ?? this.#deps.ctrlUuid;
    const controller = new Controller({
      bus: this.#deps.bus,
      clock: this.#deps.clock,
      logger: this.#logger,
      ...(ctrlUuid === undefined ? {} : { ctrlUuid }),
      ...(this.#deps.subjectOptions === undefined ? {} : { subjectOptions: this.#deps.subjectOptions }),
    });
    this.#controller = controller;
    const ctx: FlowContext = { controller, logger: this.#logger, options: { ...this.#property.options } };
    await controller.start();
    controller.onCall((call) => this.#take(call, flow, ctx, env));
  }

  async onStop(): Promise<void> {
    // Closing cancels every flow; each call's signal aborts, its pipeline closes, its call_end goes out.
    await this.#controller?.close();
    await Promise.all([...this.#calls]);
  }

  onCmd(cmd: IncomingCmd): CmdReply | undefined {
    if (cmd.name !== 'status')
      return { status: 'error', message: `call-router does not handle "${cmd.name}"` };
    return { detail: this.status };
  }

  /** Runs one call: events out, pipeline beside the flow, `call_end` after both are done. */
  async #take(call: Call, flow: FlowFunction, ctx: FlowContext, env: ExtensionEnv): Promise<void> {
    const clock = this.#deps.clock;
    this.#taken++;
    const start: CallStart = {
      uuid: call.uuid,
      ctrl_uuid: ctx.controller.ctrlUuid,
      node_uuid: call.nodeUuid,
      cid_number: call.cidNumber,
      dest_number: call.destNumber,
      started_at: clock.now(),
    };
    env.sendData('event', 'call_start', start);
    const run = flow(call, ctx);
    const outcome = run.then(
      (): FlowOutcome => 'completed',
      (err: unknown): FlowOutcome =>
        isCancellation(err) || err instanceof CallGoneError ? 'cancelled' : 'failed',
    );
    const answered = this.#watchAnswer(call, env);
    const pipeline = this.#runPipeline(call);
    const all = Promise.all([call.ended, answered, pipeline, outcome]);
    const ended = all.then(([info, answeredAt, summary, how]) => {
      const endedAt = clock.now();
      const billableMs = info.billmsec ?? (answeredAt === undefined ? 0 : Math.max(0, endedAt - answeredAt));
      const end: CallEnd = {
        ...start,
        answered_at: answeredAt,
        ended_at: endedAt,
        cause: info.cause,
        billable_ms: billableMs,
        billable_seconds: Math.ceil(billableMs / 1000),
        outcome: how,
        ...(summary === undefined ? {} : { pipeline: summary }),
      };
      env.sendData('event', 'call_end', end);
    });
    const tracked = ended.then(
      () => {
        this.#calls.delete(tracked);
      },
      (err: unknown) => {
        this.#calls.delete(tracked);
        this.#logger.error({ err, uuid: call.uuid }, 'call-router: call record lost');
      },
    );
    this.#calls.add(tracked);
    // The controller logs a failed flow and hangs its call up; a cancellation is routine.
    await run;
  }

  /** Resolves with the clock time of the call's ANSWERED event (undefined if it never came). */
  async #watchAnswer(call: Call, env: ExtensionEnv): Promise<number | undefined> {
    let answeredAt: number | undefined;
    const mark = (): void => {
      if (answeredAt !== undefined) return;
      answeredAt = this.#deps.clock.now();
      env.sendData('event', 'call_answer', { uuid: call.uuid, answered_at: answeredAt });
    };
    if (call.answered) mark();
    // The iteration ends after DESTROY (or when the controller stops tracking the call).
    for await (const ev of call.events()) if (ev.state === 'ANSWERED') mark();
    return answeredAt;
  }

  /** Runs the per-call graph for `call`; resolves with its summary (never rejects). */
  async #runPipeline(call: Call): Promise<PipelineSummary | undefined> {
    const spec = this.#deps.perCall;
    if (spec === undefined || !this.#property.per_call) return undefined;
    const summary: PipelineSummary = { metered_ms: 0, failures: [] };
    const onPipeline = this.#deps.onPipeline;
    const registry = createPerCallRegistry({
      call,
      clock: this.#deps.clock,
      report: (patch) => Object.assign(summary, patch),
    });
    this.#pipelines++;
    try {
      const report = await runPerCallGraph(call, spec, {
        registry,
        clock: this.#deps.clock,
        ...(this.#deps.subgraphs === undefined ? {} : { subgraphs: this.#deps.subgraphs }),
        recordEvents: onPipeline !== undefined,
        ...(onPipeline === undefined ? {} : { onStarted: (graph) => onPipeline(call.uuid, graph) }),
      });
      summary.failures.push(...report.failures.map((f) => `${f.extension}:${f.stage}`));
    } catch (err) {
      // The pipeline closed itself before rejecting; the call goes on unrecorded but still metered
      // by the app's billing, and the failure travels in call_end.
      this.#pipelineFailures++;
      summary.failures.push(oneLine(err));
      this.#logger.warn({ err, uuid: call.uuid }, 'call-router: per-call pipeline failed to start');
    } finally {
      this.#pipelines--;
    }
    return summary;
  }
}

export function callRouterAddon(deps: AppDeps): Addon {
  return {
    create: ({ name, property }) =>
      new CallRouterExtension(deps, parseProperty(CallRouterProperty, name, property)),
  };
}
