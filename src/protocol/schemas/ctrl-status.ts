/**
 * Controller liveness on the status subject (docs/protocol.md "Controller liveness"): the
 * `Event.CtrlHeartbeat` / `Event.CtrlUnregister` notifications controllers publish, and the channel
 * variable that marks a call a node re-announces because its controller went away.
 */
import { z } from 'zod';
import { UintSchema, UuidSchema } from './primitives.js';

/** Wire methods of controller liveness (notifications on the status subject). */
export const CtrlStatusMethod = {
  heartbeat: 'Event.CtrlHeartbeat',
  unregister: 'Event.CtrlUnregister',
} as const;
export type CtrlStatusMethod = (typeof CtrlStatusMethod)[keyof typeof CtrlStatusMethod];

/**
 * `Event.CtrlHeartbeat` / `Event.CtrlUnregister` params. Unknown fields are kept (`looseObject`) so a
 * newer controller can add some.
 */
export const CtrlStatusSchema = z.looseObject({
  ctrl_uuid: UuidSchema,
  /** The controller's heartbeat period in ms (informational: nodes use their own owner timeout). */
  interval_ms: UintSchema.optional(),
  /** Calls the controller tracks when it sent this. */
  calls: UintSchema.optional(),
});
export type CtrlStatus = z.output<typeof CtrlStatusSchema>;

/**
 * Channel variable (in `Event.Channel` `params`) set to `"true"` on the event a node sends to the
 * controllers' queue group when the channel's controller stopped heartbeating or unregistered.
 */
export const ORPHANED_VARIABLE = 'xcc_orphaned';

/** True when `method` is one of the controller liveness events. */
export function isCtrlStatusMethod(method: string): method is CtrlStatusMethod {
  return method === CtrlStatusMethod.heartbeat || method === CtrlStatusMethod.unregister;
}

/** Parses liveness params: the status, or a message naming the bad field (`params.ctrl_uuid: …`). */
export function parseCtrlStatus(
  params: unknown,
): { ok: true; status: CtrlStatus } | { ok: false; message: string } {
  const r = CtrlStatusSchema.safeParse(params);
  if (r.success) return { ok: true, status: r.data };
  const issue = r.error.issues[0];
  const path = ['params', ...(issue?.path ?? []).map(String)].join('.');
  return { ok: false, message: `${path}: ${issue?.message ?? 'invalid'}` };
}
