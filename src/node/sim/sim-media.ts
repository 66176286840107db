/**
 * `SimMedia`: the simulated media backend. Scripted virtual callers and destinations on a Clock, real
 * WAV lengths, real recording files, and an optional steady trickle of inbound callers for the demo.
 */
import os from 'node:os';
import path from 'node:path';
import type { Clock, Timer } from '../../clock/index.js';
import { type Logger, silentLogger } from '../../protocol/index.js';
import type {
  CallerStep,
  DestinationBehaviour,
  FarEndEvent,
  MediaBackend,
  MediaSink,
  OriginateRequest,
} from '../media.js';
import { parseCallerScript, parseDestinationBehaviour, parseDirectory } from './caller-script.js';
import { lookupDestination, numberOfDialString } from './directory.js';
import { SimConfigError } from './errors.js';
import { DEFAULT_ANSWER_AFTER_MS, type OriginateAttempt, planOriginate, runOriginate } from './originate.js';
import { SimSession, type SimSessionDeps } from './sim-session.js';

/** A steady stream of simulated inbound callers. */
export interface TrickleOptions {
  /** A new caller every this many ms of clock time (> 0). */
  everyMs: number;
  /** Scripts handed out round-robin, one per caller (at least one). */
  scripts: CallerStep[][];
  /** Caller number (default '1000'). */
  from?: string;
  /** Dialled number (default '9999'). */
  to?: string;
  /** Stop after this many callers (default: no limit). */
  maxCalls?: number;
}

/** A trickle after validation, with defaults filled in. */
export interface ResolvedTrickle {
  everyMs: number;
  scripts: CallerStep[][];
  from: string;
  to: string;
  maxCalls: number | undefined;
}

export interface SimMediaOptions {
  clock: Clock;
  /** Dest number (or `*` for any) → behaviour. Default: none. */
  directory?: Record<string, DestinationBehaviour>;
  /**
   * Behaviour of numbers the directory does not know. Default: `{ answer_after_ms: 1000 }` when no
   * `directory` is given, none otherwise; `null` means none. With none, unknown numbers fail with
   * NO_ROUTE_DESTINATION.
   */
  defaultBehaviour?: DestinationBehaviour | null;
  /** Where relative FILE media paths resolve (default: the working directory). */
  mediaRoot?: string;
  /** Where Record writes; every record path lands under it (default: `<tmpdir>/openxcc-recordings`). */
  recordRoot?: string;
  /** Longest recording in seconds, whatever the request says (default 7200). */
  maxRecordSec?: number;
  /** A steady trickle of inbound callers, emitted through `sink.inbound` once started. */
  trickle?: TrickleOptions;
  logger?: Logger;
}

/**
 * The simulated media backend.
 *
 * @example
 * const media = new SimMedia({ clock, directory: { '1000': { answer_after_ms: 2000 }, '1001': { busy: true } } });
 * const node = new XNode({ bus, clock, media });
 */
export class SimMedia implements MediaBackend {
  readonly name = 'sim';
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #directory: Record<string, DestinationBehaviour>;
  readonly #fallback: DestinationBehaviour | undefined;
  readonly #mediaRoot: string;
  readonly #recordRoot: string;
  readonly #maxRecordMs: number;
  readonly #trickle: ResolvedTrickle | undefined;
  readonly #sessions = new Set<SimSession>();
  readonly #attempts = new Set<AbortController>();
  readonly #writes = new Set<Promise<unknown>>();
  /** What every session needs from us: one object shared by all sessions (not one per call). */
  readonly #sessionDeps: SimSessionDeps;
  #sink: MediaSink | undefined;
  #trickleTimer: Timer | undefined;
  #trickled = 0;
  #stopped = false;

  /** Throws `SimConfigError` when the directory, default behaviour or trickle is malformed. */
  constructor(options: SimMediaOptions) {
    this.#clock = options.clock;
    this.#logger = options.logger ?? silentLogger;
    this.#directory = options.directory ? parseDirectory(options.directory) : {};
    const fallback =
      options.defaultBehaviour === undefined
        ? options.directory
          ? undefined
          : { answer_after_ms: DEFAULT_ANSWER_AFTER_MS }
        : options.defaultBehaviour;
    this.#fallback =
      fallback === null || fallback === undefined
        ? undefined
        : parseDestinationBehaviour(fallback, 'defaultBehaviour');
    this.#mediaRoot = path.resolve(options.mediaRoot ?? '.');
    this.#recordRoot = path.resolve(options.recordRoot ?? path.join(os.tmpdir(), 'openxcc-recordings'));
    const maxRecordSec = options.maxRecordSec ?? 7200;
    if (!(maxRecordSec > 0)) throw new SimConfigError('maxRecordSec', 'expected seconds > 0');
    this.#maxRecordMs = maxRecordSec * 1000;
    this.#trickle = options.trickle ? parseTrickle(options.trickle) : undefined;
    this.#sessionDeps = {
      clock: this.#clock,
      logger: this.#logger,
      mediaRoot: this.#mediaRoot,
      recordRoot: this.#recordRoot,
      maxRecordMs: this.#maxRecordMs,
      track: (write, uuid) => {
        const settled = write.then(
          () => {},
          (err: unknown) => this.#logger.warn({ err, uuid }, 'sim media: recording not written'),
        );
        this.#writes.add(settled);
        // Removal is chained on `settled`, which never rejects.
        void settled.then(() => this.#writes.delete(settled));
      },
      onClose: (s) => this.#sessions.delete(s),
    };
  }

  /** Sessions open now. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Outbound attempts in progress. */
  get attemptCount(): number {
    return this.#attempts.size;
  }

  /** Inbound callers the trickle has offered so far. */
  get trickled(): number {
    return this.#trickled;
  }

  start(sink: MediaSink): void {
    if (this.#sink) throw new Error('SimMedia already started');
    if (this.#stopped) throw new Error('SimMedia stopped');
    this.#sink = sink;
    const trickle = this.#trickle;
    if (trickle) this.#trickleTimer = this.#clock.setInterval(() => this.#offer(trickle), trickle.everyMs);
  }

  /** Stops the trickle, ends every attempt, closes every session and waits for recordings on disk. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#trickleTimer?.cancel();
    this.#trickleTimer = undefined;
    for (const ctl of [...this.#attempts]) ctl.abort(new Error('media backend stopped'));
    for (const session of [...this.#sessions]) session.close();
    // Recordings cut by the close above are still being written; they are part of what stop waits for.
    await Promise.allSettled([...this.#writes]);
  }

  /** Opens a channel's media and starts its script. Throws `SimConfigError` on a malformed script. */
  open(
    channel: { uuid: string; direction: 'inbound' | 'outbound'; script?: CallerStep[] },
    events: (ev: FarEndEvent) => void,
  ): SimSession {
    const script = channel.script === undefined ? [] : parseCallerScript(channel.script);
    const session = new SimSession(
      { uuid: channel.uuid, direction: channel.direction, script },
      events,
      this.#sessionDeps,
    );
    this.#sessions.add(session);
    return session;
  }

  /**
   * Places a simulated outbound leg (see `planOriginate` for the rules). The dial string's number part
   * (or `dest_number`) picks the behaviour. Nothing is scheduled until the result is iterated.
   */
  originate(request: OriginateRequest, signal: AbortSignal): OriginateAttempt {
    const fromDialString = request.dial_string ? numberOfDialString(request.dial_string) : '';
    const number = fromDialString || numberOfDialString(request.dest_number ?? '');
    const match = lookupDestination(number, this.#directory, this.#fallback);
    const behaviour = match.kind === 'none' ? undefined : match.behaviour;
    const plan = planOriginate(this.#stopped ? undefined : behaviour, request.timeoutMs);
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort(signal.reason);
    return runOriginate(this.#clock, plan, ctl.signal, behaviour?.script, {
      onStart: () => {
        if (signal.aborted) ctl.abort(signal.reason);
        else signal.addEventListener('abort', onAbort, { once: true });
        this.#attempts.add(ctl);
      },
      onSettled: () => {
        signal.removeEventListener('abort', onAbort);
        this.#attempts.delete(ctl);
      },
    });
  }

  #offer(trickle: ResolvedTrickle): void {
    const sink = this.#sink;
    if (!sink || this.#stopped) return;
    const script = trickle.scripts[this.#trickled % trickle.scripts.length]!;
    this.#trickled++;
    if (trickle.maxCalls !== undefined && this.#trickled >= trickle.maxCalls) {
      this.#trickleTimer?.cancel();
      this.#trickleTimer = undefined;
    }
    try {
      sink.inbound({
        cid_name: `Sim caller ${this.#trickled}`,
        cid_number: trickle.from,
        dest_number: trickle.to,
        script,
      });
    } catch (err) {
      // The node may refuse calls (e.g. 603 while shutting down); the trickle keeps going.
      this.#logger.warn({ err }, 'sim media: trickle caller refused');
    }
  }

  /** The trickle as configured (normalised), if any. */
  get trickleOptions(): ResolvedTrickle | undefined {
    return this.#trickle;
  }
}

function parseTrickle(t: TrickleOptions): ResolvedTrickle {
  if (typeof t !== 'object' || t === null) throw new SimConfigError('trickle', 'expected an object');
  if (typeof t.everyMs !== 'number' || !Number.isFinite(t.everyMs) || t.everyMs <= 0) {
    throw new SimConfigError('trickle.everyMs', 'expected ms > 0');
  }
  if (!Array.isArray(t.scripts) || t.scripts.length === 0) {
    throw new SimConfigError('trickle.scripts', 'expected at least one script');
  }
  const scripts = t.scripts.map((s, i) => parseCallerScript(s, `trickle.scripts[${i}]`));
  for (const key of ['from', 'to'] as const) {
    const v = t[key];
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      throw new SimConfigError(`trickle.${key}`, 'expected a number as a string');
  }
  if (t.maxCalls !== undefined && !(Number.isInteger(t.maxCalls) && t.maxCalls > 0)) {
    throw new SimConfigError('trickle.maxCalls', 'expected an integer > 0');
  }
  return { everyMs: t.everyMs, scripts, from: t.from ?? '1000', to: t.to ?? '9999', maxCalls: t.maxCalls };
}
