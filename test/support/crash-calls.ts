/**
 * The call load of the crash tests (test/crash-*.test.ts): some calls sit in a steady state (answered,
 * one long prompt), the others loop short Plays so a request or answer is always in flight; plus a tap
 * counting every copy of every request a node receives (a transaction id seen more than once is a
 * resend the reply cache answered). Real time: these tests are about real servers and sockets.
 */
import type { Bus } from '../../src/bus/index.js';
import type { Call, Controller } from '../../src/ctrl/index.js';
import type { XNode } from '../../src/node/index.js';
import { decode, subjects } from '../../src/protocol/index.js';
import { until } from './poll.js';

export const errName = (err: unknown): string => (err instanceof Error ? err.name : String(err));

export interface CrashLoad {
  steady: number;
  busy: number;
  /** Short Plays each busy flow runs back to back. */
  plays: number;
  shortMs: number;
}

export interface RunningLoad {
  /** Flow outcome per call uuid: 'ok' or the error class name. */
  ends: Map<string, string>;
  /** Plays finished per busy call. */
  plays: Map<string, number>;
  injected: Set<string>;
  answered: () => number;
}

/**
 * Installs the flow on `ctrl`, injects the calls on `node` and resolves once every call is answered
 * and every busy flow is playing (within 10 s).
 */
export async function startCrashLoad(ctrl: Controller, node: XNode, load: CrashLoad): Promise<RunningLoad> {
  const ends = new Map<string, string>();
  const plays = new Map<string, number>();
  let answered = 0;
  ctrl.onCall(async (call: Call) => {
    const steady = call.cidNumber?.startsWith('4') === true;
    try {
      await call.answer();
      answered++;
      if (steady) {
        await call.play('silence_stream://6000');
      } else {
        for (let i = 0; i < load.plays; i++) {
          await call.play(`silence_stream://${load.shortMs}`);
          plays.set(call.uuid, i + 1);
        }
      }
      ends.set(call.uuid, 'ok');
    } catch (err) {
      ends.set(call.uuid, errName(err));
    }
  });
  const injected = new Set<string>();
  for (let i = 0; i < load.steady + load.busy; i++) {
    const steady = i < load.steady;
    injected.add(
      node.inject({
        cid_name: steady ? 'Steady' : 'Busy',
        cid_number: `${steady ? 4 : 5}00000000${i}`,
        dest_number: '1000',
      }),
    );
  }
  await until(
    () => `${answered} answered, ${plays.size}/${load.busy} busy flows playing`,
    () => answered === load.steady + load.busy && plays.size === load.busy,
    10_000,
  );
  return { ends, plays, injected, answered: () => answered };
}

/** Counts every copy of every request `bus` receives on the node subjects; `stop()` unsubscribes. */
export function tapRequestCopies(bus: Bus): {
  copies: Map<string, { n: number; uuid: unknown }>;
  stop: () => void;
} {
  const subs = subjects();
  const copies = new Map<string, { n: number; uuid: unknown }>();
  const taps = [subs.node, `${subs.node}.>`].map((subject) =>
    bus.subscribe(subject, {
      callback: (msg) => {
        const d = decode(msg.data);
        if (d.kind === 'request') {
          const id = String(d.message.id);
          const seen = copies.get(id);
          if (seen === undefined) copies.set(id, { n: 1, uuid: d.message.params?.uuid });
          else seen.n++;
        }
      },
    }),
  );
  const stop = (): void => {
    for (const t of taps) t.unsubscribe();
  };
  return { copies, stop };
}
