/**
 * `Graph`: a loaded, validated graph of extensions and its lifecycle — start (configure → init →
 * start, in declared order if asked), close (waits for running stages, skips start stages not begun,
 * always stop then deinit, bounded by stage and gate timeouts), message routing and the event log.
 */
import type { Clock } from '../clock/index.js';
import type { AddonRegistry } from './addon-registry.js';
import { type CompiledExtension, type CompiledGraph, compileGraph, routeKey } from './compile.js';
import { GraphStartError, GraphStateError, type StageFailure } from './errors.js';
import type { GraphEvent, GraphEventInit } from './events.js';
import type { Extension } from './extension.js';
import { ExtensionHost, type HostContext, type ResolvedLifecycle } from './extension-host.js';
import {
  type CmdResult,
  type DataKind,
  errorResult,
  type MessageKind,
  type SendCmdOptions,
  TRIGGER_LIFE_CYCLE,
} from './messages.js';
import { InPath, OutCmd, type ResultSink } from './paths.js';
import { parseGraphSpec } from './spec.js';
import type { LifecycleState, ManualStage, Stage } from './stages.js';

/** Default per-stage timeouts (ms): a stuck extension is failed after these, and the graph goes on. */
export const DEFAULT_STAGE_TIMEOUT_MS: Readonly<Record<Stage, number>> = {
  configure: 10_000,
  init: 10_000,
  start: 10_000,
  stop: 10_000,
  deinit: 5_000,
};
/** Default wait (ms) of a manual-stop extension for its stop trigger once close reached it. */
export const DEFAULT_GATE_TIMEOUT_MS = 10_000;
/** Default command timeout (ms), TEN's path timeout. */
export const DEFAULT_CMD_TIMEOUT_MS = 180_000;

export interface GraphOptions {
  registry: AddonRegistry;
  clock: Clock;
  /**
   * `declared`: automatic starts run one after another in declared order, automatic stops in reverse
   * (first in, last out). Manual stages are ordered by their triggers instead. Default: the graph
   * file's `lifecycle.order`, else `parallel`.
   */
  order?: 'parallel' | 'declared';
  /** Every extension finishes stop before any deinit. Default: file's value, else false. */
  syncStopBeforeDeinit?: boolean;
  /** Per-stage timeouts (ms, `Infinity` = none), over the file's, over `DEFAULT_STAGE_TIMEOUT_MS`. */
  stageTimeoutMs?: Partial<Record<Stage, number>>;
  /** How long close waits for a manual stop trigger before stopping anyway. Default 10 000. */
  gateTimeoutMs?: number;
  /** Default command timeout. Default 180 000. */
  cmdTimeoutMs?: number;
  /** Definitions for subgraph `import_uri`s. */
  subgraphs?: Readonly<Record<string, unknown>>;
  /** Called with every event as it is recorded. */
  onEvent?: (event: GraphEvent) => void;
  /** Keep events in `graph.events`. Default true (turn off for long-lived graphs that log via `onEvent`). */
  recordEvents?: boolean;
}

export type GraphState = 'idle' | 'running' | 'closing' | 'closed';

/** What `close()` resolves with. */
export interface CloseReport {
  /** Every stage that threw or timed out during the graph's life. */
  failures: StageFailure[];
}

type Target = { label: string; host: ExtensionHost } | { label: string; error: CmdResult };

/**
 * A graph of extensions.
 *
 * @example
 * const graph = new Graph(json, { registry, clock: new RealClock(), order: 'declared' });
 * await graph.start();   // billing, then recorder, then asr
 * await graph.close();   // asr, then recorder, then billing
 */
export class Graph {
  readonly #compiled: CompiledGraph;
  readonly #options: GraphOptions;
  readonly #lifecycle: ResolvedLifecycle;
  readonly #hosts = new Map<string, ExtensionHost>();
  readonly #order: ExtensionHost[] = [];
  /** Commands sent from outside the graph, still open. */
  readonly #outs = new Set<OutCmd>();
  readonly #events: GraphEvent[] = [];
  readonly #failures: StageFailure[] = [];
  readonly #ctx: HostContext;
  #state: GraphState = 'idle';
  #runs: Promise<void> | undefined;
  #closing: Promise<CloseReport> | undefined;
  #allStopped: Promise<void> | undefined;

  /** Parses, validates and flattens `json`; throws `GraphSpecError` naming every fault. */
  constructor(json: unknown, options: GraphOptions) {
    this.#compiled = compileGraph(parseGraphSpec(json), options);
    this.#options = options;
    const file = this.#compiled.lifecycle;
    this.#lifecycle = {
      order: options.order ?? file.order ?? 'parallel',
      syncStopBeforeDeinit: options.syncStopBeforeDeinit ?? file.sync_stop_before_deinit ?? false,
      stageTimeoutMs: { ...DEFAULT_STAGE_TIMEOUT_MS, ...file.stage_timeout_ms, ...options.stageTimeoutMs },
      gateTimeoutMs: options.gateTimeoutMs ?? file.gate_timeout_ms ?? DEFAULT_GATE_TIMEOUT_MS,
      cmdTimeoutMs: options.cmdTimeoutMs ?? file.cmd_timeout_ms ?? DEFAULT_CMD_TIMEOUT_MS,
    };
    this.#ctx = this.#hostContext();
    for (const spec of this.#compiled.extensions) {
      const host = new ExtensionHost(spec, this.#ctx);
      this.#hosts.set(spec.name, host);
      this.#order.push(host);
    }
  }

  get state(): GraphState {
    return this.#state;
  }

  /** Recorded events, oldest first. */
  get events(): readonly GraphEvent[] {
    return this.#events;
  }

  /** Qualified extension names in declared order. */
  get extensionNames(): string[] {
    return this.#order.map((h) => h.name);
  }

  /** Commands still open anywhere in the graph (0 after close: nothing leaks). */
  get openCommands(): number {
    let n = this.#outs.size;
    for (const host of this.#order) n += host.outs.size;
    return n;
  }

  /** Lifecycle state of extension `name` (qualified), or undefined if there is none. */
  stateOf(name: string): LifecycleState | undefined {
    return this.#hosts.get(name)?.state;
  }

  /** The first failed stage of extension `name`, if any. */
  failureOf(name: string): StageFailure | undefined {
    return this.#hosts.get(name)?.failure;
  }

  /**
   * Starts every extension. Resolves when each has started, is waiting for a manual start, or was
   * skipped by a close. If a configure/init/(automatic) start fails, the graph closes and this rejects
   * with `GraphStartError` after the close finished.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new GraphStateError(`cannot start a graph that is ${this.#state}`);
    this.#state = 'running';
    this.#runs = Promise.all(this.#order.map((h) => h.run())).then(() => undefined);
    await Promise.all(this.#order.map((h) => h.ready.wait));
    const startupFailures = this.#failures.filter((f) => this.#closesGraph(f));
    if (startupFailures.length > 0) {
      await this.close('startup failed');
      throw new GraphStartError(startupFailures);
    }
  }

  /**
   * Closes the graph: running stages finish, start stages not begun are skipped, every extension runs
   * stop then deinit (bounded by timeouts). Idempotent: every call gets the same promise. Never rejects.
   */
  close(reason = 'close requested'): Promise<CloseReport> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  async #close(reason: string): Promise<CloseReport> {
    this.#record({ type: 'graph_close', reason });
    if (this.#state === 'idle') {
      for (const host of this.#order) host.abandon();
    } else {
      this.#state = 'closing';
      for (const host of this.#order) host.triggerClose();
      await this.#runs;
    }
    for (const out of [...this.#outs]) out.fail('CLOSED', 'graph closed');
    this.#state = 'closed';
    this.#record({ type: 'graph_closed' });
    return { failures: [...this.#failures] };
  }

  /** Sends a command from outside the graph to `dest` (extension or exposing subgraph). */
  sendCmd(
    dest: string,
    name: string,
    properties: Record<string, unknown> = {},
    options: Omit<SendCmdOptions, 'dest'> = {},
  ): Promise<CmdResult> {
    return this.#sendCmd(undefined, name, properties, { ...options, dest });
  }

  /** Like `sendCmd`, yielding every (streamed and final) result. */
  streamCmd(
    dest: string,
    name: string,
    properties: Record<string, unknown> = {},
    options: Omit<SendCmdOptions, 'dest'> = {},
  ): AsyncIterable<CmdResult> {
    return this.#streamCmd(undefined, name, properties, { ...options, dest });
  }

  /** Sends data/event/frame `name` from outside the graph to `dest`; returns how many received it. */
  sendData(dest: string, kind: DataKind, name: string, payload?: unknown): number {
    return this.#sendData(undefined, kind, name, payload, dest);
  }

  /**
   * Sends `ten:trigger_life_cycle {stage}` to `dest`: resolves ok when the stage completed, or at once
   * with an error result. No timeout: every trigger is answered by the stage or by the close.
   */
  triggerLifeCycle(dest: string, stage: ManualStage | string): Promise<CmdResult> {
    return this.#sendCmd(
      undefined,
      TRIGGER_LIFE_CYCLE,
      { stage },
      { dest, timeoutMs: Number.POSITIVE_INFINITY },
    );
  }

  // ---- internals ---------------------------------------------------------------------------------

  #hostContext(): HostContext {
    return {
      clock: this.#options.clock,
      lifecycle: this.#lifecycle,
      record: (event) => this.#record(event),
      createExtension: (spec) => this.#createExtension(spec),
      sendCmd: (from, name, properties, options) => this.#sendCmd(from, name, properties, options),
      streamCmd: (from, name, properties, options) => this.#streamCmd(from, name, properties, options),
      sendData: (from, kind, name, payload, dest) => this.#sendData(from, kind, name, payload, dest),
      stageFailed: (failure) => {
        this.#failures.push(failure);
        // close() never rejects; start() and the caller observe the outcome through it.
        if (this.#closesGraph(failure)) void this.close(`${failure.extension} failed ${failure.stage}`);
      },
      startPredecessor: (host) => this.#neighbour(host, 'start', -1),
      stopSuccessor: (host) => this.#neighbour(host, 'stop', +1),
      allStopped: () => {
        this.#allStopped ??= Promise.all(this.#order.map((h) => h.stopSettled.wait)).then(() => undefined);
        return this.#allStopped;
      },
    };
  }

  /** A failed configure/init or automatic start closes the graph; a failed manual start does not. */
  #closesGraph(failure: StageFailure): boolean {
    if (failure.stage === 'stop' || failure.stage === 'deinit') return false;
    return !(failure.stage === 'start' && this.#hosts.get(failure.extension)?.isAuto('start') === false);
  }

  #createExtension(spec: CompiledExtension): Extension {
    const addon = this.#options.registry.get(spec.addon);
    if (!addon) throw new Error(`unknown addon "${spec.addon}"`);
    return addon.create({ name: spec.name, property: spec.property });
  }

  /** The nearest automatic extension before (-1) or after (+1) `host` in declared order. */
  #neighbour(host: ExtensionHost, stage: ManualStage, step: -1 | 1): ExtensionHost | undefined {
    if (this.#lifecycle.order !== 'declared' || !host.isAuto(stage)) return undefined;
    for (let i = this.#order.indexOf(host) + step; i >= 0 && i < this.#order.length; i += step) {
      const other = this.#order[i]!;
      if (other.isAuto(stage)) return other;
    }
    return undefined;
  }

  #record(event: GraphEventInit): void {
    const stamped = { ...event, at: this.#options.clock.now() } as GraphEvent;
    if (this.#options.recordEvents !== false) this.#events.push(stamped);
    this.#options.onEvent?.(stamped);
  }

  #sendCmd(
    from: ExtensionHost | undefined,
    name: string,
    properties: Record<string, unknown>,
    options: SendCmdOptions,
  ): Promise<CmdResult> {
    // Fan-out policy "first error or last ok" (TEN's first_error_or_last_ok).
    return new Promise<CmdResult>((resolve) => {
      let lastOk: CmdResult | undefined;
      this.#dispatchCmd(
        from,
        name,
        properties,
        options,
        (result) => {
          if (!result.final) return;
          if (result.status === 'error') resolve(result);
          else lastOk = result;
        },
        () => {
          if (lastOk) resolve(lastOk);
        },
      );
    });
  }

  async *#streamCmd(
    from: ExtensionHost | undefined,
    name: string,
    properties: Record<string, unknown>,
    options: SendCmdOptions,
  ): AsyncGenerator<CmdResult> {
    const queue: CmdResult[] = [];
    let finished = false;
    let wake: (() => void) | undefined;
    const out = this.#dispatchCmd(
      from,
      name,
      properties,
      options,
      (result) => {
        queue.push(result);
        wake?.();
      },
      () => {
        finished = true;
        wake?.();
      },
    );
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (finished) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      // Leaving the loop early stops listening and releases the path timer.
      out.detach();
    }
  }

  #dispatchCmd(
    from: ExtensionHost | undefined,
    name: string,
    properties: Record<string, unknown>,
    options: SendCmdOptions,
    sink: ResultSink,
    onDone: () => void,
  ): OutCmd {
    const registry = from ? from.outs : this.#outs;
    const targets: Target[] = from?.closed
      ? [
          {
            label: name,
            error: errorResult(
              from?.name ?? 'graph',
              'CLOSED',
              `${from ? `"${from.name}"` : 'graph'} is closed`,
            ),
          },
        ]
      : this.#targets(from, 'cmd', name, options.dest);
    const out = new OutCmd({
      destinations: targets.map((t) => t.label),
      sink,
      clock: this.#options.clock,
      timeoutMs: options.timeoutMs ?? this.#lifecycle.cmdTimeoutMs,
      onFinish: (cmd) => {
        registry.delete(cmd);
        onDone();
      },
    });
    registry.add(out);
    for (const target of targets) {
      if ('error' in target) {
        out.deliver(target.label, target.error);
        continue;
      }
      const path = new InPath(out, target.label, { name, properties, source: from?.name });
      if (name === TRIGGER_LIFE_CYCLE) target.host.handleTrigger(properties.stage, path);
      else target.host.deliverCmd(path);
    }
    return out;
  }

  #sendData(
    from: ExtensionHost | undefined,
    kind: DataKind,
    name: string,
    payload: unknown,
    dest: string | readonly string[] | undefined,
  ): number {
    const source = from?.name ?? 'graph';
    if (from?.closed) {
      this.#record({ type: 'message_dropped', extension: source, kind, name, reason: 'sender closed' });
      return 0;
    }
    let delivered = 0;
    for (const target of this.#targets(from, kind, name, dest)) {
      if ('error' in target) {
        const reason = target.error.status === 'error' ? target.error.message : 'unroutable';
        this.#record({ type: 'message_dropped', extension: source, kind, name, reason });
      } else if (target.host.deliverData({ kind, name, payload, source: from?.name })) {
        delivered++;
      }
    }
    return delivered;
  }

  /** Where a message goes: explicit destinations, else the connections. Unroutable ends are error targets. */
  #targets(
    from: ExtensionHost | undefined,
    kind: MessageKind,
    name: string,
    dest: string | readonly string[] | undefined,
  ): Target[] {
    const fail = (label: string, code: 'NO_ROUTE' | 'NOT_EXPOSED', message: string): Target => ({
      label,
      error: errorResult(label, code, message),
    });
    if (dest !== undefined) {
      const names = [...new Set(typeof dest === 'string' ? [dest] : dest)];
      if (names.length === 0) return [fail(name, 'NO_ROUTE', 'empty destination list')];
      return names.map(
        (d) =>
          this.#resolveDest(from?.spec.scope ?? '', d, kind, name) ??
          fail(d, 'NO_ROUTE', `unknown destination "${d}"`),
      );
    }
    if (name === TRIGGER_LIFE_CYCLE) {
      return [fail(name, 'NO_ROUTE', `${TRIGGER_LIFE_CYCLE} can only be sent to an explicit destination`)];
    }
    if (!from) return [fail(name, 'NO_ROUTE', 'a message sent from outside the graph needs a destination')];
    const routed = this.#compiled.routes.get(routeKey(from.name, kind, name)) ?? [];
    if (routed.length === 0)
      return [fail(name, 'NO_ROUTE', `no connection routes ${kind} "${name}" from "${from.name}"`)];
    return routed.map((d) => ({ label: d, host: this.#hosts.get(d)! }));
  }

  /** Resolves `dest` relative to `scope` first, then from the top; subgraphs forward what they expose. */
  #resolveDest(scope: string, dest: string, kind: MessageKind, name: string): Target | undefined {
    for (const candidate of scope ? [scope + dest, dest] : [dest]) {
      const host = this.#hosts.get(candidate);
      if (host) return { label: candidate, host };
      const exposed = this.#compiled.exposedIn.get(candidate);
      if (exposed) {
        const inner = exposed.get(`${kind}:${name}`);
        const innerHost = inner === undefined ? undefined : this.#hosts.get(inner);
        return innerHost
          ? { label: innerHost.name, host: innerHost }
          : {
              label: candidate,
              error: errorResult(
                candidate,
                'NOT_EXPOSED',
                `subgraph "${candidate}" does not expose ${kind}_in "${name}"`,
              ),
            };
      }
    }
    return undefined;
  }
}
