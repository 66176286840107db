/**
 * Tolerant URL-decoding of ESL `text/event-plain` header values. FreeSWITCH percent-encodes values
 * (UTF-8 bytes as `%XX`); a `+` is literal (FreeSWITCH writes a space as `%20`).
 */

/**
 * Decodes `%XX` sequences as UTF-8. Never throws: a value that is not valid percent-encoding (a lone
 * `%`, `%zz`, a truncated UTF-8 sequence) keeps the undecodable parts as they were, because garbage
 * values are data the CDR router must see, not a reason to drop the event.
 *
 * @example
 * urlDecode('Helmut%20Kuper'); // 'Helmut Kuper'
 * urlDecode('100%');           // '100%'
 */
export function urlDecode(value: string): string {
  // Fast path: most values (uuids, numbers, states) carry no escapes at all.
  const first = value.indexOf('%');
  if (first === -1) return value;
  // Fast path: escapes of ASCII characters only (`%2B` in numbers, `%40` in URIs, `%20`), decoded
  // here; decodeURIComponent is a runtime call that costs several times more for short values.
  const ascii = decodeAsciiEscapes(value, first);
  if (ascii !== undefined) return ascii;
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, decodeRun);
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Decodes `value` when every escape in it is a well-formed `%XX` below 0x80; otherwise undefined. */
function decodeAsciiEscapes(value: string, first: number): string | undefined {
  let out = value.slice(0, first);
  let runStart = first;
  for (let i = first; i < value.length; ) {
    if (value.charCodeAt(i) !== 37) {
      i++;
      continue;
    }
    const hi = hexValue(value.charCodeAt(i + 1));
    const lo = hexValue(value.charCodeAt(i + 2));
    if (hi < 0 || hi > 7 || lo < 0) return undefined;
    out += value.slice(runStart, i) + String.fromCharCode(hi * 16 + lo);
    i += 3;
    runStart = i;
  }
  return out + value.slice(runStart);
}

/** Decodes one run of `%XX` escapes; falls back to decoding the longest valid prefixes piecewise. */
function decodeRun(run: string): string {
  try {
    return decodeURIComponent(run);
  } catch {
    // An invalid UTF-8 sequence inside the run: decode escape by escape, keeping those that fail.
    let out = '';
    let i = 0;
    while (i < run.length) {
      let decoded = false;
      // A UTF-8 character is at most 4 bytes = 4 escapes; try the longest first.
      for (let n = 4; n >= 1 && !decoded; n--) {
        const piece = run.slice(i, i + 3 * n);
        if (piece.length !== 3 * n) continue;
        try {
          out += decodeURIComponent(piece);
          i += 3 * n;
          decoded = true;
        } catch {
          // try a shorter piece
        }
      }
      if (!decoded) {
        out += run.slice(i, i + 3);
        i += 3;
      }
    }
    return out;
  }
}
