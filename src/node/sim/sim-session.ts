/**
 * One simulated channel's media: the far end's script runner (waits, DTMF, speech, hangup on the
 * Clock), the buffer of digits the far end typed, and the media operations (play, collect, detect
 * speech, record) timed on the Clock. Rules are documented in docs/simulator.md.
 */
import { parseCallerScript } from './caller-script.js';
import type { Clock, Timer } from '../../clock/index.js';
import type { Logger } from '../../protocol/index.js';
import {
  type CallerStep,
  type CollectOptions,
  type CollectOutcome,
  type FarEndEvent,
  MediaError,
  type MediaSession,
  type MediaSpec,
  type PlayOutcome,
  type RecordOptions,
  type RecordOutcome,
  type SpeechOptions,
  type SpeechOutcome,
} from '../media.js';
import { checkCollectOptions, DigitCollector } from './digit-collector.js';
import { mediaDurationMs, speechEstimateMs } from './durations.js';
import { type OperationScope, type RunningOperation, runOperation } from './operation.js';
import { RECORD_RATES, resolveRecordPath, writeSilenceWav } from './recording-file.js';
import { NEVER, waitMs } from './wait.js';

/** Time between the digits of one `dtmf` step, and each digit's reported duration. */
export const DTMF_STEP_MS = 100;
/** Confidence reported for recognised speech. */
export const SPEECH_CONFIDENCE = 0.9;
/** Digits kept while nothing collects them (older ones are dropped). */
export const MAX_BUFFERED_DIGITS = 128;
/** Utterances kept while no DetectSpeech runs (older ones are dropped). */
export const MAX_QUEUED_UTTERANCES = 16;

/** Something the far end is saying. */
interface Utterance {
  readonly text: string;
  readonly startedAt: number;
  readonly durationMs: number;
  /** Set when a DetectSpeech gave up on it (speech_timeout): it is not queued afterwards. */
  discarded: boolean;
}

interface SpeechListener {
  begin(u: Utterance): void;
  /** Returns true when it consumed the utterance. */
  end(u: Utterance): boolean;
}

/** What a session needs from its backend. */
export interface SimSessionDeps {
  clock: Clock;
  logger: Logger;
  mediaRoot: string;
  recordRoot: string;
  maxRecordMs: number;
  /** Keeps a background file write (of session `uuid`) alive until the backend stops. */
  track(write: Promise<unknown>, uuid: string): void;
  /** Called once when the session closes. */
  onClose(session: SimSession): void;
}

/** What the read-only views return for an array never created. */
const NOTHING: readonly string[] = Object.freeze([]);

const closedError = (): MediaError => new MediaError('closed', 'media session closed');

/** Abort reasons nobody observes (the aborted prompt / script swallows them): built once. */
const PROMPT_SETTLED: Error = new Error('operation settled');
const PROMPT_BARGE_IN: Error = new Error('barge-in');
const SCRIPT_CLOSED: MediaError = new MediaError('closed', 'media session closed');

/**
 * Media of one simulated channel. Extra read-only state (`sentDtmf`, `bufferedDigits`, `scriptRunning`)
 * lets tests see what happened.
 */
export class SimSession implements MediaSession {
  readonly uuid: string;
  readonly direction: 'inbound' | 'outbound';
  readonly #deps: SimSessionDeps;
  readonly #events: (ev: FarEndEvent) => void;
  /** Cancels the caller script on close; created when a non-empty script starts. */
  #scriptCtl: AbortController | undefined;
  // Created on first use, like the listener sets below: an idle held call runs no operation.
  #ops: Set<RunningOperation> | undefined;
  #digitTakers: ((digit: string) => boolean)[] | undefined;
  // Created on first use (DetectSpeech / silence detection during a script): rare, and per held call.
  #speechListeners: Set<SpeechListener> | undefined;
  #scriptEndListeners: Set<() => void> | undefined;
  // The arrays below are created on first use too (an idle held call types, says and is sent nothing).
  #buffer: string[] | undefined;
  #queuedSpeech: string[] | undefined;
  #sentDtmf: string[] | undefined;
  #utterance: Utterance | undefined;
  #scriptRunning = true;
  #hungUp = false;
  #closed = false;
  #scriptFinished: Promise<void>;

  constructor(
    channel: { uuid: string; direction: 'inbound' | 'outbound'; script: CallerStep[] },
    events: (ev: FarEndEvent) => void,
    deps: SimSessionDeps,
  ) {
    this.uuid = channel.uuid;
    this.direction = channel.direction;
    this.#events = events;
    this.#deps = deps;
    // Started on a microtask, not inside the constructor: a first `dtmf` or `hangup` step must not reach
    // the node's event callback before `open()` has returned the session to it.
    const script = channel.script;
    this.#scriptFinished = Promise.resolve().then(() => this.#runScript(script));
  }

  /** Settles when the script runner has finished (never rejects). */
  get scriptFinished(): Promise<void> {
    return this.#scriptFinished;
  }

  startScript(script: CallerStep[]): void {
    if (this.#closed || this.#hungUp) return;
    const steps = parseCallerScript(script);
    if (steps.length === 0) return;
    this.#scriptRunning = true;
    this.#scriptFinished = this.#scriptFinished.then(() => this.#runScript(steps));
  }

  /** Every SendDTMF string sent to the far end, in order. */
  get sentDtmf(): readonly string[] {
    return this.#sentDtmf ?? NOTHING;
  }

  /** Digits the far end typed that no operation has consumed yet. */
  get bufferedDigits(): string {
    return this.#buffer?.join('') ?? '';
  }

  /** Texts the far end said that no DetectSpeech has consumed yet. */
  get queuedSpeech(): readonly string[] {
    return this.#queuedSpeech ?? NOTHING;
  }

  /** True while the far end's script still has steps to run. */
  get scriptRunning(): boolean {
    return this.#scriptRunning;
  }

  /** True once the far end hung up (its `hangup` step ran). */
  get hungUp(): boolean {
    return this.#hungUp;
  }

  get closed(): boolean {
    return this.#closed;
  }

  durationOf(media: MediaSpec): Promise<number | MediaError> {
    return Promise.resolve(mediaDurationMs(media, this.#deps.mediaRoot));
  }

  play(media: MediaSpec, signal: AbortSignal): Promise<PlayOutcome> {
    return this.#operate<PlayOutcome>(signal, (scope, resolve, reject) => {
      // Timed synchronously so the clock runs from the moment play was asked for.
      const ms = mediaDurationMs(media, this.#deps.mediaRoot);
      if (ms instanceof MediaError) reject(ms);
      else scope.after(ms, () => resolve({ playedMs: ms }));
    });
  }

  collectDigits(options: CollectOptions, signal: AbortSignal): Promise<CollectOutcome> {
    const bad = checkCollectOptions(options);
    if (bad) return Promise.reject(bad);
    return this.#operate<CollectOutcome>(signal, (scope, resolve, reject) => {
      const prompt = this.#prompt(scope, options.prompt, reject);
      const collector = new DigitCollector(options, scope, resolve);
      const take = (digit: string): boolean => {
        prompt.bargeIn();
        collector.push(digit);
        return true;
      };
      // Digits typed before collection started count, in order; leftovers stay buffered.
      this.#drainBuffer(scope, take);
      if (scope.settled) return;
      scope.defer(this.#takeDigits(take));
      if (collector.digits.length > 0) return;
      prompt.start(() => collector.armFirstDigit());
    });
  }

  detectSpeech(options: SpeechOptions, signal: AbortSignal): Promise<SpeechOutcome> {
    if (typeof options.noInputTimeoutMs !== 'number' || !(options.noInputTimeoutMs >= 0)) {
      return Promise.reject(new MediaError('invalid', 'speech.no_input_timeout: expected ms >= 0'));
    }
    if (typeof options.speechTimeoutMs !== 'number' || !(options.speechTimeoutMs >= 0)) {
      return Promise.reject(new MediaError('invalid', 'speech.speech_timeout: expected ms >= 0'));
    }
    const dtmf = options.dtmf;
    const bad = dtmf && checkCollectOptions(dtmf);
    if (bad) return Promise.reject(bad);
    return this.#operate<SpeechOutcome>(signal, (scope, resolve, reject) => {
      // A sentence said while nothing listened is heard now.
      const queued = this.#queuedSpeech?.shift();
      if (queued !== undefined) {
        resolve({ type: 'Speech.End', text: queued, confidence: SPEECH_CONFIDENCE });
        return;
      }
      let mode: 'waiting' | 'speaking' | 'dtmf' = 'waiting';
      const prompt = this.#prompt(scope, options.prompt, reject);
      let noInput: Timer = NEVER;
      let tooLong: Timer = NEVER;
      const listener: SpeechListener = {
        begin: (u) => {
          if (mode === 'dtmf') return;
          mode = 'speaking';
          prompt.bargeIn();
          noInput.cancel();
          if (options.speechTimeoutMs > 0 && u.durationMs > options.speechTimeoutMs) {
            tooLong = scope.after(u.startedAt + options.speechTimeoutMs - this.#deps.clock.now(), () => {
              u.discarded = true;
              resolve({ type: 'ERROR', error: 'speech_timeout' });
            });
          }
        },
        end: (u) => {
          if (mode === 'dtmf') return false;
          resolve({ type: 'Speech.End', text: u.text, confidence: SPEECH_CONFIDENCE });
          return true;
        },
      };
      if (dtmf) {
        const collector = new DigitCollector(dtmf, scope, (o) =>
          resolve({ type: 'DTMF', dtmf: o.digits, terminator: o.terminator }),
        );
        const take = (digit: string): boolean => {
          mode = 'dtmf';
          prompt.bargeIn();
          noInput.cancel();
          tooLong.cancel();
          collector.push(digit);
          return true;
        };
        this.#drainBuffer(scope, take);
        if (scope.settled) return;
        scope.defer(this.#takeDigits(take));
      }
      this.#speechListeners ??= new Set();
      this.#speechListeners.add(listener);
      scope.defer(() => this.#speechListeners?.delete(listener));
      const current = this.#utterance;
      if (mode === 'waiting' && current && !current.discarded) listener.begin(current);
      if (mode !== 'waiting') return;
      prompt.start(() => {
        if (mode === 'waiting' && options.noInputTimeoutMs > 0) {
          noInput = scope.after(options.noInputTimeoutMs, () =>
            resolve({ type: 'ERROR', error: 'no_input' }),
          );
        }
      });
    });
  }

  record(options: RecordOptions, signal: AbortSignal): Promise<RecordOutcome> {
    const rate = options.rate ?? 8000;
    if (!RECORD_RATES.includes(rate)) {
      return Promise.reject(
        new MediaError('invalid', `rate: expected one of ${RECORD_RATES.join(', ')}, got ${rate}`),
      );
    }
    let file: string;
    try {
      file = resolveRecordPath(this.#deps.recordRoot, options.path);
    } catch (err) {
      return Promise.reject(err);
    }
    const { clock, maxRecordMs } = this.#deps;
    const terminators = options.terminators ?? '';
    return this.#operate<RecordOutcome>(signal, (scope, resolve, reject) => {
      const startedAt = clock.now();
      let ended = false;
      const stopListening: (() => void)[] = [];
      const end = (cause: string, terminator?: string): void => {
        if (ended) return;
        ended = true;
        for (const fn of stopListening) fn();
        const outcome = this.#writeRecording(options, file, rate, clock.now() - startedAt, cause, terminator);
        outcome.then(resolve, reject);
      };
      // An abort or close before the end still leaves a file with what was recorded; the promise has
      // already rejected with the abort reason, so the outcome only reaches `onWritten`.
      scope.defer(() => {
        if (!ended) end('stopped');
      });
      const limitMs =
        options.limitSec && options.limitSec > 0 ? options.limitSec * 1000 : Number.POSITIVE_INFINITY;
      const limit = scope.after(Math.min(limitMs, maxRecordMs), () => end('success-maxtime'));
      stopListening.push(() => limit.cancel());
      if (terminators !== '') {
        stopListening.push(
          this.#takeDigits((digit) => {
            if (!terminators.includes(digit)) return false;
            end('success-terminator', digit);
            return true;
          }),
        );
      }
      const silenceMs = options.silenceSec && options.silenceSec > 0 ? options.silenceSec * 1000 : 0;
      if (silenceMs > 0) {
        // The simulated caller makes sound while its script runs and is silent afterwards.
        const armSilence = (): void => {
          const t = scope.after(silenceMs, () => end('success-silence'));
          stopListening.push(() => t.cancel());
        };
        if (!this.#scriptRunning) armSilence();
        else {
          this.#scriptEndListeners ??= new Set();
          this.#scriptEndListeners.add(armSilence);
          stopListening.push(() => this.#scriptEndListeners?.delete(armSilence));
        }
      }
    });
  }

  sendDtmf(digits: string): void {
    if (this.#closed) return;
    this.#sentDtmf ??= [];
    this.#sentDtmf.push(String(digits));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#scriptCtl?.abort(SCRIPT_CLOSED);
    if (this.#ops) for (const op of [...this.#ops]) op.cut(closedError());
    this.#digitTakers = undefined;
    this.#speechListeners?.clear();
    this.#scriptEndListeners?.clear();
    this.#deps.onClose(this);
  }

  #operate<T>(
    signal: AbortSignal,
    body: (scope: OperationScope, resolve: (value: T) => void, reject: (err: unknown) => void) => void,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    return runOperation(
      this.#deps.clock,
      this.#deps.logger,
      signal,
      (op) => {
        this.#ops ??= new Set();
        const ops = this.#ops;
        ops.add(op);
        return () => ops.delete(op);
      },
      body,
    );
  }

  /** A prompt that digits or speech can interrupt (barge-in); a prompt that cannot play fails the operation. */
  #prompt(
    scope: OperationScope,
    media: MediaSpec | undefined,
    fail: (err: unknown) => void,
  ): { start(then: () => void): void; bargeIn(): void } {
    // The prompt's controller exists only while a prompt plays; `cut` remembers a barge-in or the
    // operation's end that came first. Abort reasons are shared: nobody sees them.
    let ctl: AbortController | undefined;
    let cut = false;
    scope.defer(() => {
      cut = true;
      ctl?.abort(PROMPT_SETTLED);
    });
    return {
      start: (then) => {
        if (!media || cut) {
          then();
          return;
        }
        const own = new AbortController();
        ctl = own;
        this.play(media, own.signal).then(then, (err: unknown) => {
          if (own.signal.aborted) {
            // Interrupted by barge-in: the operation carries on; or by its own end: nothing to do.
            if (!scope.settled) then();
            return;
          }
          fail(err);
        });
      },
      bargeIn: () => {
        cut = true;
        ctl?.abort(PROMPT_BARGE_IN);
      },
    };
  }

  /** Registers a digit consumer (newest first); returns its removal. */
  #takeDigits(take: (digit: string) => boolean): () => void {
    this.#digitTakers ??= [];
    this.#digitTakers.unshift(take);
    return () => {
      const i = this.#digitTakers?.indexOf(take) ?? -1;
      if (i >= 0) this.#digitTakers?.splice(i, 1);
    };
  }

  /** Feeds digits typed before collection started to `take`, in order, until the operation settles. */
  #drainBuffer(scope: OperationScope, take: (digit: string) => boolean): void {
    const buffer = this.#buffer;
    if (buffer === undefined) return;
    while (!scope.settled && buffer.length > 0) take(buffer.shift()!);
  }

  async #writeRecording(
    options: RecordOptions,
    file: string,
    rate: number,
    recordMs: number,
    cause: string,
    terminator: string | undefined,
  ): Promise<RecordOutcome> {
    const write = writeSilenceWav(file, recordMs, rate).then(({ size, samples }) => {
      const outcome: RecordOutcome = {
        path: options.path,
        file,
        recordMs,
        size,
        samples,
        completion_cause: cause,
      };
      if (terminator !== undefined) outcome.terminator = terminator;
      try {
        options.onWritten?.(outcome);
      } catch (err) {
        this.#deps.logger.error({ err, uuid: this.uuid }, 'sim media: onWritten failed');
      }
      return outcome;
    });
    this.#deps.track(write, this.uuid);
    return write;
  }

  #emit(ev: FarEndEvent): void {
    try {
      this.#events(ev);
    } catch (err) {
      // The node's callback failing must not stop this caller's script or reach another call.
      this.#deps.logger.error({ err, uuid: this.uuid, ev }, 'sim media: far-end event handler failed');
    }
  }

  #farDigit(digit: string): void {
    this.#emit({ kind: 'dtmf', digit, durationMs: DTMF_STEP_MS });
    if (this.#closed) return;
    if (this.#digitTakers) for (const take of [...this.#digitTakers]) if (take(digit)) return;
    this.#buffer ??= [];
    const buffer = this.#buffer;
    buffer.push(digit);
    if (buffer.length > MAX_BUFFERED_DIGITS) buffer.shift();
  }

  async #say(text: string, signal: AbortSignal): Promise<void> {
    const clock = this.#deps.clock;
    const u: Utterance = {
      text,
      startedAt: clock.now(),
      durationMs: speechEstimateMs(text),
      discarded: false,
    };
    this.#utterance = u;
    if (this.#speechListeners) for (const l of [...this.#speechListeners]) l.begin(u);
    try {
      await waitMs(clock, u.durationMs, signal);
    } finally {
      this.#utterance = undefined;
    }
    this.#emit({ kind: 'speech', text });
    if (u.discarded || this.#closed) return;
    if (this.#speechListeners) for (const l of [...this.#speechListeners]) if (l.end(u)) return;
    this.#queuedSpeech ??= [];
    const queued = this.#queuedSpeech;
    queued.push(text);
    if (queued.length > MAX_QUEUED_UTTERANCES) queued.shift();
  }

  async #runScript(steps: readonly CallerStep[]): Promise<void> {
    // Closed before the script began: it never runs (as if its signal were already aborted).
    let signal: AbortSignal | undefined;
    if (steps.length > 0 && !this.#closed) {
      this.#scriptCtl ??= new AbortController();
      signal = this.#scriptCtl.signal;
    }
    const clock = this.#deps.clock;
    try {
      for (const step of steps) {
        if (signal === undefined || signal.aborted) break;
        if ('wait' in step) {
          if (step.wait > 0) await waitMs(clock, step.wait, signal);
        } else if ('dtmf' in step) {
          for (const digit of step.dtmf) {
            this.#farDigit(digit);
            await waitMs(clock, DTMF_STEP_MS, signal);
          }
        } else if ('say' in step) {
          await this.#say(step.say, signal);
        } else {
          this.#hungUp = true;
          this.#emit({ kind: 'hangup', cause: step.hangup.cause ?? 'NORMAL_CLEARING' });
          break;
        }
      }
    } catch (err) {
      if (!signal?.aborted)
        this.#deps.logger.error({ err, uuid: this.uuid }, 'sim media: caller script failed');
    } finally {
      this.#scriptRunning = false;
      if (this.#scriptEndListeners) for (const fn of [...this.#scriptEndListeners]) fn();
      this.#scriptEndListeners?.clear();
    }
  }
}
