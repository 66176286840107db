/**
 * Test and demo harness for the graph example: a simulated node (XNode + SimMedia) and the app of
 * `app.json` on one MemoryBroker, wired by `createApp` exactly as `xcc ctrl app.json` wires it on NATS.
 * The flow module `../ivr.ts` is imported directly (no tsx loader needed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bus } from '../../src/bus/index.js';
import { MemoryBroker } from '../../src/bus/index.js';
import type { Clock } from '../../src/clock/index.js';
import {
  type AppFile,
  createApp,
  type CreateAppOptions,
  loadAppFile,
  validateApp,
} from '../../src/cli/app/index.js';
import type { FlowFunction } from '../../src/cli/flow-module.js';
import type { Graph } from '../../src/graph/index.js';
import type { DestinationBehaviour } from '../../src/node/media.js';
import { XNode } from '../../src/node/index.js';
import { SimMedia } from '../../src/node/sim/index.js';
import ivrFlow from '../ivr.js';

/** The example app file. */
export const APP_JSON = fileURLToPath(new URL('./app.json', import.meta.url));

/** The agent answers after 3 s and hangs up after 12 s (as in `xcc demo`). */
export const EXAMPLE_DIRECTORY: Record<string, DestinationBehaviour> = {
  agent: { answer_after_ms: 3000, script: [{ wait: 12_000 }, { hangup: {} }] },
};

export interface ExampleOptions {
  clock: Clock;
  /** Receives every output line (report JSON lines, metrics lines). */
  out: (line: string) => void;
  /** Called with every per-call graph once started (its events are then recorded). */
  onPipeline?: (callUuid: string, graph: Graph) => void;
  /** Where the node writes recordings. Default: a fresh temp folder, removed by `stop()`. */
  recordRoot?: string;
  /** App file. Default `APP_JSON`. */
  appPath?: string;
  graphOptions?: CreateAppOptions;
  /** Flow functions by the router's `flow` property. Default: `../ivr.ts` → the example IVR. */
  flows?: Record<string, FlowFunction>;
}

export interface Example {
  app: AppFile;
  broker: MemoryBroker;
  node: XNode;
  /** The app graph (already started). */
  graph: Graph;
  /** The bus the app's router runs on (for leak checks). */
  appBus: Bus;
  recordRoot: string;
  /** Closes the graph (if still running), stops the node, closes the broker, removes temp files. */
  stop(): Promise<void>;
}

/** Loads and validates the app, starts the node, then the app graph. */
export async function startExample(options: ExampleOptions): Promise<Example> {
  const { clock } = options;
  const app = await loadAppFile(options.appPath ?? APP_JSON);
  validateApp(app, clock);
  const ownRoot = options.recordRoot === undefined;
  const recordRoot = options.recordRoot ?? (await mkdtemp(join(tmpdir(), 'xcc-graph-example-')));
  const broker = new MemoryBroker({ clock });
  const media = new SimMedia({ clock, recordRoot, directory: EXAMPLE_DIRECTORY });
  const node = new XNode({ bus: broker.connect('node'), clock, media, nodeUuid: 'node-1' });
  const appBus = broker.connect('app');
  const flows: Record<string, FlowFunction> = options.flows ?? { '../ivr.ts': ivrFlow };
  const graph = createApp(
    app,
    {
      bus: appBus,
      clock,
      out: options.out,
      baseDir: app.baseDir,
      loadFlow: (name) => {
        const flow = flows[name];
        return flow ? Promise.resolve(flow) : Promise.reject(new Error(`unknown flow ${name}`));
      },
      ctrlUuid: 'ctrl-app',
      ...(options.onPipeline === undefined ? {} : { onPipeline: options.onPipeline }),
    },
    options.graphOptions,
  );
  await node.start();
  await graph.start();
  return {
    app,
    broker,
    node,
    graph,
    appBus,
    recordRoot,
    stop: async () => {
      await graph.close('example stopped');
      await node.stop();
      await broker.close();
      if (ownRoot) await rm(recordRoot, { recursive: true, force: true });
    },
  };
}
