#!/usr/bin/env node
/**
 * Entry point of the `xcc` command (bin/xcc.js imports this file from dist/). Thin on purpose: wire the
 * process (stdout/stderr, signals, exit code) to the command tree in program.ts.
 *
 * Exit codes: 0 done, 1 the command's goal failed, 2 bad flags/files or NATS unreachable (docs/cli.md).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CommanderError } from 'commander';
import { CliError, ExitCode, oneLine } from './errors.js';
import { type CliIo, processIo } from './io.js';
import { buildProgram } from './program.js';

/** Parses `argv` (as `process.argv`: node, script, args…), runs the command, returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const { program, exitCode } = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return exitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with 0; a bare `xcc` prints help on stderr with 1; everything else is a flag error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.OK;
      if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCode.OK : ExitCode.Usage;
      return ExitCode.Usage;
    }
    if (err instanceof CliError) {
      io.err(`xcc: ${oneLine(err)}`);
      return err.exitCode;
    }
    io.err(`xcc: ${oneLine(err)}`);
    return ExitCode.Failed;
  }
}

/** Runs `xcc` on this process and exits with its code. */
export async function runCli(): Promise<never> {
  const { io, dispose } = processIo();
  // RealClock timers are unref'd and the in-memory bus holds no handle, so `xcc demo` would otherwise
  // let the event loop drain (exit 13, unsettled await) while its calls are still running.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const code = await main(process.argv, io);
  clearInterval(keepAlive);
  dispose();
  // Exit explicitly: a library may hold a handle (socket, timer) that would otherwise keep us alive.
  process.exit(code);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) await runCli();
