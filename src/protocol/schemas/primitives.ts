/**
 * Building blocks shared by every XCC schema: non-empty uuids, channel-variable maps, enums that accept
 * a name or its proto number, and the request fields every method carries (`ctrl_uuid`, trying flags).
 */
import { z } from 'zod';

/** A channel, node or controller uuid: any non-empty string (XSwitch uses UUIDs; tests use short ids). */
export const UuidSchema = z.string().min(1, { error: 'expected a non-empty string' });

/** Channel variables: string → string. FreeSWITCH variables are strings on the wire (`"leg_timeout":"20"`). */
export const VarMapSchema = z.record(
  z.string(),
  z.string({
    error: (issue) =>
      `expected string (channel variables are strings), received ${issue.input === null ? 'null' : typeof issue.input}`,
  }),
);

/** A list of variable names (`channel_params`, GetVar `data`). */
export const StringListSchema = z.array(z.string());

/** Non-negative integer (proto uint32). */
export const UintSchema = z.int().min(0);

/**
 * A proto enum as the wire carries it: the name (`"BOTH"`) or its number (`2`). Go marshals enums as
 * numbers, jsonpb accepts both, and hand-written controllers send names; receivers always get the name.
 *
 * @example wireEnum(['SELF', 'PEER', 'BOTH']).parse(1) // 'PEER'
 */
export function wireEnum<const T extends readonly [string, ...string[]]>(names: T) {
  const numbers = names.map((_, i) => i) as [number, ...number[]];
  const expected = `${names.join('|')} or 0..${names.length - 1}`;
  return z
    .union([z.enum(names), z.literal(numbers)], {
      error: (issue) => `expected one of ${expected}, received ${JSON.stringify(issue.input)}`,
    })
    .transform((v): T[number] => (typeof v === 'number' ? (names[v] as T[number]) : v));
}

/** Fields every controller-to-node request may carry. */
export const requestFields = {
  /** The sending controller; async responses and 100-trying results go to `cn.xswitch.ctrl.<ctrl_uuid>`. */
  ctrl_uuid: UuidSchema.optional(),
};

/** Fields of a Channel API request (reference §6 "Ch? = Y"). */
export const channelFields = {
  ...requestFields,
  uuid: UuidSchema,
};

/**
 * The experimental `expect_100_trying` flag (seed 002), and the seed's own spelling `exepect_100_trying`.
 * Only on methods in `TRYING_METHODS`; needs `ctrl_uuid` (checked by the node: code 400, see `tryingProblem`).
 */
export const tryingFields = {
  expect_100_trying: z.boolean().optional(),
  exepect_100_trying: z.boolean().optional(),
};
