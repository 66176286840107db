/**
 * Failures of the CDR inputs, one class per kind: a malformed ESL frame or event, a refused ESL
 * login, a refused ESL command, an ESL peer that went quiet, and a bad replay file.
 */

/** What was wrong with the bytes (see {@link EslProtocolError}). */
export type EslProtocolProblem =
  /** A header line without `Name: value` shape. */
  | 'bad-header-line'
  /** `Content-Length` is not a non-negative decimal integer. */
  | 'bad-content-length'
  /** A frame header block or body larger than the parser's limit. */
  | 'too-large'
  /** A frame without `Content-Type`. */
  | 'missing-content-type'
  /** An event body that is not a valid event (no `Event-Name`, bad JSON, …). */
  | 'bad-event'
  /** An event in a format we do not read (`text/event-xml`). */
  | 'unsupported-format'
  /** The stream ended in the middle of a frame. */
  | 'truncated';

/** Base class of every CDR input failure. */
export class CdrInputError extends Error {
  override readonly name: string = 'CdrInputError';
}

/**
 * Malformed ESL input. The parser reports it as a `parse-error` frame and carries on with the next
 * good frame; it is thrown only by the single-event helpers (`parseEventPlain`, `parseEventJson`).
 */
export class EslProtocolError extends CdrInputError {
  override readonly name = 'EslProtocolError';
  constructor(
    readonly problem: EslProtocolProblem,
    message: string,
    /** Byte offset in the stream where the bad frame started, when known. */
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
  }
}

/** The ESL server refused the password (`-ERR invalid`). Not retried: a wrong password stays wrong. */
export class EslAuthError extends CdrInputError {
  override readonly name = 'EslAuthError';
  constructor(readonly replyText: string) {
    super(`ESL authentication refused: ${replyText}`);
  }
}

/** The ESL server answered `-ERR` to a setup command (`event`, `filter`). Not retried. */
export class EslCommandError extends CdrInputError {
  override readonly name = 'EslCommandError';
  constructor(
    readonly command: string,
    readonly replyText: string,
  ) {
    super(`ESL command "${command}" refused: ${replyText}`);
  }
}

/** The ESL server did not send the expected frame in time (the connection is dropped and retried). */
export class EslTimeoutError extends CdrInputError {
  override readonly name = 'EslTimeoutError';
  constructor(
    readonly waitingFor: string,
    readonly timeoutMs: number,
  ) {
    super(`ESL server sent no ${waitingFor} within ${timeoutMs} ms`);
  }
}

/** The ESL client options are unusable (e.g. a newline inside the password or an event name). */
export class EslConfigError extends CdrInputError {
  override readonly name = 'EslConfigError';
}

/** A replay file entry that is not an event. `location` says where (`line 12`, `entry 3`, `byte 400`). */
export class ReplayFormatError extends CdrInputError {
  override readonly name = 'ReplayFormatError';
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`${location}: ${reason}`);
  }
}

/** The ESL connection ended (peer closed it, sent a disconnect notice, or refused us). Retried. */
export class EslConnectionClosedError extends CdrInputError {
  override readonly name = 'EslConnectionClosedError';
  constructor(readonly detail: string) {
    super(`ESL connection closed: ${detail}`);
  }
}
