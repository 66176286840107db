/**
 * The `metrics` addon: counters of the calls the router reports — `calls` (taken), `answered`,
 * `failed` (ended without being answered), `active` (taken, not yet ended) — answered by the `metrics`
 * command and, with `log_every_ms`, printed as one line at that interval while it runs.
 */
import { z } from 'zod';
import type { Timer } from '../../clock/index.js';
import type {
  Addon,
  CmdReply,
  Extension,
  ExtensionEnv,
  IncomingCmd,
  IncomingData,
} from '../../graph/index.js';
import type { CallEnd } from './call-record.js';
import { hasUuid } from './call-record.js';
import type { AppDeps } from './deps.js';
import { parseProperty } from './property.js';

export interface MetricsCounters {
  calls: number;
  answered: number;
  /** Calls that ended without ever being answered. */
  failed: number;
  active: number;
}

export const MetricsProperty = z.strictObject({
  /** Print a `metrics …` line this often (clock ms) while running. Default: never. */
  log_every_ms: z.number().positive().optional(),
  ten: z.unknown().optional(),
});

export class MetricsExtension implements Extension {
  readonly #counters: MetricsCounters = { calls: 0, answered: 0, failed: 0, active: 0 };
  /** Calls seen starting and not yet ended, so a duplicate or stray event does not skew `active`. */
  readonly #live = new Set<string>();
  readonly #logEveryMs: number | undefined;
  readonly #out: (line: string) => void;
  #timer: Timer | undefined;

  constructor(logEveryMs: number | undefined, out: (line: string) => void) {
    this.#logEveryMs = logEveryMs;
    this.#out = out;
  }

  get counters(): MetricsCounters {
    return { ...this.#counters };
  }

  onStart(env: ExtensionEnv): void {
    if (this.#logEveryMs === undefined) return;
    this.#timer = env.clock.setInterval(() => this.#out(formatMetrics(this.#counters)), this.#logEveryMs);
  }

  onStop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  onData(msg: IncomingData): void {
    if (msg.kind !== 'event' || !hasUuid(msg.payload)) return;
    const uuid = msg.payload.uuid;
    const c = this.#counters;
    switch (msg.name) {
      case 'call_start':
        if (this.#live.has(uuid)) return;
        this.#live.add(uuid);
        c.calls++;
        c.active++;
        return;
      case 'call_answer':
        if (this.#live.has(uuid)) c.answered++;
        return;
      case 'call_end':
        if (!this.#live.delete(uuid)) return;
        c.active--;
        if ((msg.payload as CallEnd).answered_at === undefined) c.failed++;
        return;
      default:
        return;
    }
  }

  onCmd(cmd: IncomingCmd): CmdReply | undefined {
    if (cmd.name !== 'metrics') return { status: 'error', message: `metrics does not handle "${cmd.name}"` };
    return { detail: this.counters };
  }
}

/** `metrics calls=3 answered=2 failed=1 active=0` */
export function formatMetrics(c: MetricsCounters): string {
  return `metrics calls=${c.calls} answered=${c.answered} failed=${c.failed} active=${c.active}`;
}

export function metricsAddon(deps: Pick<AppDeps, 'out'>): Addon {
  return {
    create: ({ name, property }) => {
      const p = parseProperty(MetricsProperty, name, property);
      return new MetricsExtension(p.log_every_ms, deps.out);
    },
  };
}
