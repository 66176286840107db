/**
 * The `main` addon: the seed's "business integration" extension. From its `onStart` it sends
 * `ten:trigger_life_cycle {stage:"start"}` to each extension of `property.extensions` in order (billing,
 * then report) and waits for each to finish; from its `onStop` it stops them in reverse order (report,
 * then billing: billing last). Declare it first with `lifecycle.order: "declared"`, so every automatic
 * extension (the router, metrics) starts after and stops before them: no call goes unmetered.
 */
import { z } from 'zod';
import type { Addon, CmdResult, Extension, ExtensionEnv } from '../../graph/index.js';
import { parseProperty } from './property.js';

export const MainProperty = z.strictObject({
  /** Manual-trigger extensions to start, in order. Default `["billing", "report"]`. */
  extensions: z.array(z.string().min(1)).default(['billing', 'report']),
  /** Order to stop them in. Default: `extensions` reversed (first started, last stopped). */
  stop_order: z.array(z.string().min(1)).optional(),
  ten: z.unknown().optional(),
});

export class MainExtension implements Extension {
  readonly #start: readonly string[];
  readonly #stop: readonly string[];

  constructor(start: readonly string[], stop: readonly string[]) {
    this.#start = start;
    this.#stop = stop;
  }

  async onStart(env: ExtensionEnv): Promise<void> {
    for (const ext of this.#start) check(ext, 'start', await env.triggerLifeCycle(ext, 'start'));
  }

  async onStop(env: ExtensionEnv): Promise<void> {
    // Keep going past a failed stop: the others must still stop (their records still get flushed).
    const faults: string[] = [];
    for (const ext of this.#stop) {
      try {
        check(ext, 'stop', await env.triggerLifeCycle(ext, 'stop'));
      } catch (err) {
        faults.push((err as Error).message);
      }
    }
    if (faults.length > 0) throw new Error(faults.join('; '));
  }
}

function check(ext: string, stage: 'start' | 'stop', result: CmdResult): void {
  if (result.status === 'error') {
    throw new Error(`main: ${stage} of "${ext}" failed: ${result.code} ${result.message}`);
  }
}

export const mainAddon: Addon = {
  create: ({ name, property }) => {
    const p = parseProperty(MainProperty, name, property);
    return new MainExtension(p.extensions, p.stop_order ?? [...p.extensions].reverse());
  },
};
