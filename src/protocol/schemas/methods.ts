/**
 * The XNode method registry: one entry per wire method (reference §6, plus sim/housekeeping methods),
 * each with its params and result schemas, whether it is a Channel API, the Go SDK's default timeout
 * (reference §1) and whether `expect_100_trying` is supported (common.md item 2). Node and controller
 * both read this table, so a method's contract lives in exactly one place.
 */
import { z } from 'zod';
import {
  AppParamSchema,
  CallerStepSchema,
  DestinationSchema,
  DetectedDataSchema,
  DtmfRequestSchema,
  dtmfRequestFields,
  MediaSchema,
  ResponseSchema,
  SpeechRequestSchema,
} from './objects.js';
import {
  channelFields,
  requestFields,
  StringListSchema,
  UintSchema,
  UuidSchema,
  VarMapSchema,
  tryingFields,
  wireEnum,
} from './primitives.js';

/** One registry entry. */
export interface MethodDef<P extends z.ZodObject = z.ZodObject, R extends z.ZodObject = z.ZodObject> {
  /** Request params. Loose: unknown keys pass through. */
  readonly params: P;
  /** The `result` object of the final response. */
  readonly result: R;
  /** A Channel API: needs `uuid`, and goes to `cn.xswitch.node.<node_uuid>`. */
  readonly channel: boolean;
  /** Default request timeout in ms (the generated Go SDK's, reference §1; ours where it has none). */
  readonly timeoutMs: number;
  /** `expect_100_trying` is honoured (common.md item 2). */
  readonly trying: boolean;
}

function def<P extends z.ZodObject, R extends z.ZodObject>(d: MethodDef<P, R>): MethodDef<P, R> {
  return d;
}

const S5 = 5_000;
const S60 = 60_000;
const S180 = 180_000;
const S1200 = 1_200_000;
const S3600 = 3_600_000;

/** flow_control of Bridge/ChannelBridge: NONE=0, CALLER=1, CALLEE=2, ANY=3. */
export const FlowControlSchema = wireEnum(['NONE', 'CALLER', 'CALLEE', 'ANY']);
/** Hangup.flag: SELF=0, PEER=1, BOTH=2. */
export const HangupFlagSchema = wireEnum(['SELF', 'PEER', 'BOTH']);
/** Record.action. RECORD (blocking) is the default. */
export const RecordActionSchema = z.enum(['RECORD', 'START', 'STOP', 'MASK', 'UNMASK']);

/** Channel-API params with the trying flags. */
const tryingChannelFields = { ...channelFields, ...tryingFields };

// ---- results ----

/** Dial / Bridge result: adds the FreeSWITCH `cause` (`SUCCESS` on success). */
export const DialResponseSchema = ResponseSchema.extend({ cause: z.string().optional() });
/** Record result. */
export const RecordResponseSchema = ResponseSchema.extend({
  terminator: z.string().optional(),
  path: z.string().optional(),
});
/** GetVar result: the variables asked for. */
export const VarResponseSchema = ResponseSchema.extend({ data: VarMapSchema.optional() });
/** GetState result. */
export const StateResponseSchema = ResponseSchema.extend({
  channel_state: z.string().optional(),
  call_state: z.string().optional(),
  answer_state: z.string().optional(),
  bridged: z.boolean().optional(),
  answered: z.boolean().optional(),
  held: z.boolean().optional(),
  video: z.boolean().optional(),
  video_ready: z.boolean().optional(),
  controlled: z.boolean().optional(),
  ready: z.boolean().optional(),
  up: z.boolean().optional(),
});
/** GetChannelData result. */
export const ChannelDataResponseSchema = ResponseSchema.extend({
  format: z.string().optional(),
  data: z.union([z.looseObject({}), z.string()]).optional(),
});
/**
 * ReadDTMF / ReadDigits result. `reason` is ours: `ok` (enough digits or a terminator), `timeout`
 * (not enough digits in time), `invalid` (input failed `regex`).
 */
export const DtmfResponseSchema = ResponseSchema.extend({
  dtmf: z.string().optional(),
  terminator: z.string().optional(),
  reason: z.enum(['ok', 'timeout', 'invalid']).optional(),
});
/** DetectSpeech result. */
export const DetectResponseSchema = ResponseSchema.extend({ data: DetectedDataSchema.optional() });
/** NativeApp / NativeAPI / NativeJSAPI result: `data` is whatever the command returned. */
export const NativeResponseSchema = ResponseSchema.extend({
  data: z.unknown().optional(),
  result: z.unknown().optional(),
  seq: z.unknown().optional(),
});
/** TTSPreheat result. */
export const TtsPreheatResponseSchema = ResponseSchema.extend({ data: z.array(z.number()).optional() });
/** Results that name the channel they created (SimCall). */
export const ChannelCreatedResponseSchema = ResponseSchema.extend({ uuid: UuidSchema });

// ---- params reused by several methods ----

const bridgeParams = z.looseObject({
  ...tryingChannelFields,
  peer_uuid: UuidSchema,
  bridge_delay: z.int().optional(),
  flow_control: FlowControlSchema.optional(),
});

const readDigitsParams = z.looseObject({ ...tryingChannelFields, ...dtmfRequestFields });

const unbridgeParams = z.looseObject({ ...channelFields, params: VarMapSchema.optional() });

/** Y* methods of the proto (FIFO, Callcenter, ...) have no ctrl_uuid field; we still accept it. */
const urlDataParams = z.looseObject({ ...channelFields, url: z.string(), data: VarMapSchema.optional() });

/**
 * The registry, keyed by wire method name.
 *
 * @example
 * const { params, timeoutMs } = methods['XNode.Play'];
 * params.parse({ uuid, media: { type: 'FILE', data: '/tmp/a.wav' } });
 */
export const methods = {
  'XNode.Accept': def({
    params: z.looseObject({
      ...channelFields,
      /** Take the channel from the controller that owns it (else 419). */
      takeover: z.boolean().optional(),
      channel_params: StringListSchema.optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Answer': def({
    params: z.looseObject({
      ...channelFields,
      takeover: z.boolean().optional(),
      channel_params: StringListSchema.optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Dial': def({
    params: z.looseObject({
      ...requestFields,
      destination: DestinationSchema,
      apps: z.array(AppParamSchema).optional(),
      /** Ringback tone spec, e.g. `%(1000,4000,450)` (observed on the wire, not in the proto). */
      ringback: z.string().optional(),
      /** true (default): answer when the leg is READY or failed; false: 202 now, Event.DialResult later. */
      sync: z.boolean().optional(),
    }),
    result: DialResponseSchema,
    channel: false,
    /** Ours: the SDK has no Dial default; longer than FreeSWITCH's 60 s ring timeout. */
    timeoutMs: 120_000,
    trying: false,
  }),
  'XNode.Play': def({
    params: z.looseObject({ ...tryingChannelFields, media: MediaSchema }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S180,
    trying: true,
  }),
  'XNode.Stop': def({
    params: z.looseObject(channelFields),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Broadcast': def({
    params: z.looseObject({
      ...channelFields,
      media: MediaSchema.optional(),
      option: wireEnum(['BOTH', 'ALEG', 'BLEG', 'AHOLDB', 'BHOLDA']).optional(),
      record: z.string().optional(),
      apps: z.array(AppParamSchema).optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Mute': def({
    params: z.looseObject({
      ...channelFields,
      direction: wireEnum(['WRITE', 'READ', 'BOTH']).optional(),
      level: z.int().optional(),
      flag: wireEnum(['FIRST', 'LAST']).optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Record': def({
    params: z.looseObject({
      ...tryingChannelFields,
      path: z.string().min(1, { error: 'expected a non-empty string' }),
      action: RecordActionSchema.default('RECORD'),
      /** Seconds. */
      limit: UintSchema.optional(),
      beep: z.string().optional(),
      terminators: z.string().optional(),
      silence_seconds: UintSchema.optional(),
      /** VAD threshold: 0 off, 1–10000. */
      thresh: z.int().min(0).max(10_000).optional(),
      rate: z.literal([8000, 16000, 22050, 24000, 32000, 44100, 48000]).optional(),
    }),
    result: RecordResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: true,
  }),
  'XNode.Hangup': def({
    params: z.looseObject({
      ...channelFields,
      cause: z.string().optional(),
      flag: HangupFlagSchema.optional(),
      /** Variables set before hanging up. */
      data: VarMapSchema.optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Bridge': def({
    params: z.looseObject({
      ...tryingChannelFields,
      destination: DestinationSchema,
      ringback: z.string().optional(),
      flow_control: FlowControlSchema.optional(),
      /** "true" (default), "false", or a comma list of causes to continue on. */
      continue_on_fail: z.union([z.string(), z.boolean()]).optional(),
    }),
    result: DialResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: true,
  }),
  'XNode.ChannelBridge': def({
    params: bridgeParams,
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: true,
  }),
  'XNode.ChannelBridge2': def({
    params: bridgeParams,
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.UnBridge': def({
    params: unbridgeParams,
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.UnBridge2': def({
    params: unbridgeParams,
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Hold': def({
    params: z.looseObject({
      ...channelFields,
      action: wireEnum(['ON', 'OFF', 'TOGGLE']).optional(),
      display: z.string().optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Transfer': def({
    params: z.looseObject({
      ...channelFields,
      extension: z.string().optional(),
      dialplan: z.string().optional(),
      context: z.string().optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.ThreeWay': def({
    params: z.looseObject({
      ...channelFields,
      target_uuid: UuidSchema,
      direction: wireEnum(['LISTEN', 'ABC', 'ABC3', 'AC', 'BC', 'TOA', 'TOB', 'STOP']).optional(),
      mode: z.string().optional(),
      conf_profile: z.string().optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: false,
  }),
  'XNode.Echo2': def({
    params: z.looseObject({
      ...channelFields,
      action: wireEnum(['START', 'STOP']).optional(),
      direction: wireEnum(['SELF', 'OTHER']).optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: false,
  }),
  'XNode.Intercept': def({
    params: z.looseObject({ ...channelFields, target_uuid: UuidSchema }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: false,
  }),
  'XNode.Consult': def({
    params: z.looseObject({ ...channelFields, destination: DestinationSchema }),
    result: DialResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: false,
  }),
  'XNode.SetVar': def({
    params: z.looseObject({
      ...channelFields,
      data: VarMapSchema.optional(),
      channel_params: StringListSchema.optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.GetVar': def({
    params: z.looseObject({ ...channelFields, data: StringListSchema }),
    result: VarResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.GetState': def({
    params: z.looseObject(channelFields),
    result: StateResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.GetChannelData': def({
    params: z.looseObject({
      ...channelFields,
      format: wireEnum(['JSON', 'JSONSTR', 'XML', 'TXT', 'LIST']).optional(),
    }),
    result: ChannelDataResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.ReadDTMF': def({
    params: readDigitsParams,
    result: DtmfResponseSchema,
    channel: true,
    timeoutMs: S60,
    trying: true,
  }),
  'XNode.ReadDigits': def({
    params: readDigitsParams,
    result: DtmfResponseSchema,
    channel: true,
    timeoutMs: S60,
    trying: true,
  }),
  'XNode.DetectSpeech': def({
    params: z.looseObject({
      ...tryingChannelFields,
      media: MediaSchema.optional(),
      dtmf: DtmfRequestSchema.optional(),
      speech: SpeechRequestSchema,
    }),
    result: DetectResponseSchema,
    channel: true,
    timeoutMs: S180,
    trying: true,
  }),
  'XNode.StopDetectSpeech': def({
    params: z.looseObject(channelFields),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.DetectSpeechFeedTTS': def({
    params: z.looseObject({
      ...channelFields,
      engine: z.string().optional(),
      voice: z.string().optional(),
      text: z.string(),
      preheat: z.boolean().optional(),
      is_last: z.boolean().optional(),
      silence_ms: UintSchema.optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.RingBackDetection': def({
    params: z.looseObject({
      ...tryingChannelFields,
      stop_tone: z.string().optional(),
      ignore_samples: z.string().optional(),
      /** Default true. */
      auto_hangup: z.boolean().optional(),
      /** Default true. */
      answer_auto_stop: z.boolean().optional(),
      /** Seconds, default 60. */
      max_detect_time: UintSchema.optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S60,
    trying: true,
  }),
  'XNode.DetectFace': def({
    params: z.looseObject({
      ...channelFields,
      mask: z.union([z.string(), z.boolean(), z.number()]).optional(),
      action: wireEnum(['START', 'STOP', 'TEXT', 'CLEAR']).optional(),
      text: z.string().optional(),
      font: z.string().optional(),
      font_size: z.number().optional(),
      fg_color: z.string().optional(),
      bg_color: z.string().optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S180,
    trying: false,
  }),
  'XNode.SendDTMF': def({
    params: z.looseObject({
      ...channelFields,
      dtmf: z.string().regex(/^[0-9*#A-Da-dwW]+$/, { error: 'expected DTMF digits 0-9*#A-D (w/W pause)' }),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.SendINFO': def({
    params: z.looseObject({ ...channelFields, content_type: z.string().optional(), data: z.string() }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.NativeApp': def({
    params: z.looseObject({
      ...channelFields,
      cmd: z.string().min(1, { error: 'expected a non-empty string' }),
      args: z.string().optional(),
      sync: z.boolean().optional(),
    }),
    result: NativeResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.NativeAPI': def({
    params: z.looseObject({
      ...requestFields,
      cmd: z.string().min(1, { error: 'expected a non-empty string' }),
      args: z.string().optional(),
    }),
    result: NativeResponseSchema,
    channel: false,
    timeoutMs: S5,
    trying: false,
  }),
  /** Also carries JStatus (`command:"status"`) and ConferenceInfo (`command:"conferenceInfo"`). */
  'XNode.NativeJSAPI': def({
    params: z.looseObject({
      ...requestFields,
      data: z.looseObject({
        command: z.string().min(1, { error: 'expected a non-empty string' }),
        data: z.unknown().optional(),
      }),
    }),
    result: NativeResponseSchema,
    channel: false,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.FIFO': def({
    params: z.looseObject({
      ...channelFields,
      name: z.string().min(1, { error: 'expected a non-empty string' }),
      inout: z.enum(['in', 'out']).optional(),
      wait_music: z.string().optional(),
      exit_announce: z.string().optional(),
      priority: z.int().optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S1200,
    trying: false,
  }),
  'XNode.Callcenter': def({
    params: z.looseObject({
      ...channelFields,
      name: z.string().min(1, { error: 'expected a non-empty string' }),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S1200,
    trying: false,
  }),
  'XNode.Conference': def({
    params: z.looseObject({
      ...channelFields,
      name: z.string().min(1, { error: 'expected a non-empty string' }),
      profile: z.string().optional(),
      flags: StringListSchema.optional(),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: false,
  }),
  'XNode.AI': def({
    params: urlDataParams,
    result: ResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: false,
  }),
  'XNode.HttAPI': def({
    params: urlDataParams,
    result: ResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: false,
  }),
  'XNode.Lua': def({
    params: z.looseObject({
      ...channelFields,
      script: z.string().min(1, { error: 'expected a non-empty string' }),
    }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S3600,
    trying: false,
  }),
  'XNode.TTSPreheat': def({
    params: z.looseObject({
      ...requestFields,
      engine: z.string().optional(),
      voice: z.string().optional(),
      data: StringListSchema,
    }),
    result: TtsPreheatResponseSchema,
    channel: false,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.MediaFork': def({
    params: z.looseObject({ ...channelFields, action: z.string().optional(), url: z.string().optional() }),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Register': def({
    params: z.looseObject({ ...requestFields, uuid: UuidSchema.optional(), params: VarMapSchema.optional() }),
    result: ResponseSchema,
    channel: false,
    timeoutMs: S5,
    trying: false,
  }),
  'XNode.Shutdown': def({
    params: z.looseObject({ ...requestFields, node_uuid: UuidSchema.optional() }),
    result: ResponseSchema,
    channel: false,
    timeoutMs: S5,
    trying: false,
  }),
  /** Docs-only extra (not in the proto): ring_ready (SIP 180). */
  'XNode.Ring': def({
    params: z.looseObject(channelFields),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  /** Docs-only extra: print a log line on the node. Params unknown; ours: `{level?, data}`. */
  'XNode.Log': def({
    params: z.looseObject({ ...requestFields, level: z.string().optional(), data: z.string().optional() }),
    result: ResponseSchema,
    channel: false,
    timeoutMs: S5,
    trying: false,
  }),
  /** Docs-only extra: add a watermark. Params unknown beyond `uuid`. */
  'XNode.WaterMark': def({
    params: z.looseObject(channelFields),
    result: ResponseSchema,
    channel: true,
    timeoutMs: S5,
    trying: false,
  }),
  /** Sim-only: inject an inbound simulated call into a running node (common.md item 11). */
  'XNode.SimCall': def({
    params: z.looseObject({
      ...requestFields,
      cid_number: z.string(),
      dest_number: z.string(),
      cid_name: z.string().optional(),
      domain: z.string().optional(),
      context: z.string().optional(),
      variables: VarMapSchema.optional(),
      script: z.array(CallerStepSchema).optional(),
      /** Announce START on this subject instead of the ctrl queue subject. */
      subject: z.string().min(1, { error: 'expected a non-empty string' }).optional(),
    }),
    result: ChannelCreatedResponseSchema,
    channel: false,
    timeoutMs: S5,
    trying: false,
  }),
  /** A controller announces itself (published to `cn.xswitch.node`, usually without id). */
  'XNode.CtrlStartUp': def({
    params: z.looseObject({ ctrl_uuid: UuidSchema }),
    result: ResponseSchema,
    channel: false,
    timeoutMs: S5,
    trying: false,
  }),
} as const;

export type MethodName = keyof typeof methods;
/** What a sender may write as params of method M. */
export type ParamsOf<M extends MethodName> = z.input<(typeof methods)[M]['params']>;
/** What the node gets after validating params of method M (defaults filled, enums as names). */
export type ParsedParamsOf<M extends MethodName> = z.output<(typeof methods)[M]['params']>;
/** What a controller gets as the result of method M. */
export type ResultOf<M extends MethodName> = z.output<(typeof methods)[M]['result']>;
/** What a node may write as the result of method M. */
export type ResultInputOf<M extends MethodName> = z.input<(typeof methods)[M]['result']>;

/** All method names, in registry order. */
export const METHOD_NAMES = Object.keys(methods) as MethodName[];

/** True when `name` is a method of the registry (else the node answers JSON-RPC -32601). */
export function isMethod(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}

/** Methods that honour `expect_100_trying`. */
export const TRYING_METHODS: ReadonlySet<string> = new Set(METHOD_NAMES.filter((m) => methods[m].trying));

/** Default timeout for a method in ms; 5000 for names not in the registry. */
export function defaultTimeoutMs(method: string): number {
  return isMethod(method) ? methods[method].timeoutMs : S5;
}

/**
 * Timeout for one call of `method` with these params: the registry default, widened where the Go SDK's
 * 5 s default cannot cover a blocking call — Record with action RECORD (its `limit` + 10 s, else 1 h) and
 * ChannelBridge (returns when the bridged call ends: 1 h) — and for ReadDTMF/ReadDigits whose own
 * timeouts exceed 60 s.
 */
export function effectiveTimeoutMs(method: string, params: Record<string, unknown> = {}): number {
  const base = defaultTimeoutMs(method);
  const num = (k: string, d: number): number => (typeof params[k] === 'number' ? (params[k] as number) : d);
  switch (method) {
    case 'XNode.Record': {
      const action = params.action ?? 'RECORD';
      if (action !== 'RECORD') return base;
      return typeof params.limit === 'number' && params.limit > 0 ? params.limit * 1000 + 10_000 : S3600;
    }
    case 'XNode.ChannelBridge':
      return S3600;
    case 'XNode.ReadDTMF':
    case 'XNode.ReadDigits':
      return Math.max(
        base,
        num('timeout', 5000) + num('max_digits', 1) * num('digit_timeout', 2000) + 10_000,
      );
    default:
      return base;
  }
}
