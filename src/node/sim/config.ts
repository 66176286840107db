/**
 * The simulator's configuration file format (YAML or JSON; JSON is YAML): a directory of destination
 * behaviours, an optional default behaviour and an optional trickle of inbound callers. Pure: the CLI
 * reads the file and hands the text here.
 */
import { parse } from 'yaml';
import type { DestinationBehaviour } from '../media.js';
import { parseCallerScript, parseDestinationBehaviour, parseDirectory } from './caller-script.js';
import { SimConfigError } from './errors.js';
import type { TrickleOptions } from './sim-media.js';

/** What a sim config file holds; spread it into `SimMediaOptions`. */
export interface SimConfig {
  directory?: Record<string, DestinationBehaviour>;
  defaultBehaviour?: DestinationBehaviour | null;
  trickle?: TrickleOptions;
}

const KEYS = new Set(['directory', 'default', 'trickle']);
const TRICKLE_KEYS = new Set(['every_ms', 'scripts', 'from', 'to', 'max_calls']);

/**
 * Parses a sim config (YAML or JSON text). Keys: `directory` (number or `*` → behaviour), `default`
 * (behaviour, or `null` for none), `trickle` (`every_ms`, `scripts`, `from`, `to`, `max_calls`).
 * Throws `SimConfigError` naming the bad field.
 *
 * @example
 * const config = parseSimConfig(await readFile('sim.yaml', 'utf8'));
 * const media = new SimMedia({ clock, ...config });
 */
export function parseSimConfig(text: string): SimConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new SimConfigError('config', `not valid YAML/JSON: ${(err as Error).message.split('\n', 1)[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new SimConfigError('config', 'expected a mapping at the top');
  const root = doc as Record<string, unknown>;
  for (const key of Object.keys(root)) if (!KEYS.has(key)) throw new SimConfigError(key, 'unknown field');
  const out: SimConfig = {};
  if (root.directory !== undefined && root.directory !== null) out.directory = parseDirectory(root.directory);
  if (root.default === null) out.defaultBehaviour = null;
  else if (root.default !== undefined)
    out.defaultBehaviour = parseDestinationBehaviour(root.default, 'default');
  if (root.trickle !== undefined && root.trickle !== null) {
    const t = root.trickle;
    if (typeof t !== 'object' || Array.isArray(t)) throw new SimConfigError('trickle', 'expected a mapping');
    const tr = t as Record<string, unknown>;
    for (const key of Object.keys(tr))
      if (!TRICKLE_KEYS.has(key)) throw new SimConfigError(`trickle.${key}`, 'unknown field');
    if (typeof tr.every_ms !== 'number' || !(tr.every_ms > 0))
      throw new SimConfigError('trickle.every_ms', 'expected ms > 0');
    if (!Array.isArray(tr.scripts) || tr.scripts.length === 0) {
      throw new SimConfigError('trickle.scripts', 'expected at least one script');
    }
    const trickle: TrickleOptions = {
      everyMs: tr.every_ms,
      scripts: tr.scripts.map((s, i) => parseCallerScript(s, `trickle.scripts[${i}]`)),
    };
    for (const key of ['from', 'to'] as const) {
      const v = tr[key];
      if (v === undefined) continue;
      // YAML reads `from: 1000` as a number; a phone number is a string.
      if (typeof v !== 'string' && typeof v !== 'number')
        throw new SimConfigError(`trickle.${key}`, 'expected a number');
      trickle[key] = String(v);
    }
    if (tr.max_calls !== undefined) {
      if (typeof tr.max_calls !== 'number' || !Number.isInteger(tr.max_calls) || tr.max_calls <= 0) {
        throw new SimConfigError('trickle.max_calls', 'expected an integer > 0');
      }
      trickle.maxCalls = tr.max_calls;
    }
    out.trickle = trickle;
  }
  return out;
}
