/**
 * The party resolver: turns the caller-id fields FreeSWITCH gives (number, name, username, channel
 * name) into a clean number, name and login. Switch data is noisy: a device login where a number
 * should be, number and name swapped, `xml` or `_undef_` as a value, `sip:1001@host` forms.
 */

/** Raw caller-id fields of one side of a leg, as read from headers. */
export interface RawParty {
  number?: string | undefined;
  name?: string | undefined;
  /** `Caller-Username` (often the device login). */
  username?: string | undefined;
  /** `Channel-Name`, e.g. `sofia/internal/1001@pbx` (a last resort for the number). */
  channelName?: string | undefined;
}

/** A cleaned party identity; `fixes` lists what was repaired (story anomalies). */
export interface ResolvedParty {
  number?: string;
  name?: string;
  login?: string;
  fixes: string[];
}

/** Values that mean "nothing" in FreeSWITCH data (placeholders, dialplan names, undefined markers). */
const GARBAGE = new Set([
  '',
  'xml',
  'lua',
  'inline',
  'null',
  '(null)',
  '_undef_',
  'undef',
  'undefined',
  'unknown',
  'n/a',
  '0',
  '0000000000',
]);

const PHONE = /^\+?[0-9*#]{1,32}$/;

/** True for a string that is a phone number or extension (digits, leading `+`, `*`, `#`). */
export function isNumberLike(value: string | undefined): value is string {
  return value !== undefined && PHONE.test(value);
}

/** Strips URI decoration: `sip:1001@host;user=phone` → `1001`, `<tel:+4930…>` → `+4930…`, separators. */
export function cleanValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let v = value.trim();
  if (v.startsWith('<') && v.endsWith('>')) v = v.slice(1, -1);
  v = v.replace(/^(sips?|tel):/i, '');
  const at = v.indexOf('@');
  if (at > 0) v = v.slice(0, at);
  const semi = v.indexOf(';');
  if (semi > 0) v = v.slice(0, semi);
  v = v.trim();
  // Phone numbers are often written with spaces, dashes or brackets: keep only the digits then.
  if (/^\+?[0-9 ()\-.]{3,40}$/.test(v) && /[0-9]/.test(v)) v = v.replace(/[ ()\-.]/g, '');
  if (GARBAGE.has(v.toLowerCase())) return undefined;
  return v;
}

/** The user part of a channel name such as `sofia/internal/1001@pbx.example` (undefined otherwise). */
function numberFromChannelName(channelName: string | undefined): string | undefined {
  if (channelName === undefined) return undefined;
  const parts = channelName.split('/');
  const last = cleanValue(parts[parts.length - 1]);
  return isNumberLike(last) ? last : undefined;
}

/**
 * Resolves one party.
 *
 * @example
 * resolveParty({ number: 'Helmut Kuper', name: '8000' }); // { number: '8000', name: 'Helmut Kuper', fixes: ['swapped'] }
 */
export function resolveParty(raw: RawParty): ResolvedParty {
  const fixes: string[] = [];
  let number = cleanValue(raw.number);
  let name = raw.name === undefined ? undefined : raw.name.trim();
  if (name !== undefined && GARBAGE.has(name.toLowerCase())) name = undefined;
  let login: string | undefined;
  if (raw.number !== undefined && number === undefined && raw.number.trim() !== '')
    fixes.push('garbage-number');

  if (number !== undefined && !isNumberLike(number)) {
    const nameAsNumber = cleanValue(name);
    if (isNumberLike(nameAsNumber)) {
      // Number and name swapped: the name field holds the digits.
      fixes.push('swapped');
      name = number;
      number = nameAsNumber;
    } else {
      // A login (or a name) where the number should be.
      fixes.push('login-as-number');
      login = number;
      number = undefined;
    }
  }
  if (number === undefined) {
    const username = cleanValue(raw.username);
    const fallback = isNumberLike(username) ? username : numberFromChannelName(raw.channelName);
    if (fallback !== undefined) {
      number = fallback;
      fixes.push('number-from-device');
    } else if (login === undefined && username !== undefined) {
      login = username;
    }
  }
  if (name !== undefined && (name === number || name === login || name.length === 0)) name = undefined;
  const out: ResolvedParty = { fixes };
  if (number !== undefined) out.number = number;
  if (name !== undefined) out.name = name;
  if (login !== undefined) out.login = login;
  return out;
}

/** The story party id of a resolved party (`tel:<n>`, `login:<l>`), or undefined when it has neither. */
export function partyIdOf(party: ResolvedParty): string | undefined {
  if (party.number !== undefined) return `tel:${party.number}`;
  if (party.login !== undefined) return `login:${party.login}`;
  return undefined;
}
