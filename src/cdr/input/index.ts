/**
 * cdr/input — where switch events come from: the ESL byte parser, the normalised `SwitchEvent`, the
 * inbound ESL client (over an injected transport), and replay from files.
 */
export {
  EslClient,
  type EslBackoff,
  type EslClientOptions,
  type EslClientStats,
  type EslClientStatus,
  type EslFilter,
} from './esl-client.js';
export type { EslFrame, EslFrameKind, EslHeaders } from './esl-frame.js';
export { EslParser, type EslParserOptions } from './esl-parser.js';
export {
  byteLength,
  encodeEslFrame,
  encodeEventJson,
  encodeEventJsonFrame,
  encodeEventPlain,
  encodeEventPlainFrame,
  type HeaderMap,
} from './encode.js';
export {
  CdrInputError,
  EslAuthError,
  EslCommandError,
  EslConfigError,
  EslConnectionClosedError,
  EslProtocolError,
  type EslProtocolProblem,
  EslTimeoutError,
  ReplayFormatError,
} from './errors.js';
export {
  REPLAY_FORMATS,
  type ReadEventsOptions,
  type ReplayFormat,
  readEvents,
  replayFormatFromName,
} from './replay.js';
export { type SyntheticEventOptions, syntheticChannelEvent, syntheticUuid } from './synthetic.js';
export { eventFromMap, parseEventJson, parseEventPlain, type SwitchEvent } from './switch-event.js';
export type { EslConnect, EslConnection } from './transport.js';
export { urlDecode } from './url-decode.js';
