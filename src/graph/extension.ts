/**
 * What an extension is (an object with optional async lifecycle callbacks and message handlers),
 * what it sees of the graph (`ExtensionEnv`), and the `Addon` that creates it.
 */
import type { Clock } from '../clock/index.js';
import type { CmdReply, CmdResult, DataKind, IncomingCmd, IncomingData, SendCmdOptions } from './messages.js';
import type { ManualStage } from './stages.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * An extension. Every callback is optional; a stage is "done" when its callback's promise resolves
 * (a missing callback is done at once). A callback that throws fails the stage; one that never
 * settles is failed by the stage timeout.
 *
 * @example
 * const billing: Extension = {
 *   async onStart(env) { await meter.open(env.property.account as string); },
 *   async onStop() { await meter.flush(); },
 * };
 */
export interface Extension {
  onConfigure?(env: ExtensionEnv): MaybePromise<void>;
  onInit?(env: ExtensionEnv): MaybePromise<void>;
  onStart?(env: ExtensionEnv): MaybePromise<void>;
  /** Called on close even if `onStart` never ran. */
  onStop?(env: ExtensionEnv): MaybePromise<void>;
  onDeinit?(env: ExtensionEnv): MaybePromise<void>;
  /**
   * Answers a command: the resolved value is the final result (nothing = ok); a throw is an error
   * result; `cmd.progress()` streams results before it. Not called before init is done (commands
   * are buffered until then).
   */
  onCmd?(cmd: IncomingCmd, env: ExtensionEnv): MaybePromise<CmdReply | undefined>;
  /** Receives data, events and frames (buffered until init is done, dropped after close). */
  onData?(msg: IncomingData, env: ExtensionEnv): MaybePromise<void>;
}

/** The graph as one extension sees it (TEN's `ten_env`). */
export interface ExtensionEnv {
  /** Qualified name: `name`, or `subgraph/name` for an extension inside a subgraph. */
  readonly name: string;
  /** The node's `property`, merged over the addon's defaults. */
  readonly property: Readonly<Record<string, unknown>>;
  readonly clock: Clock;
  /** Aborted when the graph's close reaches this extension, so long work in a stage can end early. */
  readonly closing: AbortSignal;
  /**
   * Sends a command and resolves with its final result. With several destinations: the first error,
   * or the last ok once all answered. Never rejects: failures are error results with a code.
   */
  sendCmd(name: string, properties?: Record<string, unknown>, options?: SendCmdOptions): Promise<CmdResult>;
  /** Sends a command and yields every result (streamed and final, from every destination). */
  streamCmd(
    name: string,
    properties?: Record<string, unknown>,
    options?: SendCmdOptions,
  ): AsyncIterable<CmdResult>;
  /** Sends a data/event/frame message through the connections (or to `dest`); returns how many got it. */
  sendData(
    kind: DataKind,
    name: string,
    payload?: unknown,
    options?: { dest?: string | readonly string[] },
  ): number;
  /**
   * Sends `ten:trigger_life_cycle {stage}` to `dest` and resolves when the stage completed there (ok)
   * or at once with an error result (not manual, already done, passed...).
   */
  triggerLifeCycle(dest: string, stage: ManualStage): Promise<CmdResult>;
}

/** What an addon gets to build one extension instance. */
export interface AddonContext {
  /** Qualified node name. */
  name: string;
  property: Readonly<Record<string, unknown>>;
}

/** A named factory of extensions, looked up by a node's `addon`. */
export interface Addon {
  create(context: AddonContext): Extension;
  /** Defaults the node's `property` is merged over (shallow). */
  defaultProperty?: Readonly<Record<string, unknown>>;
}
