/**
 * The `xcc` command tree (commander). Each command lives in its own file under `commands/`; this file
 * only assembles them and makes every flag error one line on stderr with exit code 2.
 */
import { Command, Option } from 'commander';
import { registerCall } from './commands/call.js';
import { registerCdr } from './commands/cdr.js';
import { registerCtrl } from './commands/ctrl.js';
import { registerDemo } from './commands/demo.js';
import { registerEvents } from './commands/events.js';
import { registerNode } from './commands/node.js';
import type { CliIo } from './io.js';
import { LOG_LEVELS } from './logger.js';

/** Runs a command's action with the CLI's io and records its exit code. */
export type RunAction = (action: (io: CliIo) => Promise<number>) => Promise<void>;

export interface Program {
  readonly program: Command;
  /** Exit code of the action that ran (0 when only help was shown). */
  exitCode(): number;
}

/** Global flags, available to every command as `command.optsWithGlobals()`. */
export interface GlobalFlags {
  logLevel: string;
}

export function buildProgram(io: CliIo, version = '0.1.0'): Program {
  let code = 0;
  const program = new Command('xcc')
    .description(
      'OpenXCC: XCC switch nodes, controllers and tools over NATS (or all in one process: xcc demo)',
    )
    .version(version)
    .addOption(
      new Option('--log-level <level>', 'library log level (JSON lines on stderr)')
        .choices(LOG_LEVELS)
        .env('XCC_LOG_LEVEL')
        .default('warn'),
    )
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      // One line, prefixed, whatever commander wanted to say.
      outputError: (s, write) =>
        write(
          `xcc: ${s
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()}\n`,
        ),
    })
    .exitOverride();

  const run: RunAction = async (action) => {
    code = await action(io);
  };
  const globals = (): GlobalFlags => program.opts<GlobalFlags>();
  registerDemo(program, run, globals);
  registerNode(program, run, globals);
  registerCtrl(program, run, globals);
  registerCall(program, run, globals);
  registerEvents(program, run);
  registerCdr(program, run, globals);
  for (const command of program.commands) {
    // Subcommands made with .command() copy settings at creation; these must hold for every one.
    command.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
  }
  return { program, exitCode: () => code };
}
