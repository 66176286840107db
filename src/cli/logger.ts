/**
 * The CLI's pino logger: JSON lines on stderr (stdout is for the human-readable output of each command),
 * level from `--log-level` or `XCC_LOG_LEVEL` (default `warn`). Libraries receive it through their
 * `logger` option (the protocol's `Logger` seam has pino's shape).
 */
import { pino } from 'pino';
import type { Logger } from '../protocol/index.js';
import { usageError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** A synchronous stderr logger, so nothing is lost when the process exits right after a line. */
export function createLogger(level: string, name = 'xcc'): Logger & { level: string } {
  if (!isLogLevel(level))
    throw usageError(`unknown log level ${JSON.stringify(level)} (use ${LOG_LEVELS.join('|')})`);
  return pino({ name, level }, pino.destination({ dest: 2, sync: true }));
}
