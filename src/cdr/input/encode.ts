/**
 * Writes events and frames the way FreeSWITCH does: `text/event-plain` bodies with URL-encoded values,
 * `text/event-json` bodies, and whole ESL frames. Used by test servers, fixtures, benches and tools
 * that convert replay files.
 */

const utf8 = new TextEncoder();

/** Header map of one event (values decoded). */
export type HeaderMap = Readonly<Record<string, string>>;

/** UTF-8 length of a string. */
export function byteLength(text: string): number {
  // Fast path: pure ASCII text is one byte per char.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
  if (/^[\x00-\x7f]*$/.test(text)) return text.length;
  return utf8.encode(text).length;
}

/**
 * A `text/event-plain` body: `Name: url-encoded-value` lines, then (with a body) `Content-Length`, a
 * blank line and the body; always ended by a blank line as FreeSWITCH does.
 *
 * @example
 * encodeEventPlain({ 'Event-Name': 'CHANNEL_ANSWER', 'Caller-Caller-ID-Name': 'Helmut Kuper' });
 * // 'Event-Name: CHANNEL_ANSWER\nCaller-Caller-ID-Name: Helmut%20Kuper\n\n'
 */
export function encodeEventPlain(headers: HeaderMap, body?: string): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) out += name + ': ' + encodeURIComponent(value) + '\n';
  if (body !== undefined) return out + 'Content-Length: ' + byteLength(body) + '\n\n' + body;
  return out + '\n';
}

/** A `text/event-json` body: the header map, with the body under `_body`. */
export function encodeEventJson(headers: HeaderMap, body?: string): string {
  return JSON.stringify(body === undefined ? headers : { ...headers, _body: body });
}

/**
 * One ESL frame: `Content-Length` (when there is a body), `Content-Type`, any extra headers, a blank
 * line, then the body.
 *
 * @example
 * encodeEslFrame('command/reply', '', { 'Reply-Text': '+OK accepted' });
 */
export function encodeEslFrame(contentType: string, body = '', extraHeaders: HeaderMap = {}): string {
  let out = body.length > 0 ? 'Content-Length: ' + byteLength(body) + '\n' : '';
  out += 'Content-Type: ' + contentType + '\n';
  for (const [name, value] of Object.entries(extraHeaders)) out += name + ': ' + value + '\n';
  return out + '\n' + body;
}

/** A whole `text/event-plain` frame for one event. */
export function encodeEventPlainFrame(headers: HeaderMap, body?: string): string {
  return encodeEslFrame('text/event-plain', encodeEventPlain(headers, body));
}

/** A whole `text/event-json` frame for one event. */
export function encodeEventJsonFrame(headers: HeaderMap, body?: string): string {
  return encodeEslFrame('text/event-json', encodeEventJson(headers, body));
}
