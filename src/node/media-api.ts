/**
 * Media methods: Play, Stop, Broadcast, Record (RECORD/START/STOP), ReadDTMF/ReadDigits, DetectSpeech,
 * StopDetectSpeech, SendDTMF. A channel runs one blocking media API at a time: a new one interrupts the
 * running one (which answers 410 "replaced"), as FreeSWITCH breaks a playback for the next command.
 * A media failure answers the code the backend's `MediaError` names (404 missing file, 501 unsupported).
 */
import { Code } from '../protocol/codes.js';
import type { ResultObject } from '../rpc/types.js';
import { type BackgroundRecording, Channel, type RunningOp } from './channel.js';
import type { HandlerMap } from './handlers.js';
import {
  type CollectOptions,
  MediaError,
  type MediaSession,
  type MediaSpec,
  type SpeechOutcome,
} from './media.js';
import { bool, list, num, obj, type Params, str } from './params.js';
import { gone, Interrupted, NOT_IMPLEMENTED, ok, result } from './results.js';
import type { NodeRuntime } from './runtime.js';

const MEDIA_TYPES = ['FILE', 'TEXT', 'SSML'] as const;
const DTMF_DIGITS = /^[0-9A-Da-d*#wW]+$/;

/** A Media object (reference §5.1) from params, or a 400 message. Type accepts names or 0/1/2. */
export function mediaSpec(raw: Params | undefined, path: string): MediaSpec | string {
  if (!raw) return `${path}: required`;
  const data = str(raw, 'data');
  if (data === undefined || data.length === 0) return `${path}.data: required`;
  const t = raw.type;
  const type = typeof t === 'number' ? MEDIA_TYPES[t] : MEDIA_TYPES.find((n) => n === t);
  if (t !== undefined && type === undefined) return `${path}.type: expected FILE, TEXT or SSML`;
  const spec: MediaSpec = { data };
  if (type) spec.type = type;
  for (const key of ['engine', 'voice'] as const) {
    const v = str(raw, key);
    if (v !== undefined) spec[key] = v;
  }
  for (const key of ['loop', 'offset', 'silence_ms'] as const) {
    const v = num(raw, key);
    if (v !== undefined) spec[key] = v;
  }
  return spec;
}

export function mediaHandlers(rt: NodeRuntime): HandlerMap {
  const node = rt.nodeUuid;

  /** The channel with open media, or the result to answer. */
  const mediaChannel = (params: Params): { ch: Channel; media: MediaSession } | ResultObject => {
    const ch = rt.channelFor(params);
    if (!(ch instanceof Channel)) return ch;
    if (!ch.media) return rt.bad('no media on the channel yet (wait for READY)', ch.uuid);
    return { ch, media: ch.media };
  };

  /** Runs a blocking media API: 410 when interrupted, 400 when the media layer refuses. */
  const runMediaOp = async (
    ch: Channel,
    method: string,
    work: (signal: AbortSignal, op: RunningOp) => Promise<ResultObject>,
  ): Promise<ResultObject> => {
    const op = ch.beginMediaOp(method);
    const signal = op.controller.signal;
    try {
      return await work(signal, op);
    } catch (err) {
      if (signal.aborted) return gone(node, ch.uuid, signal);
      // MediaError carries the code to answer (404 missing file, 501 unsupported…); anything else is 500.
      const code = err instanceof MediaError ? err.code : Code.InternalError;
      if (code === Code.InternalError)
        rt.logger.error({ err, uuid: ch.uuid, method }, 'media operation failed');
      return result(code, `media: ${(err as Error).message}`, node, ch.uuid);
    } finally {
      ch.endOp(op);
    }
  };

  const readDigits = (method: string) => async (params: Params) => {
    const got = mediaChannel(params);
    if ('code' in got) return got;
    const { ch, media } = got;
    const collect = collectOptions(params);
    if (typeof collect === 'string') return rt.bad(collect, ch.uuid);
    let regex: RegExp | undefined;
    const pattern = str(params, 'regex');
    if (pattern) {
      try {
        regex = new RegExp(pattern);
      } catch {
        return rt.bad('params.regex: invalid regular expression', ch.uuid);
      }
    }
    const invalid = obj(params, 'media_invalid')
      ? mediaSpec(obj(params, 'media_invalid'), 'params.media_invalid')
      : undefined;
    if (typeof invalid === 'string') return rt.bad(invalid, ch.uuid);
    const tries = Math.max(1, num(params, 'max_tries') ?? 1);
    const playLastInvalid = bool(params, 'play_last_invalid_prompt') !== false;
    return runMediaOp(ch, method, async (signal) => {
      let last: Record<string, unknown> = { dtmf: '', terminator: '', reason: 'timeout' };
      for (let attempt = 1; attempt <= tries; attempt++) {
        const out = await media.collectDigits(collect, signal);
        if (out.reason === 'timeout') {
          last = { dtmf: out.digits, terminator: out.terminator, reason: 'timeout' };
          continue;
        }
        if (regex && !regex.test(out.digits)) {
          last = { dtmf: out.digits, terminator: out.terminator, reason: 'invalid' };
          if (invalid && (attempt < tries || playLastInvalid)) await media.play(invalid, signal);
          continue;
        }
        return ok(node, ch.uuid, { dtmf: out.digits, terminator: out.terminator, reason: 'ok' });
      }
      return ok(node, ch.uuid, last);
    });
  };

  return {
    'XNode.Play': async (params) => {
      const got = mediaChannel(params);
      if ('code' in got) return got;
      const spec = mediaSpec(obj(params, 'media'), 'params.media');
      if (typeof spec === 'string') return rt.bad(spec, got.ch.uuid);
      return runMediaOp(got.ch, 'XNode.Play', async (signal) => {
        await got.media.play(spec, signal);
        return ok(node, got.ch.uuid);
      });
    },

    'XNode.Stop': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      // The media API if one runs (stop the prompt, keep the bridge), else Bridge/Conference.
      const op = ch.mediaOp ?? ch.controlOp;
      op?.controller.abort(new Interrupted('stop', `interrupted: stopped by XNode.Stop`));
      return ok(node, ch.uuid);
    },

    'XNode.StopDetectSpeech': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      if (ch.mediaOp?.method === 'XNode.DetectSpeech') {
        ch.mediaOp.controller.abort(
          new Interrupted('stop', 'interrupted: stopped by XNode.StopDetectSpeech'),
        );
      }
      return ok(node, ch.uuid);
    },

    // Non-blocking (Go SDK timeout 5 s): starts playing on the chosen legs and answers at once.
    'XNode.Broadcast': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      if ((list(params, 'apps') ?? []).length > 0)
        return result(Code.NotImplemented, `Broadcast apps: ${NOT_IMPLEMENTED}`, node, ch.uuid);
      const spec = mediaSpec(obj(params, 'media'), 'params.media');
      if (typeof spec === 'string') return rt.bad(spec, ch.uuid);
      const option = str(params, 'option') ?? 'BOTH';
      const link = ch.link;
      const peer = link ? (link.caller === ch ? link.callee : link.caller) : undefined;
      let targets: Channel[];
      switch (option) {
        case 'ALEG':
        case 'AHOLDB':
          targets = [ch];
          break;
        case 'BLEG':
        case 'BHOLDA':
          if (!peer) return rt.bad(`option ${option}: the channel is not bridged`, ch.uuid);
          targets = [peer];
          break;
        case 'BOTH':
          targets = peer ? [ch, peer] : [ch];
          break;
        default:
          return rt.bad('params.option: expected BOTH, ALEG, BLEG, AHOLDB or BHOLDA', ch.uuid);
      }
      for (const t of targets) {
        const media = t.media;
        if (!media) continue;
        const op = t.beginMediaOp('XNode.Broadcast');
        rt.track(
          media.play(spec, op.controller.signal).then(
            () => t.endOp(op),
            () => t.endOp(op),
          ),
        );
      }
      return ok(node, ch.uuid);
    },

    'XNode.Record': async (params) => {
      const got = mediaChannel(params);
      if ('code' in got) return got;
      const { ch, media } = got;
      const path = str(params, 'path');
      if (!path) return rt.bad('params.path: required', ch.uuid);
      const options = {
        path,
        limitSec: num(params, 'limit'),
        terminators: str(params, 'terminators'),
        silenceSec: num(params, 'silence_seconds'),
        rate: num(params, 'rate'),
      };
      const action = str(params, 'action') ?? 'RECORD';
      switch (action) {
        case 'RECORD':
          return runMediaOp(ch, 'XNode.Record', async (signal) => {
            const out = await media.record(options, signal);
            return ok(node, ch.uuid, {
              path: out.path,
              terminator: out.terminator ?? '',
              record_ms: out.recordMs,
              size: out.size,
              samples: out.samples,
              completion_cause: out.completion_cause,
            });
          });
        case 'START': {
          if (ch.recordings.has(path)) return rt.bad(`already recording ${path}`, ch.uuid);
          const rec: BackgroundRecording = { path, controller: new AbortController(), stopped: false };
          ch.addRecording(rec);
          rt.emitTo(ch, 'Event.Record', { action: 'START', path });
          rt.track(
            media.record(options, rec.controller.signal).then(
              (out) => {
                if (rec.stopped) return;
                rec.stopped = true;
                ch.removeRecording(path);
                rt.emitTo(ch, 'Event.Record', {
                  action: 'STOP',
                  path: out.path,
                  size: out.size,
                  samples: out.samples,
                  record_ms: out.recordMs,
                  completion_cause: out.completion_cause,
                });
              },
              (err: unknown) => {
                if (rec.stopped) return;
                rt.logger.warn({ err, uuid: ch.uuid, path }, 'background recording failed');
                rt.stopRecording(ch, rec, 'error');
              },
            ),
          );
          return ok(node, ch.uuid, { path });
        }
        case 'STOP': {
          const rec = ch.recordings.get(path);
          if (!rec) return rt.bad(`not recording ${path}`, ch.uuid);
          rt.stopRecording(ch, rec, 'stopped');
          return ok(node, ch.uuid, { path });
        }
        case 'MASK':
        case 'UNMASK':
          return result(Code.NotImplemented, `Record ${action}: ${NOT_IMPLEMENTED}`, node, ch.uuid);
        default:
          return rt.bad('params.action: expected RECORD, START, STOP, MASK or UNMASK', ch.uuid);
      }
    },

    'XNode.ReadDTMF': readDigits('XNode.ReadDTMF'),
    'XNode.ReadDigits': readDigits('XNode.ReadDigits'),

    'XNode.DetectSpeech': async (params) => {
      const got = mediaChannel(params);
      if ('code' in got) return got;
      const { ch, media } = got;
      const speech = obj(params, 'speech');
      if (!speech) return rt.bad('params.speech: required', ch.uuid);
      const rawPrompt = obj(params, 'media');
      const prompt = rawPrompt ? mediaSpec(rawPrompt, 'params.media') : undefined;
      if (typeof prompt === 'string') return rt.bad(prompt, ch.uuid);
      const dtmfParams = obj(params, 'dtmf');
      const dtmf = dtmfParams ? collectOptions(dtmfParams) : undefined;
      if (typeof dtmf === 'string') return rt.bad(dtmf.replace('params.', 'params.dtmf.'), ch.uuid);
      const options = {
        noInputTimeoutMs: num(speech, 'no_input_timeout') ?? 5000,
        speechTimeoutMs: num(speech, 'speech_timeout') ?? num(speech, 'max_speech_timeout') ?? 10_000,
        ...(prompt ? { prompt } : {}),
        ...(dtmf ? { dtmf } : {}),
      };
      return runMediaOp(ch, 'XNode.DetectSpeech', async (signal) => {
        const out = await media.detectSpeech(options, signal);
        const data = {
          ...detected(out),
          uuid: ch.uuid,
          node_uuid: node,
          engine: str(speech, 'engine') ?? 'sim',
        };
        if (bool(speech, 'disable_detected_data_event') !== true) rt.emitTo(ch, 'Event.DetectedData', data);
        return ok(node, ch.uuid, { data });
      });
    },

    'XNode.SendDTMF': async (params) => {
      const got = mediaChannel(params);
      if ('code' in got) return got;
      const dtmf = str(params, 'dtmf');
      if (!dtmf || !DTMF_DIGITS.test(dtmf))
        return rt.bad('params.dtmf: expected digits 0-9, A-D, *, # (w/W pause)', got.ch.uuid);
      got.media.sendDtmf(dtmf);
      return ok(node, got.ch.uuid);
    },
  };
}

/** ReadDTMF/DTMFRequest fields with the reference's defaults, or a 400 message. */
function collectOptions(params: Params): CollectOptions | string {
  const minDigits = num(params, 'min_digits') ?? 1;
  const maxDigits = num(params, 'max_digits') ?? Math.max(1, minDigits);
  if (maxDigits < minDigits) return 'params.max_digits: must be at least min_digits';
  const terminators = str(params, 'terminators') ?? '';
  if (terminators && !/^[0-9*#]+$/.test(terminators)) return 'params.terminators: expected 0-9, * or #';
  const options: CollectOptions = {
    minDigits,
    maxDigits,
    timeoutMs: num(params, 'timeout') ?? 5000,
    digitTimeoutMs: num(params, 'digit_timeout') ?? 2000,
    terminators,
  };
  const rawPrompt = obj(params, 'media');
  if (rawPrompt) {
    const prompt = mediaSpec(rawPrompt, 'params.media');
    if (typeof prompt === 'string') return prompt;
    options.prompt = prompt;
  }
  return options;
}

/** The backend's outcome as DetectedData (reference §6). */
function detected(out: SpeechOutcome): Record<string, unknown> {
  switch (out.type) {
    case 'Speech.End':
      return { type: out.type, text: out.text, confidence: out.confidence, is_final: true };
    case 'DTMF':
      return { type: out.type, dtmf: out.dtmf, terminator: out.terminator, is_final: true };
    case 'ERROR':
      return { type: out.type, error: out.error, is_final: true };
  }
}
