/**
 * `xcc demo`: everything in one process — an in-memory bus, a simulated node with a steady trickle of
 * virtual callers (the cast in demo/callers.ts), and a controller running the example IVR. Prints one
 * line per notable event and a summary every `--summary-every` seconds and at exit. `--calls N` exits once
 * N calls have ended; Ctrl-C drains: flows are cancelled (their cleanup runs), the node stops, the summary
 * is printed.
 */
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { ivr, type IvrEvent } from '../../../examples/ivr.js';
import { MemoryBroker } from '../../bus/index.js';
import { type Clock, RealClock, type Timer } from '../../clock/index.js';
import { type Call, Controller, FlowCancelledError } from '../../ctrl/index.js';
import { XNode } from '../../node/index.js';
import { SimMedia } from '../../node/sim/index.js';
import { CallGoneError, isCancellation, subjects } from '../../protocol/index.js';
import {
  DEMO_AGENT,
  DEMO_CALLERS,
  DEMO_DEST_NUMBER,
  DEMO_DIRECTORY,
  type DemoCaller,
} from '../demo/callers.js';
import { type DemoOutcome, Tally } from '../demo/tally.js';
import { ExitCode } from '../errors.js';
import { type CliIo, untilAborted } from '../io.js';
import { createLogger } from '../logger.js';
import { positiveInt, positiveNumber } from '../option-parsers.js';
import { summarize } from '../pretty.js';
import type { GlobalFlags, RunAction } from '../program.js';
import { ScaledClock } from '../scaled-clock.js';

export interface DemoOptions {
  /** New callers per minute (clock time). Default 6. */
  rate: number;
  /** Exit after this many calls have ended. Default: run until Ctrl-C. */
  calls?: number;
  /** Clock speed-up factor. Default 1 (real time). */
  speed: number;
  /** Summary interval in seconds (clock time). Default 30. */
  summaryEvery: number;
  /** Where voicemails are written. Default `<tmp>/xcc-demo`. */
  recordDir?: string;
}

export function registerDemo(program: Command, run: RunAction, globals: () => GlobalFlags): void {
  program
    .command('demo')
    .description('embedded demo: in-memory bus + simulated node with virtual callers + the example IVR')
    .option('--rate <calls-per-min>', 'new virtual callers per minute', positiveNumber, 6)
    .option('--calls <n>', 'exit after N calls have ended', positiveInt)
    .option('--speed <x>', 'run the clock X times faster than real time', positiveNumber, 1)
    .option('--summary-every <seconds>', 'print a summary this often (clock time)', positiveNumber, 30)
    .option('--record-dir <dir>', 'where voicemails are written (default: <tmp>/xcc-demo)')
    .action(async (opts: DemoOptions) => {
      await run((io) => runDemo(opts, io, globals()));
    });
}

/** Labels calls `#1`, `#2`… in arrival order, so lines are easy to follow. */
class Labels {
  readonly #byUuid = new Map<string, string>();
  #next = 1;
  of(uuid: string): string {
    let label = this.#byUuid.get(uuid);
    if (label === undefined) {
      label = `#${this.#next++}`;
      this.#byUuid.set(uuid, label);
    }
    return label;
  }
  has(uuid: string): boolean {
    return this.#byUuid.has(uuid);
  }
  forget(uuid: string): void {
    this.#byUuid.delete(uuid);
  }
}

export async function runDemo(opts: DemoOptions, io: CliIo, globals: GlobalFlags): Promise<number> {
  const logger = createLogger(globals.logLevel, 'xcc-demo');
  const clock: Clock = opts.speed === 1 ? new RealClock() : new ScaledClock(opts.speed);
  const start = clock.now();
  const recordRoot = resolve(opts.recordDir ?? join(tmpdir(), 'xcc-demo'));
  const line = (text: string): void => io.out(`${elapsed(clock.now() - start)} ${text}`);
  const tally = new Tally();
  const labels = new Labels();
  const callers = new Map<string, DemoCaller>();
  /** What a call achieved so far, so a caller hanging up after it still counts as that outcome. */
  const reached = new Map<string, DemoOutcome>();
  const done = new AbortController();

  const broker = new MemoryBroker({ clock });
  const media = new SimMedia({ clock, directory: DEMO_DIRECTORY, recordRoot, logger });
  const node = new XNode({ bus: broker.connect('node'), clock, media, name: 'demo-node', logger });
  const ctrlBus = broker.connect('ctrl');
  const controller = new Controller({ bus: ctrlBus, clock, logger });
  const monitorBus = broker.connect('monitor');

  // The wire view: call arrivals, bridges and hangups, straight from the node's events.
  const monitor = monitorBus.subscribe(subjects().all, {
    callback: (msg) => {
      const s = summarize(msg.data);
      if (s.kind !== 'event' || s.method !== 'Event.Channel' || s.uuid === undefined) return;
      const body = s.body ?? {};
      // BRIDGE/UNBRIDGE events are minimal (no direction); inbound calls are the ones with a label.
      const inbound = body.direction === 'inbound' || labels.has(s.uuid);
      if (s.state === 'START' && inbound) {
        tally.started();
        const caller = callers.get(s.uuid);
        line(
          `${labels.of(s.uuid)} call from ${String(body.cid_number)} to ${String(body.dest_number)}` +
            (caller ? ` (${caller.name})` : ''),
        );
      } else if (s.state === 'BRIDGE' && labels.has(s.uuid)) {
        reached.set(s.uuid, 'agent');
        line(`${labels.of(s.uuid)} talking to the agent`);
      } else if (s.state === 'DESTROY' && labels.has(s.uuid)) {
        const seconds = Number(body.duration);
        line(
          `${labels.of(s.uuid)} hangup ${String(body.cause ?? '')} after ${Number.isFinite(seconds) ? seconds : '?'} s`,
        );
        labels.forget(s.uuid);
        callers.delete(s.uuid);
        reached.delete(s.uuid);
        if (inbound) {
          tally.ended(Number.isFinite(seconds) ? seconds * 1000 : 0);
          if (opts.calls !== undefined && tally.endedCount >= opts.calls) done.abort();
        }
      }
    },
  });

  const onIvr = (ev: IvrEvent): void => {
    const who = labels.of(ev.uuid);
    switch (ev.kind) {
      case 'answered':
        tally.answered();
        line(`${who} answered`);
        return;
      case 'prompt':
        line(ev.text.startsWith('tone_stream://') ? `${who} beep` : `${who} prompt "${ev.text}"`);
        return;
      case 'digits':
        line(`${who} pressed ${ev.digits} (try ${ev.attempt})`);
        return;
      case 'no-input':
        line(`${who} no input (try ${ev.attempt})`);
        return;
      case 'invalid':
        line(`${who} invalid choice ${ev.digits}`);
        return;
      case 'bridging':
        line(`${who} bridging to ${ev.to}`);
        return;
      case 'bridged':
        line(`${who} agent conversation over`);
        return;
      case 'agent-unavailable':
        line(`${who} agent unavailable (${ev.cause}): voicemail instead`);
        return;
      case 'voicemail':
        reached.set(ev.uuid, 'voicemail');
        line(`${who} voicemail recorded at ${join(recordRoot, ev.path)}`);
        return;
      case 'hangup':
        line(`${who} IVR done: ${ev.outcome}`);
        return;
      case 'cleanup':
        return;
    }
  };

  const flow = async (call: Call): Promise<void> => {
    let outcome: DemoOutcome = 'error';
    try {
      outcome = await ivr(call, { agent: DEMO_AGENT, onEvent: onIvr });
    } catch (err) {
      if (err instanceof FlowCancelledError && err.reason === 'controller-closed') outcome = 'cancelled';
      else if (isCancellation(err) || err instanceof CallGoneError)
        outcome = reached.get(call.uuid) ?? 'caller-hangup';
      else throw err; // the controller logs it and hangs the call up
    } finally {
      tally.outcome(outcome);
    }
  };

  let injector: Timer | undefined;
  let summaries: Timer | undefined;
  let injected = 0;
  try {
    await node.start();
    await controller.start();
    controller.onCall(flow);
    io.out(
      `xcc demo: ${opts.rate} callers/min, clock x${opts.speed}, voicemails in ${recordRoot}` +
        (opts.calls === undefined ? ' (Ctrl-C to stop)' : `, exiting after ${opts.calls} calls`),
    );
    const inject = (): void => {
      if (opts.calls !== undefined && injected >= opts.calls) {
        injector?.cancel();
        return;
      }
      const caller = DEMO_CALLERS[injected % DEMO_CALLERS.length]!;
      injected++;
      try {
        const uuid = node.inject({
          cid_name: caller.name,
          cid_number: caller.from,
          dest_number: DEMO_DEST_NUMBER,
          script: caller.script,
        });
        callers.set(uuid, caller);
      } catch (err) {
        line(`caller ${caller.from} refused: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    inject();
    injector = clock.setInterval(inject, 60_000 / opts.rate);
    summaries = clock.setInterval(() => io.out(tally.summary()), opts.summaryEvery * 1000);
    await Promise.race([untilAborted(done.signal), untilAborted(io.stop)]);
  } finally {
    injector?.cancel();
    summaries?.cancel();
    if (io.stop.aborted) io.out('xcc demo: stopping (cancelling flows, stopping the node)');
    await controller.close();
    await node.stop();
    monitor.unsubscribe();
    await Promise.all([ctrlBus.close(), monitorBus.close()]);
    io.out(tally.summary());
  }
  return ExitCode.OK;
}

/** `+01:02.3` — clock time since the demo started. */
function elapsed(ms: number): string {
  const tenths = Math.floor(ms / 100);
  const min = Math.floor(tenths / 600);
  const sec = (tenths % 600) / 10;
  return `+${String(min).padStart(2, '0')}:${sec.toFixed(1).padStart(4, '0')}`;
}
