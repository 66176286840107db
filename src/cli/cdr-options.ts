/**
 * Flag parsers of `xcc cdr`: store addresses (`--db`), times (`--from`/`--to`), ESL endpoints
 * (`--esl HOST:PORT`), replay formats and dispositions. Each throws commander's
 * `InvalidArgumentError`, so a bad flag is one line on stderr and exit 2.
 */
import { InvalidArgumentError } from 'commander';
import { REPLAY_FORMATS, type ReplayFormat } from '../cdr/index.js';
import { parseStoreAddress } from '../cdr/store/index.js';

/** Environment variable holding the default `--db`. */
export const CDR_DB_ENV = 'XCC_CDR_DB';
/** `--db` when neither the flag nor XCC_CDR_DB is given. */
export const DEFAULT_CDR_DB = 'sqlite:xcc-cdr.db';

/** `--db`: a store address `openStore` accepts (checked now, opened later). */
export function storeAddress(value: string): string {
  try {
    parseStoreAddress(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

/** `--format`: one of the replay formats. */
export function replayFormat(value: string): ReplayFormat {
  const format = REPLAY_FORMATS.find((f) => f === value);
  if (format === undefined) throw new InvalidArgumentError(`expected one of ${REPLAY_FORMATS.join(', ')}`);
  return format;
}

/** An ESL endpoint. */
export interface EslEndpoint {
  host: string;
  port: number;
}

/** `--esl HOST:PORT` (`[v6addr]:PORT` for IPv6; the port defaults to FreeSWITCH's 8021). */
export function eslEndpoint(value: string): EslEndpoint {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(value.trim());
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3] === undefined ? 8021 : Number(m[3]);
  if (m === null || host === undefined || port < 1 || port > 65_535)
    throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:8021');
  return { host, port };
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a `--from`/`--to` time into µs since the epoch: an ISO 8601 date or date-time
 * (`2026-01-31`, `2026-01-31T09:00`, `…Z`), or a span back from `nowMs` (`90m`, `2h`, `7d`).
 *
 * @throws InvalidArgumentError
 */
export function parseTimeMicros(value: string, nowMs: number): number {
  const text = value.trim();
  const ago = /^(\d+)([smhd])$/.exec(text);
  if (ago !== null) return (nowMs - Number(ago[1]) * DURATION_UNITS[ago[2]!]!) * 1000;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const ms = Date.parse(text.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms * 1000;
  }
  throw new InvalidArgumentError(
    'expected an ISO date/time (2026-01-31, 2026-01-31T09:00Z) or a span ago (30m, 2h, 7d)',
  );
}

/** `--disposition a,b`: one or more words. */
export function dispositionList(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0 || list.some((d) => !/^[a-z_]+$/.test(d)))
    throw new InvalidArgumentError('expected dispositions separated by commas, e.g. answered,abandoned');
  return list;
}
