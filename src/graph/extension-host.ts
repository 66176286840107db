/**
 * The runtime of one extension in a graph: drives its stage machine (configure → init → start, then
 * on close stop → deinit), applies manual triggers, ordering gates and stage timeouts, buffers
 * messages until init is done, and answers every open command when it closes.
 */
import type { Clock } from '../clock/index.js';
import type { CompiledExtension } from './compile.js';
import type { GraphErrorCode, StageFailure } from './errors.js';
import type { GraphEventInit } from './events.js';
import type { Extension, ExtensionEnv } from './extension.js';
import { Gate } from './gate.js';
import type { CmdResult, DataKind, IncomingData, SendCmdOptions } from './messages.js';
import type { InPath, OutCmd } from './paths.js';
import { describeError, settleWithin, waitAtMost } from './settle-within.js';
import {
  isManualStage,
  isStage,
  type LifecycleState,
  type ManualStage,
  STAGES,
  type Stage,
  StageMachine,
} from './stages.js';

/** Lifecycle options after defaults. */
export interface ResolvedLifecycle {
  order: 'parallel' | 'declared';
  syncStopBeforeDeinit: boolean;
  stageTimeoutMs: Readonly<Record<Stage, number>>;
  gateTimeoutMs: number;
  cmdTimeoutMs: number;
}

/** What a host needs from its graph. */
export interface HostContext {
  readonly clock: Clock;
  readonly lifecycle: ResolvedLifecycle;
  record(event: GraphEventInit): void;
  createExtension(spec: CompiledExtension): Extension;
  sendCmd(
    from: ExtensionHost,
    name: string,
    properties: Record<string, unknown>,
    options: SendCmdOptions,
  ): Promise<CmdResult>;
  streamCmd(
    from: ExtensionHost,
    name: string,
    properties: Record<string, unknown>,
    options: SendCmdOptions,
  ): AsyncIterable<CmdResult>;
  sendData(
    from: ExtensionHost,
    kind: DataKind,
    name: string,
    payload: unknown,
    dest: string | readonly string[] | undefined,
  ): number;
  /** A stage failed; the graph records it and closes if it was a startup stage (TEN: a failed auto-start closes). */
  stageFailed(failure: StageFailure): void;
  /** The auto-start extension declared before this one (declared order), if any. */
  startPredecessor(host: ExtensionHost): ExtensionHost | undefined;
  /** The auto-stop extension declared after this one (stops before it, declared order), if any. */
  stopSuccessor(host: ExtensionHost): ExtensionHost | undefined;
  /** Resolves when every extension finished stop (the `syncStopBeforeDeinit` barrier). */
  allStopped(): Promise<void>;
}

type Buffered = { kind: 'cmd'; path: InPath } | { kind: 'data'; msg: IncomingData };

const HOOKS = {
  configure: 'onConfigure',
  init: 'onInit',
  start: 'onStart',
  stop: 'onStop',
  deinit: 'onDeinit',
} as const satisfies Record<Stage, keyof Extension>;

export class ExtensionHost {
  readonly name: string;
  readonly spec: CompiledExtension;
  readonly env: ExtensionEnv;
  /** Opens when startup settled: started, waiting for a manual start, skipped or failed. */
  readonly ready = new Gate();
  /** Opens when this extension will not run start any more (for declared-order start). */
  readonly startSettled = new Gate();
  /** Opens when stop finished, failed or was given up (for declared-order stop and the barrier). */
  readonly stopSettled = new Gate();
  /** Commands this extension sent that are still open (answered `CLOSED` at deinit done). */
  readonly outs = new Set<OutCmd>();

  readonly #ctx: HostContext;
  readonly #sm = new StageMachine();
  readonly #closeGate = new Gate();
  readonly #closing = new AbortController();
  readonly #startTrigger = new Gate();
  readonly #stopTrigger = new Gate();
  readonly #waiters: Record<ManualStage, InPath[]> = { start: [], stop: [] };
  readonly #ran = new Set<Stage>();
  readonly #ins = new Set<InPath>();
  #buffer: Buffered[] = [];
  #instance: Extension | undefined;
  #failure: StageFailure | undefined;
  /** Messages are handled from init done until deinit begins. */
  #delivering = false;
  /** False once messages can never be handled any more (closed before init, or deinit began). */
  #accepting = true;
  #closed = false;

  constructor(spec: CompiledExtension, ctx: HostContext) {
    this.name = spec.name;
    this.spec = spec;
    this.#ctx = ctx;
    this.env = {
      name: spec.name,
      property: spec.property,
      clock: ctx.clock,
      closing: this.#closing.signal,
      sendCmd: (name, properties = {}, options = {}) => ctx.sendCmd(this, name, properties, options),
      streamCmd: (name, properties = {}, options = {}) => ctx.streamCmd(this, name, properties, options),
      sendData: (kind, name, payload, options = {}) => ctx.sendData(this, kind, name, payload, options.dest),
      triggerLifeCycle: (dest, stage) =>
        ctx.sendCmd(this, 'ten:trigger_life_cycle', { stage }, { dest, timeoutMs: Number.POSITIVE_INFINITY }),
    };
  }

  get state(): LifecycleState {
    return this.#sm.state;
  }

  /** The first stage that failed (threw or timed out), if any. */
  get failure(): StageFailure | undefined {
    return this.#failure;
  }

  /** True after deinit finished: sends fail with `CLOSED`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether this extension takes part in automatic ordering for `stage`. */
  isAuto(stage: ManualStage): boolean {
    return !this.spec.manual.has(stage);
  }

  /** Runs the whole lifecycle; resolves after deinit. Never rejects. */
  async run(): Promise<void> {
    try {
      await this.#startup();
    } finally {
      this.ready.open();
      this.startSettled.open();
    }
    await this.#closeGate.wait;
    await this.#shutdown();
  }

  /** The close flow reached this extension: running stages finish, start stages not begun are skipped. */
  triggerClose(): void {
    if (this.#closeGate.opened) return;
    this.#closeGate.open();
    this.#closing.abort(new Error(`graph closing`));
  }

  /**
   * The graph closed before it ever started: nothing runs; queued triggers and buffered commands are
   * answered (`STAGE_PASSED` / `CLOSED`) so no sender is left waiting.
   */
  abandon(): void {
    this.triggerClose();
    this.#refuseBuffer();
    this.#closeEnv();
    this.ready.open();
    this.startSettled.open();
    this.stopSettled.open();
  }

  // ---- messages -------------------------------------------------------------------------------

  /** A command for this extension (buffered before init, `CLOSED` once it cannot be handled). */
  deliverCmd(path: InPath): void {
    if (!this.#accepting) path.error('CLOSED', `extension "${this.name}" is closed`);
    else if (!this.#delivering) this.#buffer.push({ kind: 'cmd', path });
    else this.#runCmd(path);
  }

  /** A data/event/frame message for this extension; returns false if it was dropped. */
  deliverData(msg: IncomingData): boolean {
    if (!this.#accepting) {
      this.#drop(msg, 'extension closed');
      return false;
    }
    if (!this.#delivering) this.#buffer.push({ kind: 'data', msg });
    else this.#runData(msg);
    return true;
  }

  #runCmd(path: InPath): void {
    const handler = this.#instance?.onCmd;
    if (!handler) {
      path.error('NO_HANDLER', `extension "${this.name}" does not handle commands`);
      return;
    }
    this.#ins.add(path);
    const instance = this.#instance;
    // Both outcomes answered; a handler settling after the path closed is ignored by InPath.
    void Promise.resolve()
      .then(() => handler.call(instance, path.cmd, this.env))
      .then(
        (reply) => {
          if (reply?.status === 'error') path.error('HANDLER_ERROR', reply.message);
          else path.ok(reply?.detail);
        },
        (error: unknown) => path.error('HANDLER_ERROR', describeError(error)),
      )
      .finally(() => this.#ins.delete(path));
  }

  #runData(msg: IncomingData): void {
    const handler = this.#instance?.onData;
    if (!handler) {
      this.#drop(msg, 'no onData handler');
      return;
    }
    const instance = this.#instance;
    // A failing data handler is recorded, not thrown: data has no sender to answer.
    void Promise.resolve()
      .then(() => handler.call(instance, msg, this.env))
      .catch((error: unknown) =>
        this.#ctx.record({
          type: 'handler_error',
          extension: this.name,
          name: msg.name,
          message: describeError(error),
        }),
      );
  }

  #drop(msg: IncomingData, reason: string): void {
    this.#ctx.record({
      type: 'message_dropped',
      extension: this.name,
      kind: msg.kind,
      name: msg.name,
      reason,
    });
  }

  #flushBuffer(): void {
    this.#delivering = true;
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const item of buffered) {
      if (item.kind === 'cmd') this.#runCmd(item.path);
      else this.#runData(item.msg);
    }
  }

  /** Closed before init was done: buffered commands get `CLOSED`, data is dropped, nothing more is taken. */
  #refuseBuffer(): void {
    this.#accepting = false;
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const item of buffered) {
      if (item.kind === 'cmd')
        item.path.error('CLOSED', `extension "${this.name}" closed before init was done`);
      else this.#drop(item.msg, 'closed before init was done');
    }
  }

  // ---- manual triggers ------------------------------------------------------------------------

  /** Handles `ten:trigger_life_cycle {stage}`: an immediate error, or queued until the stage completes. */
  handleTrigger(stage: unknown, path: InPath): void {
    const refusal = this.#triggerRefusal(stage);
    if (refusal) {
      this.#ctx.record({
        type: 'trigger',
        extension: this.name,
        stage: String(stage),
        outcome: refusal.code,
      });
      path.error(refusal.code, refusal.message);
      return;
    }
    const manual = stage as ManualStage;
    const running = this.#sm.running === manual;
    this.#ctx.record({
      type: 'trigger',
      extension: this.name,
      stage: manual,
      outcome: running ? 'joined' : 'queued',
    });
    this.#waiters[manual].push(path);
    (manual === 'start' ? this.#startTrigger : this.#stopTrigger).open();
  }

  /** Why a trigger is answered at once with an error, if it is. */
  #triggerRefusal(stage: unknown): { code: GraphErrorCode; message: string } | undefined {
    if (stage === undefined || stage === null || stage === '') {
      return { code: 'MISSING_STAGE', message: 'missing stage field' };
    }
    if (!isStage(stage)) {
      return {
        code: 'UNKNOWN_STAGE',
        message: `unknown stage ${JSON.stringify(stage)} (stages: ${STAGES.join(', ')})`,
      };
    }
    if (!isManualStage(stage)) {
      return {
        code: 'UNSUPPORTED_STAGE',
        message: `manual trigger of stage "${stage}" is not supported (only start and stop)`,
      };
    }
    if (!this.spec.manual.has(stage)) {
      return {
        code: 'NOT_MANUAL',
        message: `extension "${this.name}" is not configured for manual ${stage} control`,
      };
    }
    const running = this.#sm.running === stage;
    if (this.#ran.has(stage) && !running) {
      return this.#failure?.stage === stage
        ? { code: 'STAGE_FAILED', message: `${stage} of "${this.name}" failed: ${this.#failure.message}` }
        : { code: 'STAGE_ALREADY_DONE', message: `${stage} of "${this.name}" is already done` };
    }
    if (stage === 'start' && this.#closeGate.opened && !running) {
      return {
        code: 'STAGE_PASSED',
        message: `"${this.name}" is closing: start was skipped and will not run`,
      };
    }
    return undefined;
  }

  #answerWaiters(stage: ManualStage, ok: boolean): void {
    const waiters = this.#waiters[stage];
    this.#waiters[stage] = [];
    for (const path of waiters) {
      if (ok) path.ok();
      else if (!this.#ran.has(stage))
        path.error('STAGE_PASSED', `${stage} of "${this.name}" was skipped by close`);
      else path.error('STAGE_FAILED', `${stage} of "${this.name}" failed: ${this.#failure?.message ?? ''}`);
    }
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  async #startup(): Promise<void> {
    try {
      this.#instance = this.#ctx.createExtension(this.spec);
    } catch (error) {
      this.#sm.begin('configure');
      this.#ran.add('configure');
      this.#sm.done('configure');
      this.#fail(
        'configure',
        'error',
        `addon "${this.spec.addon}" failed to create the extension: ${describeError(error)}`,
      );
      this.#refuseBuffer();
      return;
    }
    if (!(await this.#stage('configure')) || this.#closeGate.opened) {
      this.#skipStarting('init');
      return;
    }
    if (!(await this.#stage('init')) || this.#closeGate.opened) {
      this.#skipStarting('start');
      return;
    }
    this.#flushBuffer();
    if (!this.isAuto('start')) {
      this.ready.open();
      await Promise.race([this.#startTrigger.wait, this.#closeGate.wait]);
    } else {
      const predecessor = this.#ctx.startPredecessor(this);
      if (predecessor) await Promise.race([predecessor.startSettled.wait, this.#closeGate.wait]);
    }
    if (this.#closeGate.opened) {
      this.#skipStarting('start');
      return;
    }
    const ok = await this.#stage('start');
    this.#answerWaiters('start', ok);
  }

  #skipStarting(from: 'init' | 'start'): void {
    if (!this.#delivering) this.#refuseBuffer();
    const skipped: Stage[] = from === 'init' ? ['init', 'start'] : ['start'];
    for (const stage of skipped) this.#ctx.record({ type: 'stage_skipped', extension: this.name, stage });
  }

  async #shutdown(): Promise<void> {
    this.#answerWaiters('start', false);
    this.#sm.prepareToStop();
    try {
      if (!this.isAuto('stop')) {
        if (!this.#stopTrigger.opened) {
          this.#ctx.record({ type: 'gate_wait', extension: this.name, stage: 'stop' });
          const timeoutMs = this.#ctx.lifecycle.gateTimeoutMs;
          if (!(await waitAtMost(this.#ctx.clock, this.#stopTrigger.wait, timeoutMs))) {
            this.#ctx.record({ type: 'gate_timeout', extension: this.name, stage: 'stop', timeoutMs });
          }
        }
      } else {
        const successor = this.#ctx.stopSuccessor(this);
        if (successor) await successor.stopSettled.wait;
      }
      const ok = await this.#stage('stop');
      this.#answerWaiters('stop', ok);
    } finally {
      this.stopSettled.open();
    }
    if (this.#ctx.lifecycle.syncStopBeforeDeinit) await this.#ctx.allStopped();
    this.#accepting = false;
    this.#delivering = false;
    await this.#stage('deinit');
    this.#closeEnv();
  }

  /** Deinit done: every command still open, in either direction, gets a final `CLOSED`. */
  #closeEnv(): void {
    this.#closed = true;
    for (const out of [...this.outs]) out.fail('CLOSED', `sender "${this.name}" closed`);
    for (const path of [...this.#ins])
      path.error('CLOSED', `extension "${this.name}" closed without answering`);
    this.#ins.clear();
    this.#answerWaiters('start', false);
    this.#answerWaiters('stop', false);
    this.#instance = undefined;
  }

  /** Runs one stage under its timeout; true if it completed. */
  async #stage(stage: Stage): Promise<boolean> {
    if (!this.#sm.begin(stage)) return false;
    this.#ran.add(stage);
    this.#ctx.record({ type: 'stage_begin', extension: this.name, stage });
    const instance = this.#instance;
    const hook = instance?.[HOOKS[stage]];
    const timeoutMs = this.#ctx.lifecycle.stageTimeoutMs[stage];
    const outcome = await settleWithin(
      this.#ctx.clock,
      () => hook?.call(instance, this.env),
      timeoutMs,
      (late) => this.#ctx.record({ type: 'late_settle', extension: this.name, stage, outcome: late.kind }),
    );
    this.#sm.done(stage);
    switch (outcome.kind) {
      case 'ok':
        this.#ctx.record({ type: 'stage_done', extension: this.name, stage });
        return true;
      case 'error':
        this.#fail(stage, 'error', describeError(outcome.error));
        return false;
      case 'timeout':
        this.#ctx.record({ type: 'stage_timeout', extension: this.name, stage, timeoutMs });
        this.#fail(stage, 'timeout', `did not finish ${stage} within ${timeoutMs} ms`);
        return false;
    }
  }

  #fail(stage: Stage, reason: StageFailure['reason'], message: string): void {
    const failure: StageFailure = { extension: this.name, stage, reason, message };
    this.#failure ??= failure;
    if (reason === 'error') this.#ctx.record({ type: 'stage_failed', extension: this.name, stage, message });
    this.#ctx.stageFailed(failure);
  }
}
