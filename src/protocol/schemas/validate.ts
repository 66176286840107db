/**
 * Validation entry points for both ends: params of a method (node side), results (controller side) and
 * events. Never throws; failures come back as one readable message naming the bad field path, e.g.
 * `params.destination.call_params[0].dest_number: expected string, received number`.
 */
import type { z } from 'zod';
import { events, isEvent } from './events.js';
import { FALLBACK, fastPathOf } from './fast-path.js';
import { isMethod, methods } from './methods.js';

/** Outcome of a validation. `params`/`value` is the parsed output (defaults filled, enums normalised). */
export type Validation<T = Record<string, unknown>> =
  | { ok: true; params: T }
  | { ok: false; message: string };

/**
 * Validates request params of `method`. Unknown method → `{ok:false, message:'unknown method X'}`;
 * check `isMethod` first to answer -32601 instead of -32602.
 *
 * @example
 * const v = validateParams('XNode.Play', { uuid: 'u1', media: { data: 'a.wav' } });
 * if (!v.ok) answerError(-32602, v.message);
 */
export function validateParams(method: string, params: unknown): Validation {
  if (!isMethod(method)) return { ok: false, message: `unknown method ${method}` };
  return run(methods[method].params, params ?? {}, 'params');
}

/** Validates the `result` of a response to `method` (controller side). */
export function validateResult(method: string, result: unknown): Validation {
  if (!isMethod(method)) return { ok: false, message: `unknown method ${method}` };
  return run(methods[method].result, result, 'result');
}

/** Validates the params of event `name` (`Event.Channel`, ...). */
export function validateEvent(name: string, params: unknown): Validation {
  if (!isEvent(name)) return { ok: false, message: `unknown event ${name}` };
  return run(events[name], params, 'params');
}

/**
 * The trying rules the schemas cannot express (common.md item 2), as a 400 message or undefined:
 * the flag (either spelling) needs `ctrl_uuid`. On methods without trying support, and on Record with
 * an action other than RECORD, the flag is ignored and the request is answered directly.
 */
export function tryingProblem(params: Record<string, unknown>): string | undefined {
  if (!wantsTrying(params)) return undefined;
  const ctrl = params.ctrl_uuid;
  if (typeof ctrl !== 'string' || ctrl.length === 0) return 'expect_100_trying needs ctrl_uuid';
  return undefined;
}

/** True when params set `expect_100_trying` (or the seed's spelling `exepect_100_trying`) to true. */
export function wantsTrying(params: Record<string, unknown>): boolean {
  return params.expect_100_trying === true || params.exepect_100_trying === true;
}

/**
 * True when the node should answer `100 Trying` now and the final response later: the method supports
 * it, the flag is set, and (for Record) the action is the blocking RECORD.
 */
export function usesTrying(method: string, params: Record<string, unknown>): boolean {
  if (!isMethod(method) || !methods[method].trying || !wantsTrying(params)) return false;
  if (method === 'XNode.Record') return params.action === undefined || params.action === 'RECORD';
  return true;
}

function run(schema: z.ZodType, value: unknown, root: string): Validation {
  // Hot shapes take the compiled fast path; anything it is unsure about (including every invalid
  // input) goes through zod, so outputs and error messages are zod's.
  const fast = fastPathOf(schema);
  if (fast !== undefined) {
    const out = fast(value);
    if (out !== FALLBACK) return { ok: true, params: out as Record<string, unknown> };
  }
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return { ok: true, params: r.data as Record<string, unknown> };
  const issue = r.error.issues[0];
  if (issue === undefined) return { ok: false, message: `${root}: invalid` };
  return { ok: false, message: `${formatPath(root, issue.path)}: ${describe(issue)}` };
}

/** `params` + `['destination','call_params',0,'dest_number']` → `params.destination.call_params[0].dest_number`. */
export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function describe(issue: z.core.$ZodIssue): string {
  const message = issue.message.replace(/^Invalid (input|option): /, '');
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `required, ${message.replace(/, received undefined$/, '')}`
        : message;
    case 'invalid_value':
      return `${message}, received ${JSON.stringify(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown key(s) ${issue.keys.join(', ')}`;
    default:
      return message;
  }
}
