/**
 * NATS subject syntax and wildcard matching, pure and shared by every `Bus` implementation.
 *
 * A subject is dot-separated tokens; tokens are non-empty and hold no whitespace. In a subscription
 * pattern the token `*` matches exactly one token and `>` (only as the last token) matches one or more.
 * `*` or `>` inside a longer token (`a*`) is a plain character, as in NATS.
 */

/** Characters NATS forbids in any subject: space, tab, CR, LF and the other whitespace. */
const WHITESPACE = /\s/;

/** True when `subject` is a valid subject to publish to (no wildcards). */
export function isValidSubject(subject: string): boolean {
  return checkTokens(subject, false);
}

/** True when `pattern` is a valid subscription subject (`*` anywhere as a token, `>` only last). */
export function isValidPattern(pattern: string): boolean {
  return checkTokens(pattern, true);
}

/** True when `pattern` contains a wildcard token (so it cannot be found by exact lookup). */
export function hasWildcard(pattern: string): boolean {
  return pattern.split('.').some((t) => t === '*' || t === '>');
}

function checkTokens(subject: string, wildcards: boolean): boolean {
  if (subject.length === 0 || WHITESPACE.test(subject)) return false;
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length === 0) return false;
    if (t === '*' || t === '>') {
      if (!wildcards) return false;
      if (t === '>' && i !== tokens.length - 1) return false;
    }
  }
  return true;
}

/**
 * True when the published `subject` matches the subscription `pattern`. Both must already be valid;
 * pass pre-split tokens to `matchTokens` on hot paths.
 *
 * @example
 * matchSubject('cn.xswitch.*', 'cn.xswitch.ctrl'); // true
 * matchSubject('cn.>', 'cn'); // false: `>` needs at least one token
 */
export function matchSubject(pattern: string, subject: string): boolean {
  return matchTokens(pattern.split('.'), subject.split('.'));
}

/** `matchSubject` on tokens already split at the dots. */
export function matchTokens(pattern: readonly string[], subject: readonly string[]): boolean {
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const p = pattern[i]!;
    if (p === '>') return subject.length > i;
    const s = subject[i];
    if (s === undefined) return false;
    if (p !== '*' && p !== s) return false;
  }
  return subject.length === n;
}
