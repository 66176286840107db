/**
 * The example IVR: a complete call flow written against the controller SDK (`src/ctrl`).
 *
 *   answer → greeting → menu (ReadDTMF, one digit, up to `maxTries` tries)
 *     1 → bridge to an agent; if no agent is reachable (busy, no answer, no route) → voicemail
 *     2 → voicemail: beep, Record (limit, `#` ends it), goodbye
 *     no valid choice after `maxTries` → goodbye
 *   → hang up
 *
 * It never swallows a cancellation: when the caller hangs up (or the controller closes) the current
 * primitive rejects, the rejection propagates out of the flow, and the cleanup registered with
 * `call.defer` runs. `xcc ctrl examples/ivr.ts` loads the default export; `xcc demo` and the tests call
 * `ivr(call, options)` directly to get the outcome.
 */
import type { Call } from '../src/ctrl/index.js';
import { CallFailedError, CallGoneError, isCancellation, NotFoundError } from '../src/protocol/index.js';

/** How the flow ended, when it ended by itself (a caller hanging up makes `ivr()` reject instead). */
export type IvrOutcome =
  /** Bridged to an agent; the conversation is over (the agent hung up first). */
  | 'agent'
  /** A voicemail was recorded. */
  | 'voicemail'
  /** No valid menu choice after `maxTries` tries. */
  | 'no-input';

/** Notable steps, for live output (`xcc demo`) and tests; the flow never depends on the listener. */
export type IvrEvent =
  | { kind: 'answered'; uuid: string }
  | { kind: 'prompt'; uuid: string; text: string }
  | { kind: 'digits'; uuid: string; digits: string; attempt: number }
  | { kind: 'no-input'; uuid: string; attempt: number }
  | { kind: 'invalid'; uuid: string; digits: string; attempt: number }
  | { kind: 'bridging'; uuid: string; to: string }
  | { kind: 'bridged'; uuid: string; to: string }
  | { kind: 'agent-unavailable'; uuid: string; to: string; cause: string }
  | { kind: 'voicemail'; uuid: string; path: string; terminator: string | undefined }
  | { kind: 'hangup'; uuid: string; outcome: IvrOutcome }
  | { kind: 'cleanup'; uuid: string };

export interface IvrOptions {
  /** Where "1" goes: a dial string such as `user/agent` or `sofia/gateway/gw/1000`. Default `user/agent`. */
  agent?: string;
  /** Ring time for the agent in seconds before falling back to voicemail. Default 20. */
  agentRingSec?: number;
  /** Menu attempts before giving up. Default 3. */
  maxTries?: number;
  /** Time to press the first digit after the menu prompt, in ms. Default 5000. */
  menuTimeoutMs?: number;
  /** Folder (relative to the node's record root) for voicemail files. Default `voicemail`. */
  voicemailDir?: string;
  /** Longest voicemail in seconds. Default 60. */
  voicemailLimitSec?: number;
  /** The prompts (TEXT media: no audio files needed). */
  prompts?: Partial<IvrPrompts>;
  /** TTS engine/voice for TEXT prompts (the simulator ignores them). */
  tts?: { engine?: string; voice?: string };
  /** Receives each notable step; exceptions it throws are ignored. */
  onEvent?: (event: IvrEvent) => void;
}

export interface IvrPrompts {
  greeting: string;
  menu: string;
  invalid: string;
  noInput: string;
  connecting: string;
  agentUnavailable: string;
  voicemail: string;
  /** Played before recording; a tone stream by default. */
  beep: string;
  thanks: string;
  goodbye: string;
}

export const DEFAULT_PROMPTS: IvrPrompts = {
  greeting: 'Welcome to OpenXCC.',
  menu: 'Press 1 to talk to an agent, or 2 to leave a message.',
  invalid: 'Sorry, that is not a valid choice.',
  noInput: 'Sorry, I did not hear your choice.',
  connecting: 'Connecting you to an agent.',
  agentUnavailable: 'No agent is available right now.',
  voicemail: 'Please leave a message after the tone. Press the pound key when you are done.',
  beep: 'tone_stream://%(500,0,1000)',
  thanks: 'Thank you, your message has been recorded.',
  goodbye: 'Goodbye.',
};

/** The menu choices this IVR understands. */
const MENU = new Set(['1', '2']);

/**
 * Runs the IVR on an inbound call the controller handed over (already accepted).
 *
 * @returns how the call ended when the flow ended it; rejects with the cancellation (or `CallGoneError`)
 * when the caller hung up or the flow was cancelled, after the deferred cleanup was registered.
 *
 * @example
 * controller.onCall(async (call) => {
 *   const outcome = await ivr(call, { agent: 'user/agent' });
 *   console.log(call.uuid, outcome);
 * });
 */
export async function ivr(call: Call, options: IvrOptions = {}): Promise<IvrOutcome> {
  const o = resolveOptions(options);
  const emit = (event: IvrEvent): void => {
    try {
      o.onEvent?.(event);
    } catch {
      // A broken listener must not break the call.
    }
  };

  // Registered before the first blocking step, so it runs however the flow ends: a flow that throws for
  // any reason other than the caller leaving must not leave the channel parked on the node.
  call.defer(async () => {
    emit({ kind: 'cleanup', uuid: call.uuid });
    // `call.signal` is already aborted here (the flow ended); `isEnded` says whether the channel is gone.
    if (!call.isEnded) await hangupQuietly(call, 'NORMAL_CLEARING');
  });

  await call.answer();
  emit({ kind: 'answered', uuid: call.uuid });
  await say(call, o, emit, o.prompts.greeting);

  const choice = await menu(call, o, emit);
  let outcome: IvrOutcome;
  switch (choice) {
    case '1':
      outcome = (await toAgent(call, o, emit)) ? 'agent' : await voicemail(call, o, emit);
      break;
    case '2':
      outcome = await voicemail(call, o, emit);
      break;
    case undefined:
      await say(call, o, emit, o.prompts.goodbye);
      outcome = 'no-input';
      break;
    default:
      // MENU only lets '1' and '2' through; anything else is a bug in this file.
      throw new Error(`unexpected menu choice ${choice}`);
  }
  emit({ kind: 'hangup', uuid: call.uuid, outcome });
  await hangupQuietly(call, 'NORMAL_CLEARING');
  return outcome;
}

/**
 * The flow-module entry `xcc ctrl examples/ivr.ts` loads: `(call, ctx) => Promise<void>`.
 * `ctx.options` holds `--set key=value` pairs: `agent`, `voicemailDir`, `voicemailLimitSec`, `maxTries`.
 */
export default async function ivrFlow(
  call: Call,
  ctx: { options?: Readonly<Record<string, string>> } = {},
): Promise<void> {
  const opts = ctx.options ?? {};
  const ivrOptions: IvrOptions = {};
  if (opts.agent) ivrOptions.agent = opts.agent;
  if (opts.voicemailDir) ivrOptions.voicemailDir = opts.voicemailDir;
  const limit = Number(opts.voicemailLimitSec);
  if (Number.isFinite(limit) && limit > 0) ivrOptions.voicemailLimitSec = limit;
  const tries = Number(opts.maxTries);
  if (Number.isInteger(tries) && tries > 0) ivrOptions.maxTries = tries;
  await ivr(call, ivrOptions);
}

type Resolved = Required<Omit<IvrOptions, 'prompts' | 'onEvent' | 'tts'>> & {
  prompts: IvrPrompts;
  tts: { engine?: string; voice?: string };
  onEvent: IvrOptions['onEvent'];
};
type Emit = (event: IvrEvent) => void;

function resolveOptions(options: IvrOptions): Resolved {
  return {
    agent: options.agent ?? 'user/agent',
    agentRingSec: options.agentRingSec ?? 20,
    maxTries: options.maxTries ?? 3,
    menuTimeoutMs: options.menuTimeoutMs ?? 5000,
    voicemailDir: options.voicemailDir ?? 'voicemail',
    voicemailLimitSec: options.voicemailLimitSec ?? 60,
    prompts: { ...DEFAULT_PROMPTS, ...options.prompts },
    tts: options.tts ?? {},
    onEvent: options.onEvent,
  };
}

/** TEXT media, or FILE media for stream URLs (`tone_stream://…`, `silence_stream://…`) and paths. */
function media(
  o: Resolved,
  text: string,
): { type: 'TEXT' | 'FILE'; data: string; engine?: string; voice?: string } {
  if (/^[a-z_]+:\/\//.test(text) || text.endsWith('.wav')) return { type: 'FILE', data: text };
  return { type: 'TEXT', data: text, ...o.tts };
}

async function say(call: Call, o: Resolved, emit: Emit, text: string): Promise<void> {
  emit({ kind: 'prompt', uuid: call.uuid, text });
  await call.play(media(o, text));
}

/** Up to `maxTries` attempts to read one valid digit; undefined when none came. */
async function menu(call: Call, o: Resolved, emit: Emit): Promise<string | undefined> {
  for (let attempt = 1; attempt <= o.maxTries; attempt++) {
    emit({ kind: 'prompt', uuid: call.uuid, text: o.prompts.menu });
    const read = await call.readDtmf({
      min: 1,
      max: 1,
      timeoutMs: o.menuTimeoutMs,
      digitTimeoutMs: 2000,
      prompt: media(o, o.prompts.menu),
    });
    const digits = read.digits;
    if (digits === '') {
      emit({ kind: 'no-input', uuid: call.uuid, attempt });
      if (attempt < o.maxTries) await say(call, o, emit, o.prompts.noInput);
      continue;
    }
    emit({ kind: 'digits', uuid: call.uuid, digits, attempt });
    if (MENU.has(digits)) return digits;
    emit({ kind: 'invalid', uuid: call.uuid, digits, attempt });
    if (attempt < o.maxTries) await say(call, o, emit, o.prompts.invalid);
  }
  return undefined;
}

/** Bridges to the agent. True when a conversation took place; false when no agent could be reached. */
async function toAgent(call: Call, o: Resolved, emit: Emit): Promise<boolean> {
  await say(call, o, emit, o.prompts.connecting);
  emit({ kind: 'bridging', uuid: call.uuid, to: o.agent });
  try {
    // Returns when the bridge ends. Flow control CALLER: the caller hanging up ends the agent's leg too;
    // the agent hanging up leaves the caller parked, so the flow can say goodbye.
    await call.bridge({
      to: [{ dial_string: o.agent, timeout: o.agentRingSec }],
      flowControl: 'CALLER',
      // Keep the caller parked when the agent cannot be reached, so the flow can fall back to voicemail.
      continueOnFail: true,
    });
  } catch (err) {
    if (err instanceof CallFailedError) {
      emit({
        kind: 'agent-unavailable',
        uuid: call.uuid,
        to: o.agent,
        cause: err.hangupCause ?? err.message,
      });
      await say(call, o, emit, o.prompts.agentUnavailable);
      return false;
    }
    throw err;
  }
  emit({ kind: 'bridged', uuid: call.uuid, to: o.agent });
  await say(call, o, emit, o.prompts.goodbye);
  return true;
}

async function voicemail(call: Call, o: Resolved, emit: Emit): Promise<IvrOutcome> {
  await say(call, o, emit, o.prompts.voicemail);
  await say(call, o, emit, o.prompts.beep);
  const path = `${o.voicemailDir}/${call.uuid}.wav`;
  const rec = await call.record({
    path,
    action: 'RECORD',
    limitSec: o.voicemailLimitSec,
    terminators: '#',
    // Record's default RPC timeout is a quick command's (5 s); a blocking RECORD lasts up to the limit.
    timeoutMs: (o.voicemailLimitSec + 10) * 1000,
  });
  emit({ kind: 'voicemail', uuid: call.uuid, path: rec.path ?? path, terminator: rec.terminator });
  await say(call, o, emit, o.prompts.thanks);
  await say(call, o, emit, o.prompts.goodbye);
  return 'voicemail';
}

/** Hangs up unless the channel is already gone (the caller may hang up at any moment). */
async function hangupQuietly(call: Call, cause: string): Promise<void> {
  try {
    await call.hangup({ cause });
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof CallGoneError || isCancellation(err)) return;
    throw err;
  }
}
