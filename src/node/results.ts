/**
 * Result objects the node answers with, and the one error used to interrupt a running channel API.
 * Every handler returns a `ResultObject` (`result.code` carries the outcome); throwing is reserved for
 * bugs (the RPC server turns a throw into 500).
 */
import { Code } from '../protocol/codes.js';
import type { ResultObject } from '../rpc/types.js';

/** Why a running API (Play, Record, Read*, DetectSpeech, Bridge, Conference…) stopped early. */
export type InterruptKind = 'stop' | 'hangup' | 'replaced' | 'unbridge' | 'shutdown';

/**
 * The abort reason of a channel API's signal. Handlers that see their signal aborted answer 410 with
 * this message.
 */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor(
    readonly kind: InterruptKind,
    message: string,
  ) {
    super(message);
  }
}

/** The reason as an `Interrupted`, whatever the signal was aborted with. */
export function interruption(signal: AbortSignal): Interrupted {
  const reason: unknown = signal.reason;
  if (reason instanceof Interrupted) return reason;
  return new Interrupted('stop', reason instanceof Error ? reason.message : 'interrupted');
}

/** 200 OK with `node_uuid`, `uuid` (when given) and method-specific fields. */
export function ok(
  nodeUuid: string,
  uuid: string | undefined,
  fields: Record<string, unknown> = {},
): ResultObject {
  return result(Code.OK, 'OK', nodeUuid, uuid, fields);
}

/** Any result code with `node_uuid` and `uuid` (when given). */
export function result(
  code: number,
  message: string,
  nodeUuid: string,
  uuid: string | undefined,
  fields: Record<string, unknown> = {},
): ResultObject {
  const base: ResultObject = { code, message, node_uuid: nodeUuid };
  if (uuid !== undefined) base.uuid = uuid;
  return { ...base, ...fields };
}

/** 410 for an API whose signal was aborted (Stop, hangup, replaced by a newer API, shutdown). */
export function gone(
  nodeUuid: string,
  uuid: string,
  signal: AbortSignal,
  fields: Record<string, unknown> = {},
): ResultObject {
  return result(Code.Gone, interruption(signal).message, nodeUuid, uuid, fields);
}

/** The message of every 501: the simulator says so instead of faking success (protocol decision 5). */
export const NOT_IMPLEMENTED = 'not implemented by the simulator';
/** The message of every 404 for an unknown channel (protocol decision 7). */
export const NO_SESSION = 'cannot locate session by uuid';
