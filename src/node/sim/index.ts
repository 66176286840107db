/**
 * node/sim — the simulated media backend: scripted virtual callers and destinations on a Clock, real
 * WAV lengths, real recording files. See docs/simulator.md for the script format and timing rules.
 */
export {
  MAX_DTMF_DIGITS,
  MAX_SAY_CHARS,
  MAX_SCRIPT_STEPS,
  MAX_WAIT_MS,
  parseCallerScript,
  parseCallerStep,
  parseDestinationBehaviour,
  parseDirectory,
} from './caller-script.js';
export { parseSimConfig, type SimConfig } from './config.js';
export { type DestinationMatch, lookupDestination, numberOfDialString } from './directory.js';
export {
  CJK_CHAR_MS,
  MIN_SPEECH_MS,
  mediaDurationMs,
  speechEstimateMs,
  toneStreamMs,
  WORD_MS,
  wavDurationMs,
} from './durations.js';
export { SimConfigError } from './errors.js';
export {
  DEFAULT_ANSWER_AFTER_MS,
  type OriginateAttempt,
  type PlannedProgress,
  planOriginate,
} from './originate.js';
export { RECORD_RATES, resolveRecordPath } from './recording-file.js';
export { type ResolvedTrickle, SimMedia, type SimMediaOptions, type TrickleOptions } from './sim-media.js';
export {
  DTMF_STEP_MS,
  MAX_BUFFERED_DIGITS,
  MAX_QUEUED_UTTERANCES,
  SimSession,
  SPEECH_CONFIDENCE,
} from './sim-session.js';
