/**
 * `xcc events`: tails the XCC traffic on a NATS server, one line per message (time, subject,
 * method/state, uuid, short params), until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { isValidPattern } from '../../bus/index.js';
import { subjects } from '../../protocol/index.js';
import { ExitCode, usageError } from '../errors.js';
import { type CliIo, untilAborted } from '../io.js';
import { addNatsFlags, connectNats, type NatsFlags } from '../nats.js';
import { formatLine } from '../pretty.js';

export interface EventsOptions extends NatsFlags {
  /** Subject (wildcards allowed) to tail. Default `cn.xswitch.>` (with the tenant prefix, if any). */
  subject?: string;
}

export function registerEvents(
  program: Command,
  run: (action: (io: CliIo) => Promise<number>) => Promise<void>,
): void {
  addNatsFlags(
    program
      .command('events')
      .description('tail XCC traffic on NATS: one line per message, until Ctrl-C')
      .option('--subject <subject>', 'subject to tail (wildcards allowed; default cn.xswitch.>)'),
  ).action(async (opts: EventsOptions) => {
    await run((io) => runEvents(opts, io));
  });
}

/** Runs until `io.stop` aborts (exit 0) or the NATS connection is lost for good (exit 1). */
export async function runEvents(opts: EventsOptions, io: CliIo): Promise<number> {
  const subject = opts.subject ?? subjects(opts.tenant === undefined ? {} : { tenant: opts.tenant }).all;
  if (!isValidPattern(subject))
    throw usageError(`--subject: invalid NATS subject ${JSON.stringify(subject)}`);
  const bus = await connectNats(opts, 'xcc-events');
  let lost = false;
  try {
    const sub = bus.subscribe(subject, {
      callback: (msg) => io.out(formatLine(msg.subject, msg.data, Date.now())),
    });
    io.err(`xcc events: listening on ${subject} at ${opts.nats} (Ctrl-C to stop)`);
    await Promise.race([
      untilAborted(io.stop),
      bus.closed.then(() => {
        lost = !io.stop.aborted;
      }),
    ]);
    sub.unsubscribe();
  } finally {
    await bus.close();
  }
  if (lost) {
    io.err(`xcc events: connection to NATS at ${opts.nats} lost`);
    return ExitCode.Failed;
  }
  return ExitCode.OK;
}
