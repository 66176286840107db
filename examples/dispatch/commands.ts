/**
 * The console's wire format: command shapes (validated with zod), the reply envelope, and the decoding
 * of a bus message into a command or a clear error. See README.md for the table of commands.
 */
import { z } from 'zod';
import { DispatchError, type ReplyError } from './errors.js';

/** A user's number (the flow runtime's key; dialled as a destination number). */
const Number_ = z.string().min(1).max(64);
/** A session id as returned by the command that started it (e.g. `group#4`). */
const SessionId = z.string().min(1).max(128);
/** The request id echoed in the reply. */
const RequestId = z.union([z.string().max(128), z.number()]);

const base = { id: RequestId.optional() };

/** Every command, discriminated by `cmd`. */
export const CommandSchema = z.discriminatedUnion('cmd', [
  /** Operator ↔ user two-party call: rings both, bridges them. */
  z.strictObject({ ...base, cmd: z.literal('call'), operator: Number_, user: Number_ }),
  /** A group call: a meet of the users (and the operator, if given). */
  z.strictObject({
    ...base,
    cmd: z.literal('group'),
    users: z.array(Number_).min(1).max(64),
    operator: Number_.optional(),
    room: z.string().min(1).max(64).optional(),
  }),
  /** Adds a member to a running group call. */
  z.strictObject({ ...base, cmd: z.literal('add'), session: SessionId, user: Number_ }),
  /** Removes (and hangs up) a member of a running group call. */
  z.strictObject({ ...base, cmd: z.literal('remove'), session: SessionId, user: Number_ }),
  /** Barges the operator into the two-party call of `user`; the other party waits on hold. */
  z.strictObject({ ...base, cmd: z.literal('insert'), operator: Number_, user: Number_ }),
  /** Tears `user` out of whatever it is in and hangs it up (or stops its ringing call-out). */
  z.strictObject({ ...base, cmd: z.literal('release'), user: Number_ }),
  /** Consultation transfer: `user` waits on hold while the operator talks to `to`. */
  z.strictObject({ ...base, cmd: z.literal('transfer'), operator: Number_, user: Number_, to: Number_ }),
  /** Completes a consultation transfer: `user` and `to` are joined, the operator drops. */
  z.strictObject({ ...base, cmd: z.literal('complete'), session: SessionId }),
  /** The operator listens, muted, to `user`'s call. */
  z.strictObject({ ...base, cmd: z.literal('monitor'), operator: Number_, user: Number_ }),
  /** Ends a session (each kind's own ending: hang up, restore, reconnect — see README.md). */
  z.strictObject({ ...base, cmd: z.literal('end'), session: SessionId }),
  /** Users' states and the running sessions. */
  z.strictObject({ ...base, cmd: z.literal('status'), users: z.array(Number_).max(256).optional() }),
]);

/** A validated command. */
export type Command = z.infer<typeof CommandSchema>;
/** The command names. */
export type CommandName = Command['cmd'];
/** One command by name. */
export type CommandOf<K extends CommandName> = Extract<Command, { cmd: K }>;

/** Every command name, for error messages. */
export const COMMAND_NAMES: readonly CommandName[] = [
  'call',
  'group',
  'add',
  'remove',
  'insert',
  'release',
  'transfer',
  'complete',
  'monitor',
  'end',
  'status',
];

/** A reply: `ok` with the command's result, or the error. `id` echoes the request's. */
export type Reply =
  | { id?: string | number; ok: true; result: Record<string, unknown> }
  | { id?: string | number; ok: false; error: ReplyError };

const decoder = new TextDecoder();

/**
 * Decodes a message body into a command. Throws `DispatchError` with `parse-error` (not JSON, not an
 * object), `unknown-command` or `bad-request` (the message names each bad field path). The request id,
 * when readable, is returned with the error so the reply can echo it.
 */
export function decodeCommand(data: Uint8Array): Command {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    throw new DispatchError('parse-error', 'the command is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DispatchError('parse-error', 'the command must be a JSON object');
  }
  const cmd = (json as { cmd?: unknown }).cmd;
  if (cmd === undefined) throw new DispatchError('bad-request', 'cmd: required');
  if (typeof cmd !== 'string' || !(COMMAND_NAMES as readonly string[]).includes(cmd)) {
    throw new DispatchError(
      'unknown-command',
      `unknown command ${JSON.stringify(cmd)}; known: ${COMMAND_NAMES.join(', ')}`,
    );
  }
  const parsed = CommandSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const path = i.path.map(String).join('.');
      return `${path === '' ? cmd : path}: ${i.message}`;
    });
    throw new DispatchError('bad-request', `${cmd}: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** The request id of a message body, if it has a readable one (for replies to bad commands). */
export function requestIdOf(data: Uint8Array): string | number | undefined {
  try {
    const json: unknown = JSON.parse(decoder.decode(data));
    const id = typeof json === 'object' && json !== null ? (json as { id?: unknown }).id : undefined;
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}
