/**
 * Validation of the simulator's inputs: caller scripts (`CallerStep[]`), destination behaviours and
 * directories. Pure functions over `unknown`; each returns a normalised copy or throws `SimConfigError`
 * naming the bad field. (A local check: src/protocol has no `CallerStepSchema` yet.)
 */
import type { CallerStep, DestinationBehaviour } from '../media.js';
import { SimConfigError } from './errors.js';

/** Longest script accepted, in steps. */
export const MAX_SCRIPT_STEPS = 1000;
/** Longest single `wait`, in ms (one day). */
export const MAX_WAIT_MS = 86_400_000;
/** Longest `dtmf` string in one step. */
export const MAX_DTMF_DIGITS = 64;
/** Longest `say` text in one step, in characters. */
export const MAX_SAY_CHARS = 4096;

const DTMF_RE = /^[0-9*#A-Da-d]+$/;
/** FreeSWITCH hangup causes are upper-case words joined by underscores. */
const CAUSE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const describe = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

function duration(v: unknown, path: string, max = MAX_WAIT_MS): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new SimConfigError(path, `expected a number of ms, got ${describe(v)}`);
  if (v < 0 || v > max) throw new SimConfigError(path, `expected 0..${max} ms, got ${v}`);
  return v;
}

function cause(v: unknown, path: string): string {
  if (typeof v !== 'string' || !CAUSE_RE.test(v)) {
    throw new SimConfigError(path, `expected a hangup cause such as NORMAL_CLEARING, got ${describe(v)}`);
  }
  return v;
}

/** Validates one caller step; `hangup` may be `{}`, `null` (YAML `- hangup:`) or a cause string. */
export function parseCallerStep(value: unknown, path = 'step'): CallerStep {
  if (!isRecord(value)) throw new SimConfigError(path, `expected an object step, got ${describe(value)}`);
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    throw new SimConfigError(path, `a step has exactly one of wait|dtmf|say|hangup, got ${describe(value)}`);
  }
  const key = keys[0]!;
  const v = value[key];
  switch (key) {
    case 'wait':
      return { wait: duration(v, `${path}.wait`) };
    case 'dtmf':
      if (typeof v !== 'string' || !DTMF_RE.test(v) || v.length > MAX_DTMF_DIGITS) {
        throw new SimConfigError(
          `${path}.dtmf`,
          `expected 1..${MAX_DTMF_DIGITS} DTMF digits (0-9 * # A-D), got ${describe(v)}`,
        );
      }
      return { dtmf: v.toUpperCase() };
    case 'say':
      if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_SAY_CHARS) {
        throw new SimConfigError(
          `${path}.say`,
          `expected 1..${MAX_SAY_CHARS} characters of text, got ${describe(v)}`,
        );
      }
      return { say: v };
    case 'hangup': {
      if (v === null || v === undefined) return { hangup: {} };
      if (typeof v === 'string') return { hangup: { cause: cause(v, `${path}.hangup`) } };
      if (!isRecord(v)) throw new SimConfigError(`${path}.hangup`, `expected {cause?}, got ${describe(v)}`);
      const extra = Object.keys(v).filter((k) => k !== 'cause');
      if (extra.length > 0) throw new SimConfigError(`${path}.hangup.${extra[0]}`, 'unknown field');
      return v.cause === undefined
        ? { hangup: {} }
        : { hangup: { cause: cause(v.cause, `${path}.hangup.cause`) } };
    }
    default:
      throw new SimConfigError(`${path}.${key}`, 'unknown step; expected one of wait|dtmf|say|hangup');
  }
}

/**
 * Validates a caller script and returns a normalised copy.
 *
 * @example
 * parseCallerScript([{ wait: 500 }, { dtmf: '1' }, { hangup: null }]);
 * // → [{ wait: 500 }, { dtmf: '1' }, { hangup: {} }]
 */
export function parseCallerScript(value: unknown, path = 'script'): CallerStep[] {
  if (!Array.isArray(value))
    throw new SimConfigError(path, `expected an array of steps, got ${describe(value)}`);
  if (value.length > MAX_SCRIPT_STEPS) throw new SimConfigError(path, `more than ${MAX_SCRIPT_STEPS} steps`);
  return value.map((step, i) => parseCallerStep(step, `${path}[${i}]`));
}

const BEHAVIOUR_KEYS = new Set([
  'answer_after_ms',
  'busy',
  'no_answer',
  'reject',
  'early_media',
  'ring_ms',
  'script',
]);

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new SimConfigError(path, `expected true or false, got ${describe(v)}`);
  return v;
}

/** Validates a destination behaviour (unknown fields are rejected, so typos do not pass silently). */
export function parseDestinationBehaviour(value: unknown, path = 'behaviour'): DestinationBehaviour {
  if (!isRecord(value)) throw new SimConfigError(path, `expected an object, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!BEHAVIOUR_KEYS.has(key)) throw new SimConfigError(`${path}.${key}`, 'unknown field');
  }
  const out: DestinationBehaviour = {};
  if (value.answer_after_ms !== undefined)
    out.answer_after_ms = duration(value.answer_after_ms, `${path}.answer_after_ms`);
  if (value.busy !== undefined) out.busy = bool(value.busy, `${path}.busy`);
  if (value.no_answer !== undefined) out.no_answer = bool(value.no_answer, `${path}.no_answer`);
  if (value.reject !== undefined) out.reject = cause(value.reject, `${path}.reject`);
  if (value.early_media !== undefined) {
    out.early_media =
      typeof value.early_media === 'boolean'
        ? value.early_media
        : duration(value.early_media, `${path}.early_media`);
  }
  if (value.ring_ms !== undefined) out.ring_ms = duration(value.ring_ms, `${path}.ring_ms`);
  if (value.script !== undefined) out.script = parseCallerScript(value.script, `${path}.script`);
  return out;
}

/** Validates a directory: dest number (or `*`) → behaviour. */
export function parseDirectory(value: unknown, path = 'directory'): Record<string, DestinationBehaviour> {
  if (!isRecord(value))
    throw new SimConfigError(path, `expected a map of number → behaviour, got ${describe(value)}`);
  const out: Record<string, DestinationBehaviour> = {};
  for (const [number, behaviour] of Object.entries(value)) {
    out[number] = parseDestinationBehaviour(behaviour, `${path}.${number}`);
  }
  return out;
}
