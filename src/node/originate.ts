/**
 * Placing outbound legs (Dial, and Bridge's b-leg): one leg through CALLING → RINGING → (MEDIA → READY
 * →) ANSWERED … as reference §7.1 describes, with ring timeout, `ignore_early_media`, `max_duration`;
 * and a destination's legs rung in parallel (`ringall`: first ready wins, others LOSE_RACE) or in turn.
 */
import { Cause } from '../protocol/codes.js';
import type { Channel } from './channel.js';
import type { CallerStep, OriginateProgress } from './media.js';
import { bool, num, type Params, str, stringMap, strings } from './params.js';
import type { NodeRuntime } from './runtime.js';

/** Default ring timeout when neither CallParam.timeout nor `leg_timeout` says otherwise. */
export const DEFAULT_RING_TIMEOUT_MS = 60_000;
/** Longest timer we arm (Node's setTimeout fires at once beyond 2^31-1 ms): about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One leg to place, resolved from a Destination's global_params and one CallParam. */
export interface LegSpec {
  uuid: string;
  cidName: string;
  cidNumber: string;
  destNumber: string;
  dialString: string | undefined;
  variables: Record<string, string>;
  channelParams: string[];
  ignoreEarlyMedia: boolean;
  ringTimeoutMs: number;
  maxDurationMs: number | undefined;
}

export interface DestinationPlan {
  ringall: boolean;
  legs: LegSpec[];
}

/** Outcome of one leg or a whole destination at the moment it is decided. */
export type LegOutcome = { ok: true; channel: Channel } | { ok: false; cause: string; uuid: string };

/**
 * Resolves a Destination into legs, or an error message naming the bad field. Pre-assigned uuids must
 * be new (not a live channel, not reserved by another Dial, not repeated in this destination).
 */
export function planDestination(
  rt: NodeRuntime,
  destination: Params | undefined,
  path: string,
): DestinationPlan | string {
  if (!destination) return `${path}: required`;
  const callParams = Array.isArray(destination.call_params) ? destination.call_params : [];
  if (callParams.length === 0) return `${path}.call_params: at least one call param required`;
  const global = stringMap(destination, 'global_params');
  const destChannelParams = strings(destination, 'channel_params');
  const seen = new Set<string>();
  const legs: LegSpec[] = [];
  for (const [i, raw] of callParams.entries()) {
    const at = `${path}.call_params[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${at}: expected object`;
    const cp = raw as Params;
    const uuid = str(cp, 'uuid') || rt.newUuid();
    if (seen.has(uuid) || rt.uuidTaken(uuid)) return `${at}.uuid: duplicate channel uuid ${uuid}`;
    seen.add(uuid);
    const dialString = str(cp, 'dial_string') || undefined;
    const destNumber = str(cp, 'dest_number') || (dialString ? numberOf(dialString) : '');
    if (!destNumber) return `${at}: dest_number or dial_string required`;
    const variables = { ...global, ...stringMap(cp, 'params') };
    const timeoutSec = num(cp, 'timeout') || num(variables, 'leg_timeout') || 0;
    const maxDurationSec = num(cp, 'max_duration') ?? 0;
    legs.push({
      uuid,
      cidName: str(cp, 'cid_name') ?? variables.caller_id_name ?? variables.origination_caller_id_name ?? '',
      cidNumber:
        str(cp, 'cid_number') ?? variables.caller_id_number ?? variables.origination_caller_id_number ?? '',
      destNumber,
      dialString,
      variables,
      channelParams: [...destChannelParams, ...strings(cp, 'channel_params')],
      ignoreEarlyMedia: variables.ignore_early_media === 'true',
      ringTimeoutMs: timeoutSec > 0 ? Math.min(timeoutSec * 1000, MAX_TIMER_MS) : DEFAULT_RING_TIMEOUT_MS,
      maxDurationMs: maxDurationSec > 0 ? Math.min(maxDurationSec * 1000, MAX_TIMER_MS) : undefined,
    });
  }
  return { ringall: bool(destination, 'ringall') ?? false, legs };
}

/** `user/1000`, `sofia/gateway/gw/1000`, `sofia/public/1000@host:5060` → `1000`. */
export function numberOf(dialString: string): string {
  const last = dialString.split('/').pop() ?? dialString;
  return (last.split('@')[0] ?? last).trim();
}

export interface PlaceOptions {
  /** The controller the new legs report to. */
  owner: string;
  /** Dial legs emit READY; Bridge b-legs do not (reference §7.1). */
  emitReady: boolean;
  /** Aborting cancels every leg still ringing (ORIGINATOR_CANCEL). */
  signal?: AbortSignal;
}

/**
 * Rings a destination and resolves when the outcome is known: the first leg to become ready, or the
 * last failure. Losing legs in a ringall race are hung up with LOSE_RACE. Legs keep progressing in the
 * background after the outcome (early media, then ANSWERED or a late failure).
 */
export async function placeDestination(
  rt: NodeRuntime,
  plan: DestinationPlan,
  options: PlaceOptions,
): Promise<LegOutcome> {
  for (const leg of plan.legs) rt.reserved.add(leg.uuid);
  try {
    if (plan.ringall) return await ringAll(rt, plan.legs, options);
    let last: LegOutcome = { ok: false, cause: Cause.OriginatorCancel, uuid: plan.legs[0]?.uuid ?? '' };
    for (const leg of plan.legs) {
      if (options.signal?.aborted) break;
      rt.reserved.delete(leg.uuid);
      last = await placeLeg(rt, leg, options);
      if (last.ok) return last;
    }
    return last;
  } finally {
    for (const leg of plan.legs) rt.reserved.delete(leg.uuid);
  }
}

async function ringAll(rt: NodeRuntime, specs: LegSpec[], options: PlaceOptions): Promise<LegOutcome> {
  for (const leg of specs) rt.reserved.delete(leg.uuid);
  const channels: Channel[] = [];
  const outcome = await new Promise<LegOutcome>((resolve) => {
    let failures = 0;
    let decided = false;
    for (const spec of specs) {
      const attempt = placeLeg(rt, spec, options, (ch) => channels.push(ch));
      void attempt.then((o) => {
        if (decided) return;
        if (o.ok) {
          decided = true;
          resolve(o);
        } else if (++failures === specs.length) {
          decided = true;
          resolve(o);
        }
      });
    }
  });
  if (outcome.ok) {
    for (const ch of channels) if (ch !== outcome.channel && ch.alive) rt.hangup(ch, Cause.LoseRace);
  }
  return outcome;
}

/**
 * Places one leg: CALLING now, then progress from the backend. Resolves when the leg is ready (Dial's
 * success point) or failed; the rest of its progress runs on as a tracked background task.
 */
export function placeLeg(
  rt: NodeRuntime,
  spec: LegSpec,
  options: PlaceOptions,
  onCreated?: (ch: Channel) => void,
): Promise<LegOutcome> {
  const ch = rt.createChannel({
    uuid: spec.uuid,
    direction: 'outbound',
    cidName: spec.cidName,
    cidNumber: spec.cidNumber,
    destNumber: spec.destNumber,
    dialString: spec.dialString,
    domain: spec.variables.domain_name ?? '',
    context: spec.variables.context ?? 'default',
    createdAt: rt.clock.now(),
    owner: options.owner,
    announceSubject: rt.subjects.ctrlOf(options.owner),
  });
  for (const [k, v] of Object.entries(spec.variables)) ch.setVariable(k, v);
  ch.subscribe(spec.channelParams);
  onCreated?.(ch);
  rt.emitChannel(ch, 'CALLING');
  const onAbort = (): void => rt.hangup(ch, Cause.OriginatorCancel);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise<LegOutcome>((resolve) => {
    let decided = false;
    const decide = (o: LegOutcome): void => {
      if (decided) return;
      decided = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    rt.track(runLeg(rt, ch, spec, options, decide));
  });
}

async function runLeg(
  rt: NodeRuntime,
  ch: Channel,
  spec: LegSpec,
  options: PlaceOptions,
  decide: (o: LegOutcome) => void,
): Promise<void> {
  const ringTimer = rt.addTimer(ch, spec.ringTimeoutMs, () => rt.hangup(ch, Cause.NoAnswer));
  const becomeReady = (): void => {
    if (ch.ready) return;
    ch.ready = true;
    if (options.emitReady) rt.emitChannel(ch, 'READY');
    decide({ ok: true, channel: ch });
  };
  // The destination's script is what the far end does after answering: early media opens the media
  // without it, and the answer starts it (on the media opened then, or on the early one).
  const openMedia = (script: CallerStep[] | undefined): void => {
    if (!ch.media) rt.openMedia(ch, script).live();
    else if (script !== undefined) ch.media.startScript(script);
  };
  try {
    const progress = rt.media.originate(
      {
        dest_number: spec.destNumber,
        dial_string: spec.dialString,
        timeoutMs: spec.ringTimeoutMs,
        variables: spec.variables,
      },
      ch.attempt.signal,
    );
    for await (const p of progress as AsyncIterable<OriginateProgress>) {
      if (!ch.alive) break;
      switch (p.kind) {
        case 'ringing':
          if (ch.ringAt === undefined) {
            ch.ringAt = rt.clock.now();
            rt.emitChannel(ch, 'RINGING');
          }
          break;
        case 'early_media':
          // With ignore_early_media the caller waits for the answer: no MEDIA/READY before ANSWERED.
          if (!spec.ignoreEarlyMedia && !ch.mediaUp) {
            openMedia(undefined);
            ch.mediaUp = true;
            rt.emitChannel(ch, 'MEDIA');
            becomeReady();
          }
          break;
        case 'answered':
          rt.cancelTimer(ch, ringTimer);
          openMedia((progress as OriginateScript).script);
          rt.answer(ch);
          answerBridgedCaller(rt, ch);
          if (!ch.mediaUp) {
            ch.mediaUp = true;
            rt.emitChannel(ch, 'MEDIA');
          }
          becomeReady();
          if (spec.maxDurationMs !== undefined) {
            rt.addTimer(ch, spec.maxDurationMs, () => rt.hangup(ch, Cause.AllottedTimeout));
          }
          return;
        case 'failed':
          rt.hangup(ch, p.cause);
          decide({ ok: false, cause: p.cause, uuid: ch.uuid });
          return;
      }
    }
  } catch (err) {
    if (!ch.attempt.signal.aborted) {
      rt.logger.warn({ err, uuid: ch.uuid }, 'originate failed');
      rt.hangup(ch, Cause.NormalTemporaryFailure);
    }
  }
  // The attempt ended without an answer: aborted (ring timeout, cancel, hangup) or the backend gave up.
  if (ch.alive) rt.hangup(ch, Cause.NormalTemporaryFailure);
  decide({ ok: false, cause: ch.cause ?? Cause.NormalTemporaryFailure, uuid: ch.uuid });
}

type OriginateScript = { readonly script?: CallerStep[] };

/** A leg bridged on early media answers later: the inbound caller it is bridged to is answered too. */
function answerBridgedCaller(rt: NodeRuntime, ch: Channel): void {
  const link = ch.link;
  if (!link) return;
  const peer = link.caller === ch ? link.callee : link.caller;
  if (peer.direction === 'inbound') rt.answer(peer);
}
