/**
 * `xcc ctrl <flow-module>`: a controller on NATS running a call flow (the module's default export,
 * `(call, ctx) => Promise<void>`, see flow-module.ts) for every inbound call it wins in the `xctrl` queue
 * group, until SIGINT/SIGTERM. The first signal closes the controller: flows are cancelled (their
 * cleanup runs) and the controller leaves the queue group.
 *
 * `xcc ctrl <app.json>` (the argument ends in `.json`): a controller application described as a graph
 * (cli/app): billing, report, metrics and the call router started in the app's order, an optional
 * per-call pipeline; the first signal closes the graph (router first, billing last).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { RealClock } from '../../clock/index.js';
import { Controller, type ControllerOptions } from '../../ctrl/index.js';
import { GraphStartError } from '../../graph/index.js';
import { createApp, describeFailures, loadAppFile, validateApp } from '../app/index.js';
import { ExitCode, oneLine } from '../errors.js';
import { type FlowContext, type FlowFunction, loadFlowModule } from '../flow-module.js';
import { type CliIo, untilAborted } from '../io.js';
import { createLogger } from '../logger.js';
import { addNatsFlags, connectNats, type NatsFlags } from '../nats.js';
import { keyValue, subjectToken } from '../option-parsers.js';
import type { GlobalFlags, RunAction } from '../program.js';

export interface CtrlOptions extends NatsFlags {
  ctrlUuid?: string;
  /** `--set key=value` pairs handed to the flow as `ctx.options`. */
  set?: Record<string, string>;
  /** Heartbeat on the status subject and take over calls orphaned by other controllers. */
  liveness?: boolean;
  /** Seed-004 transaction layer: transaction ids, resends, provisional answers (docs/reliability.md). */
  reliable?: boolean;
  /** Seed-004 transaction sender: requests to one node packed into batches (implies `reliable`). */
  batching?: boolean;
}

export function registerCtrl(program: Command, run: RunAction, globals: () => GlobalFlags): void {
  addNatsFlags(
    program
      .command('ctrl')
      .description(
        'run a controller on NATS with a call flow module (default export: (call, ctx) => Promise<void>), ' +
          'or a controller application graph (app.json)',
      )
      .argument(
        '<flow-module|app.json>',
        'path of the flow module (.js, or .ts when tsx is installed), or of an app file ending in .json',
      )
      .option('--ctrl-uuid <id>', 'controller uuid (default: random)', subjectToken)
      .option('--set <key=value>', 'option for the flow, repeatable (ctx.options)', keyValue)
      .option(
        '--liveness',
        'heartbeat, and take over calls of controllers that die (nodes need --ctrl-liveness)',
      )
      .option('--reliable', 'resend unanswered requests with the same transaction id (nodes need --reliable)')
      .option(
        '--batching',
        'pack requests to one node into JSON-RPC batch arrays (implies --reliable; nodes need --reliable)',
      ),
  ).action(async (flowModule: string, opts: CtrlOptions) => {
    await run((io) => runCtrl(flowModule, opts, io, globals()));
  });
}

export async function runCtrl(
  flowModule: string,
  opts: CtrlOptions,
  io: CliIo,
  globals: GlobalFlags,
): Promise<number> {
  if (flowModule.endsWith('.json')) return runCtrlApp(flowModule, opts, io, globals);
  const flow = await loadFlowModule(flowModule);
  const logger = createLogger(globals.logLevel, 'xcc-ctrl');
  const bus = await connectNats(opts, 'xcc-ctrl', logger);
  const controller = new Controller({
    bus,
    clock: new RealClock(),
    ...(opts.ctrlUuid === undefined ? {} : { ctrlUuid: opts.ctrlUuid }),
    subjectOptions: opts.tenant === undefined ? {} : { tenant: opts.tenant },
    liveness: opts.liveness === true,
    reliability: ctrlReliability(opts),
    logger,
  });
  const ctx: FlowContext = { controller, logger, options: { ...opts.set } };
  try {
    await controller.start();
    controller.onCall((call) => flow(call, ctx));
    io.out(`xcc ctrl ${controller.ctrlUuid} running ${flowModule} on ${opts.nats} (Ctrl-C to stop)`);
    const lost = await Promise.race([untilAborted(io.stop).then(() => false), bus.closed.then(() => true)]);
    if (lost) io.err(`xcc ctrl: connection to NATS at ${opts.nats} lost`);
    else io.out('xcc ctrl: stopping (cancelling flows)');
    await controller.close();
    return lost ? ExitCode.Failed : ExitCode.OK;
  } finally {
    await bus.drain().catch(() => bus.close());
  }
}

/**
 * `xcc ctrl app.json`: everything that can be wrong with the files (app, graphs, subgraphs, properties,
 * flow modules) is found before connecting, as one line with exit 2. Then the graph starts; the first
 * SIGINT/SIGTERM (or a lost connection) closes it and every failed stage is reported on stderr.
 * `--set key=value` pairs are added to every router's `options` (they win over the file's).
 */
export async function runCtrlApp(
  appPath: string,
  opts: CtrlOptions,
  io: CliIo,
  globals: GlobalFlags,
): Promise<number> {
  const clock = new RealClock();
  const app = await loadAppFile(appPath);
  const { flows } = validateApp(app, clock);
  const loaded = new Map<string, FlowFunction>();
  for (const name of flows) loaded.set(name, await loadFlowModule(resolve(app.baseDir, name)));
  const sets = { ...opts.set };
  const logger = createLogger(globals.logLevel, 'xcc-ctrl');
  const bus = await connectNats(opts, 'xcc-ctrl', logger);
  try {
    const graph = createApp(
      app,
      {
        bus,
        clock,
        logger,
        out: (line) => io.out(line),
        baseDir: app.baseDir,
        loadFlow: (name) => {
          const flow = loaded.get(name);
          if (flow === undefined) return Promise.reject(new Error(`flow module "${name}" was not preloaded`));
          // --set pairs reach the flow as ctx.options, over the router's `options` property.
          return Promise.resolve((call, ctx) => flow(call, { ...ctx, options: { ...ctx.options, ...sets } }));
        },
        ...(opts.ctrlUuid === undefined ? {} : { ctrlUuid: opts.ctrlUuid }),
        ...(opts.tenant === undefined ? {} : { subjectOptions: { tenant: opts.tenant } }),
      },
      { recordEvents: false },
    );
    try {
      await graph.start();
    } catch (err) {
      // start() closed the graph before rejecting.
      if (err instanceof GraphStartError) {
        io.err(`xcc: ${appPath}: ${oneLine(err)}`);
        return ExitCode.Failed;
      }
      throw err;
    }
    const label = app.name === undefined ? appPath : `${app.name} (${appPath})`;
    io.out(
      `xcc ctrl running app ${label} on ${opts.nats}: ${graph.extensionNames.join(', ')} (Ctrl-C to stop)`,
    );
    const lost = await Promise.race([untilAborted(io.stop).then(() => false), bus.closed.then(() => true)]);
    if (lost) io.err(`xcc ctrl: connection to NATS at ${opts.nats} lost`);
    else io.out('xcc ctrl: stopping the app (router first, billing last)');
    const report = await graph.close(lost ? 'NATS connection lost' : 'signal');
    for (const line of describeFailures(report)) io.err(`xcc ctrl: ${line}`);
    return lost ? ExitCode.Failed : ExitCode.OK;
  } finally {
    await bus.drain().catch(() => bus.close());
  }
}

/** `ControllerOptions.reliability` from the flags: `--batching` implies `--reliable` and adds the transaction sender. */
export function ctrlReliability(
  opts: Pick<CtrlOptions, 'reliable' | 'batching'>,
): NonNullable<ControllerOptions['reliability']> {
  return opts.batching === true ? { batching: {} } : opts.reliable === true;
}
