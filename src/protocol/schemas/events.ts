/**
 * Event schemas (node → controller JSON-RPC notifications, reference §7) and the `events` registry keyed
 * by wire method name. Choices where the reference has no shape (Result, DialResult, Record, Conference)
 * are recorded in docs/protocol.md.
 */
import { z } from 'zod';
import { CHANNEL_STATES } from '../states.js';
import { DetectedDataSchema, ResponseSchema } from './objects.js';
import { StringListSchema, UintSchema, UuidSchema, VarMapSchema } from './primitives.js';

const channelEventShape = {
  node_uuid: UuidSchema,
  node_ip: z.string().optional(),
  uuid: UuidSchema,
  peer_uuid: z.string().optional(),
  peers: StringListSchema.optional(),
  main_uuid: z.string().optional(),
  slides_uuid: z.string().optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
  state: z.enum(CHANNEL_STATES),
  cid_name: z.string().optional(),
  cid_number: z.string().optional(),
  dest_number: z.string().optional(),
  domain: z.string().optional(),
  context: z.string().optional(),
  caller_source: z.string().optional(),
  ai_robot_id: z.string().optional(),
  dtmf: z.string().optional(),
  /** Epoch seconds. */
  create_epoch: UintSchema.optional(),
  ring_epoch: UintSchema.optional(),
  answer_epoch: UintSchema.optional(),
  hangup_epoch: UintSchema.optional(),
  /** FreeSWITCH sends these as strings (`"16"`); they stay strings. */
  billsec: z.string().optional(),
  billmsec: z.string().optional(),
  duration: z.string().optional(),
  /** Hangup cause, on DESTROY. */
  cause: z.string().optional(),
  answered: z.boolean().optional(),
  video: z.boolean().optional(),
  held: z.boolean().optional(),
  /** Observed on the wire instead of `held`; normalised to `held`. */
  hold: z.boolean().optional(),
  bridged: z.boolean().optional(),
  /** Subscribed channel variables (channel_params). */
  params: VarMapSchema.optional(),
};

/**
 * `Event.Channel` params (reference §7.1). BRIDGE/UNBRIDGE events are minimal, so only `node_uuid`,
 * `uuid` and `state` are required. The wire key `hold` is accepted and moved to `held`.
 */
export const ChannelEventSchema = z.looseObject(channelEventShape).transform((ev) => {
  const { hold, ...rest } = ev;
  const held = rest.held ?? hold;
  return held === undefined ? rest : { ...rest, held };
});
export type ChannelEvent = z.output<typeof ChannelEventSchema>;
export type ChannelEventInput = z.input<typeof ChannelEventSchema>;

/** `Event.CDR` params: `{uuid, node_uuid, node_ip?, cdr}` where cdr holds FreeSWITCH variables as strings. */
export const CdrEventSchema = z.looseObject({
  uuid: UuidSchema,
  node_uuid: UuidSchema,
  node_ip: z.string().optional(),
  cdr: VarMapSchema,
});
export type CdrEvent = z.output<typeof CdrEventSchema>;

/** A SIP profile of a node. */
export const SipProfileSchema = z.looseObject({ name: z.string(), port: z.number().optional() });

/** Node description: params of Event.NodeRegister / NodeUpdate / NodeUnregister (reference §7.6). */
export const NodeInfoSchema = z.looseObject({
  uuid: UuidSchema,
  name: z.string().optional(),
  ip: z.string().optional(),
  ext_ip: z.string().optional(),
  version: z.string().optional(),
  rack: z.number().optional(),
  rank: z.number().optional(),
  address: z.string().optional(),
  uptime: z.number().optional(),
  sessions: z.number().optional(),
  sessions_max: z.number().optional(),
  sps_max: z.number().optional(),
  sps_last: z.number().optional(),
  sps_last_5min: z.number().optional(),
  sessions_since_startup: z.number().optional(),
  session_peak_5min: z.number().optional(),
  session_peak_max: z.number().optional(),
  sip_profiles: z.array(SipProfileSchema).optional(),
  /** True once the node refuses new calls. */
  shutdown: z.boolean().optional(),
});
export type NodeInfo = z.output<typeof NodeInfoSchema>;

/** `Event.DTMF`: a key pressed on a controlled channel. */
export const DtmfEventSchema = z.looseObject({
  node_uuid: UuidSchema,
  uuid: UuidSchema,
  dtmf_digit: z.string().regex(/^[0-9*#A-Da-d]$/, { error: 'expected one DTMF digit' }),
  /** Milliseconds. */
  dtmf_duration: z.number().optional(),
});
export type DtmfEvent = z.output<typeof DtmfEventSchema>;

/** `Event.DetectedData` (alias `Event.DetectedSpeech`): DetectedData with its channel identified. */
export const DetectedDataEventSchema = DetectedDataSchema.extend({ uuid: UuidSchema, node_uuid: UuidSchema });
export type DetectedDataEvent = z.output<typeof DetectedDataEventSchema>;

/**
 * `Event.Result`: the follow-up of a request answered 202 (our shape, reference §7.5):
 * `{id, method, node_uuid, uuid?, code, message, ...method result fields}`.
 */
export const ResultEventSchema = ResponseSchema.extend({
  id: z.string().min(1, { error: 'expected a non-empty string' }),
  method: z.string().min(1, { error: 'expected a non-empty string' }),
  node_uuid: UuidSchema,
});
export type ResultEvent = z.output<typeof ResultEventSchema>;

/** `Event.DialResult`: outcome of `Dial` with `sync:false` — `{id, node_uuid, uuid, code, message, cause}`. */
export const DialResultEventSchema = ResponseSchema.extend({
  id: z.string().min(1, { error: 'expected a non-empty string' }),
  node_uuid: UuidSchema,
  uuid: UuidSchema,
  /** `SUCCESS` or the FreeSWITCH hangup cause of the failed attempt. */
  cause: z.string(),
});
export type DialResultEvent = z.output<typeof DialResultEventSchema>;

/** `Event.NativeResult`: async NativeAPI outcome. */
export const NativeResultEventSchema = ResponseSchema.extend({
  id: z.string().optional(),
  node_uuid: UuidSchema,
  data: z.unknown().optional(),
});
export type NativeResultEvent = z.output<typeof NativeResultEventSchema>;

/** `Event.Record` (our name for proto RecordEvent): a recording started or stopped. */
export const RecordEventSchema = z.looseObject({
  node_uuid: UuidSchema,
  uuid: UuidSchema,
  action: z.enum(['START', 'STOP']),
  path: z.string(),
  size: z.number().optional(),
  samples: z.number().optional(),
  record_ms: z.number().optional(),
  /** e.g. `success-silence`, `success-maxtime`, `terminator`. */
  completion_cause: z.string().optional(),
});
export type RecordEvent = z.output<typeof RecordEventSchema>;

/** `Event.Conference` (our choice): a channel joined or left a conference. */
export const ConferenceEventSchema = z.looseObject({
  node_uuid: UuidSchema,
  uuid: UuidSchema,
  name: z.string().min(1, { error: 'expected a non-empty string' }),
  action: z.enum(['join', 'leave']),
  member_count: UintSchema,
});
export type ConferenceEvent = z.output<typeof ConferenceEventSchema>;

/** `Event.DetectedFace` (proto DetectedFaceEvent). */
export const DetectedFaceEventSchema = z.looseObject({
  node_uuid: UuidSchema,
  uuid: UuidSchema,
  code: z.int().optional(),
  message: z.string().optional(),
  picture: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
});

/** `Event.NativeEvent`: a raw FreeSWITCH or phone event; free-form. */
export const NativeEventSchema = z.looseObject({ node_uuid: UuidSchema.optional() });

/** Every event the protocol knows, keyed by wire method name. */
export const events = {
  'Event.Channel': ChannelEventSchema,
  'Event.CDR': CdrEventSchema,
  'Event.NodeRegister': NodeInfoSchema,
  'Event.NodeUpdate': NodeInfoSchema,
  'Event.NodeUnregister': NodeInfoSchema,
  'Event.DTMF': DtmfEventSchema,
  'Event.DetectedData': DetectedDataEventSchema,
  /** Alias of Event.DetectedData (proto enum name; used by third-party clients). */
  'Event.DetectedSpeech': DetectedDataEventSchema,
  'Event.Result': ResultEventSchema,
  'Event.DialResult': DialResultEventSchema,
  'Event.NativeResult': NativeResultEventSchema,
  'Event.Record': RecordEventSchema,
  'Event.Conference': ConferenceEventSchema,
  'Event.DetectedFace': DetectedFaceEventSchema,
  'Event.NativeEvent': NativeEventSchema,
} as const;

export type EventName = keyof typeof events;
/** What a receiver gets for event E. */
export type EventParamsOf<E extends EventName> = z.output<(typeof events)[E]>;
/** What a sender may write for event E. */
export type EventInputOf<E extends EventName> = z.input<(typeof events)[E]>;

/** True when `name` is an event this protocol knows. */
export function isEvent(name: string): name is EventName {
  return Object.hasOwn(events, name);
}
