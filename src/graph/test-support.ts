/**
 * Test helpers for the graph module: a recording extension whose stages can be held open, and a
 * compact view of the event log. Test-only (imported by `*.test.ts`).
 */
import { Gate } from './gate.js';
import { AddonRegistry } from './addon-registry.js';
import type { GraphEvent } from './events.js';
import type { Extension, ExtensionEnv } from './extension.js';
import type { Stage } from './stages.js';

/** Per-extension behaviour of a `Probe`. */
export interface ProbeBehaviour {
  /** Stages whose callback waits until `release(stage)` (or forever). */
  hold?: Stage[];
  /** Stages whose callback throws. */
  throwIn?: Stage[];
  /** Extra work inside a stage, after the hold. */
  during?: Partial<Record<Stage, (env: ExtensionEnv) => Promise<void> | void>>;
  onCmd?: Extension['onCmd'];
  onData?: Extension['onData'];
}

/** An extension that logs `name:stage` to a shared list and can hold stages open. */
export class Probe implements Extension {
  readonly #gates = new Map<Stage, Gate>();
  readonly onCmd: Extension['onCmd'];
  readonly onData: Extension['onData'];

  constructor(
    readonly name: string,
    readonly log: string[],
    readonly behaviour: ProbeBehaviour = {},
  ) {
    for (const stage of behaviour.hold ?? []) this.#gates.set(stage, new Gate());
    this.onCmd = behaviour.onCmd;
    this.onData = behaviour.onData;
  }

  /** Lets a held stage finish. */
  release(stage: Stage): void {
    this.#gates.get(stage)?.open();
  }

  onConfigure(env: ExtensionEnv): Promise<void> {
    return this.#run('configure', env);
  }
  onInit(env: ExtensionEnv): Promise<void> {
    return this.#run('init', env);
  }
  onStart(env: ExtensionEnv): Promise<void> {
    return this.#run('start', env);
  }
  onStop(env: ExtensionEnv): Promise<void> {
    return this.#run('stop', env);
  }
  onDeinit(env: ExtensionEnv): Promise<void> {
    return this.#run('deinit', env);
  }

  async #run(stage: Stage, env: ExtensionEnv): Promise<void> {
    this.log.push(`${this.name}:${stage}`);
    await this.#gates.get(stage)?.wait;
    await this.behaviour.during?.[stage]?.(env);
    if (this.behaviour.throwIn?.includes(stage)) throw new Error(`${this.name} ${stage} exploded`);
    this.log.push(`${this.name}:${stage}_done`);
  }
}

/** A registry with one addon per probe name (`addon` = the node name); `probes` collects instances. */
export function probeRegistry(
  log: string[],
  behaviours: Record<string, ProbeBehaviour> = {},
  names: string[] = [],
): { registry: AddonRegistry; probes: Map<string, Probe> } {
  const registry = new AddonRegistry();
  const probes = new Map<string, Probe>();
  for (const addon of new Set([...names, ...Object.keys(behaviours)])) {
    registry.register(addon, {
      create: ({ name }) => {
        const probe = new Probe(name, log, behaviours[addon]);
        probes.set(name, probe);
        return probe;
      },
    });
  }
  return { registry, probes };
}

/** A graph of extensions named after their addons, in order. */
export function chain(names: string[], ten: Record<string, unknown> = {}): unknown {
  return {
    nodes: names.map((name) => ({
      type: 'extension',
      name,
      addon: name,
      ...(ten[name] ? { property: { ten: ten[name] } } : {}),
    })),
  };
}

export const MANUAL_START_STOP = { manual_trigger_life_cycle: [{ stage: 'start' }, { stage: 'stop' }] };

/** `type extension stage` strings of the stage events, for compact assertions. */
export function stageLog(events: readonly GraphEvent[]): string[] {
  return events.flatMap((e) =>
    'stage' in e && 'extension' in e ? [`${e.type} ${e.extension} ${e.stage}`] : [],
  );
}
