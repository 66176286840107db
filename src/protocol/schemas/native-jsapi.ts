/**
 * Commands carried by `XNode.NativeJSAPI` (`params.data = {command, data}`): JStatus (`status`) and
 * ConferenceInfo (`conferenceInfo`) — the Go SDK sends both as NativeJSAPI (reference §6). Each command
 * has the schema of its inner `data` and of the `result.data` it answers with.
 */
import { z } from 'zod';
import { ResponseSchema } from './objects.js';

const num = z.number().optional();

/** `result.data` of the `status` command (JStatus). */
export const JStatusDataSchema = z.looseObject({
  systemStatus: z.string().optional(),
  version: z.string().optional(),
  uptime: z
    .looseObject({
      years: num,
      days: num,
      hours: num,
      minutes: num,
      seconds: num,
      milliseconds: num,
      microseconds: num,
    })
    .optional(),
  sessions: z
    .looseObject({
      count: z.looseObject({ total: num, active: num, peak: num, peak5Min: num, limit: num }).optional(),
      rate: z.looseObject({ current: num, max: num, peak: num, peak5Min: num }).optional(),
    })
    .optional(),
  idleCPU: z.looseObject({ used: num, allowed: num }).optional(),
  stackSizeKB: z.looseObject({ current: num, max: num }).optional(),
});
export type JStatusData = z.output<typeof JStatusDataSchema>;

/** One conference member in ConferenceInfo. */
export const ConferenceMemberSchema = z.looseObject({
  id: z.union([z.number(), z.string()]).optional(),
  uuid: z.string().optional(),
  caller_id_name: z.string().optional(),
  caller_id_number: z.string().optional(),
  flags: z.record(z.string(), z.unknown()).optional(),
  status: z.looseObject({ audio: z.unknown().optional(), video: z.unknown().optional() }).optional(),
});

/** `result.data` of the `conferenceInfo` command. */
export const ConferenceInfoSchema = z.looseObject({
  conference_name: z.string(),
  member_count: z.number().optional(),
  ghost_count: z.number().optional(),
  rate: z.number().optional(),
  run_time: z.number().optional(),
  conference_uuid: z.string().optional(),
  flags: z.record(z.string(), z.unknown()).optional(),
  domain: z.string().optional(),
  members: z.array(ConferenceMemberSchema).optional(),
});
export type ConferenceInfo = z.output<typeof ConferenceInfoSchema>;

/** The NativeJSAPI commands OpenXCC knows: inner request `data` and `result` schemas. */
export const nativeJsapiCommands = {
  status: {
    data: z.looseObject({}).optional(),
    result: ResponseSchema.extend({ data: JStatusDataSchema }),
  },
  conferenceInfo: {
    data: z.looseObject({
      conferenceName: z.string().min(1, { error: 'expected a non-empty string' }),
      showMembers: z.boolean().optional(),
      memberFilters: z.array(z.string()).optional(),
    }),
    result: ResponseSchema.extend({ data: ConferenceInfoSchema }),
  },
} as const;
export type NativeJsapiCommand = keyof typeof nativeJsapiCommands;
