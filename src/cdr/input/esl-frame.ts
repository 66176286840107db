/**
 * The frames an inbound ESL connection carries, as a discriminated union on `kind`. The parser
 * (`esl-parser.ts`) produces them; the client (`esl-client.ts`) consumes them.
 */
import type { EslProtocolError } from './errors.js';
import type { SwitchEvent } from './switch-event.js';

/** Outer frame headers (`Content-Type`, `Reply-Text`, …), values as sent (they are not URL-encoded). */
export type EslHeaders = Readonly<Record<string, string>>;

/** One ESL frame, or the report of bytes that were not one. */
export type EslFrame =
  /** `Content-Type: auth/request`: the server wants `auth <password>`. */
  | { readonly kind: 'auth-request' }
  /** `Content-Type: command/reply`: the answer to a command; `ok` when `Reply-Text` starts with `+OK`. */
  | {
      readonly kind: 'command-reply';
      readonly ok: boolean;
      readonly replyText: string;
      readonly headers: EslHeaders;
    }
  /** `Content-Type: api/response`: the output of an `api` command. */
  | { readonly kind: 'api-response'; readonly body: string }
  /** `text/event-plain` or `text/event-json`: one switch event. */
  | { readonly kind: 'event'; readonly format: 'plain' | 'json'; readonly event: SwitchEvent }
  /** `text/disconnect-notice`: the server is closing the connection. */
  | { readonly kind: 'disconnect-notice'; readonly body: string; readonly headers: EslHeaders }
  /** `text/rude-rejection`: the server refuses us (ACL) and closes. */
  | { readonly kind: 'rude-rejection'; readonly body: string }
  /** Any other content type (`log/data`, …): passed on, the client ignores it. */
  | {
      readonly kind: 'other';
      readonly contentType: string;
      readonly headers: EslHeaders;
      readonly body: string;
    }
  /** Bytes that were not a good frame; the parser has already resynchronised past them. */
  | { readonly kind: 'parse-error'; readonly error: EslProtocolError };

/** Names of the frame kinds. */
export type EslFrameKind = EslFrame['kind'];
