/**
 * `xcc ctrl <flow-module>`: a controller on NATS running a call flow (the module's default export,
 * `(call, ctx) => Promise<void>`, see flow-module.ts) for every inbound call it wins in the `xctrl` queue
 * group, until SIGINT/SIGTERM. The first signal closes the controller: flows are cancelled (their
 * cleanup runs) and the controller leaves the queue group.
 */
import type { Command } from 'commander';
import { RealClock } from '../../clock/index.js';
import { Controller } from '../../ctrl/index.js';
import { ExitCode } from '../errors.js';
import { type FlowContext, loadFlowModule } from '../flow-module.js';
import { type CliIo, untilAborted } from '../io.js';
import { createLogger } from '../logger.js';
import { addNatsFlags, connectNats, type NatsFlags } from '../nats.js';
import { keyValue, subjectToken } from '../option-parsers.js';
import type { GlobalFlags, RunAction } from '../program.js';

export interface CtrlOptions extends NatsFlags {
  ctrlUuid?: string;
  /** `--set key=value` pairs handed to the flow as `ctx.options`. */
  set?: Record<string, string>;
}

export function registerCtrl(program: Command, run: RunAction, globals: () => GlobalFlags): void {
  addNatsFlags(
    program
      .command('ctrl')
      .description(
        'run a controller on NATS with a call flow module (default export: (call, ctx) => Promise<void>)',
      )
      .argument('<flow-module>', 'path of the flow module (.js, or .ts when tsx is installed)')
      .option('--ctrl-uuid <id>', 'controller uuid (default: random)', subjectToken)
      .option('--set <key=value>', 'option for the flow, repeatable (ctx.options)', keyValue),
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
  const flow = await loadFlowModule(flowModule);
  const logger = createLogger(globals.logLevel, 'xcc-ctrl');
  const bus = await connectNats(opts, 'xcc-ctrl', logger);
  const controller = new Controller({
    bus,
    clock: new RealClock(),
    ...(opts.ctrlUuid === undefined ? {} : { ctrlUuid: opts.ctrlUuid }),
    subjectOptions: opts.tenant === undefined ? {} : { tenant: opts.tenant },
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
