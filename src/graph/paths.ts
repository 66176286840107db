/**
 * Command paths (TEN's OUT/IN paths): an `OutCmd` tracks one sent command until every destination has
 * given its final result or the command timed out; an `InPath` is one destination's side of it. Every
 * command ends with a final result — real, `PATH_TIMEOUT`, or `CLOSED` — never silence.
 */
import type { Clock, Timer } from '../clock/index.js';
import type { GraphErrorCode } from './errors.js';
import { type CmdResult, errorResult, type IncomingCmd } from './messages.js';

export type ResultSink = (result: CmdResult) => void;

/** One sent command, fanned out to `destinations`. */
export class OutCmd {
  readonly #remaining: Set<string>;
  readonly #sink: ResultSink;
  readonly #onFinish: (cmd: OutCmd) => void;
  #timer: Timer | undefined;
  #finished = false;

  constructor(options: {
    destinations: readonly string[];
    sink: ResultSink;
    clock: Clock;
    timeoutMs: number;
    /** Called once, when the last final result arrived, the timeout fired, or `detach()`. */
    onFinish: (cmd: OutCmd) => void;
  }) {
    this.#remaining = new Set(options.destinations);
    this.#sink = options.sink;
    this.#onFinish = options.onFinish;
    if (this.#remaining.size > 0 && Number.isFinite(options.timeoutMs)) {
      this.#timer = options.clock.setTimeout(() => {
        this.#timer = undefined;
        this.fail('PATH_TIMEOUT', `no final result within ${options.timeoutMs} ms`);
      }, options.timeoutMs);
    }
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Accepts a result from destination `from`; ignored once that destination gave its final one. */
  deliver(from: string, result: CmdResult): void {
    if (this.#finished || !this.#remaining.has(from)) return;
    if (result.final) this.#remaining.delete(from);
    this.#sink(result);
    if (this.#remaining.size === 0) this.#finish();
  }

  /** Gives every destination still open an error result (timeout, sender closed). */
  fail(code: GraphErrorCode, message: string): void {
    for (const from of [...this.#remaining]) this.deliver(from, errorResult(from, code, message));
    this.#finish();
  }

  /** Stops listening (a stream consumer left early); later results go nowhere. */
  detach(): void {
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#onFinish(this);
  }
}

/** One destination's side of a command: what it answers goes back through `cmd`. */
export class InPath {
  readonly cmd: IncomingCmd;
  readonly #out: OutCmd;
  readonly #receiver: string;
  #answered = false;

  constructor(out: OutCmd, receiver: string, cmd: Omit<IncomingCmd, 'progress'>) {
    this.#out = out;
    this.#receiver = receiver;
    this.cmd = {
      ...cmd,
      progress: (detail: unknown) => {
        if (!this.#answered)
          this.#out.deliver(this.#receiver, { status: 'ok', final: false, from: receiver, detail });
      },
    };
  }

  /** True once the final result went out (or nobody is listening any more). */
  get answered(): boolean {
    return this.#answered || this.#out.finished;
  }

  /** Sends the final result; later calls do nothing. */
  final(result: CmdResult): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#out.deliver(this.#receiver, result);
  }

  ok(detail?: unknown): void {
    this.final(
      detail === undefined
        ? { status: 'ok', final: true, from: this.#receiver }
        : { status: 'ok', final: true, from: this.#receiver, detail },
    );
  }

  error(code: GraphErrorCode, message: string): void {
    this.final(errorResult(this.#receiver, code, message));
  }
}
