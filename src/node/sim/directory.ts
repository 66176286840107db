/**
 * Destination lookup for simulated outbound legs: dial strings reduce to their number part, and the
 * number picks a behaviour from the directory (exact key, then `*`, then the default behaviour).
 */
import type { DestinationBehaviour } from '../media.js';

/**
 * The number a dial string targets: `user/1000`, `user/1000@domain`, `sofia/gateway/gw/1000`,
 * `sofia/public/1000@host:port;transport=tcp`, `sofia/internal/sip:1000@host`, `xrtc/profile/alice@domain`
 * and a bare `1000` all resolve to the part before `@`. Leading `{var=value}` / `[var=value]` blocks are
 * skipped; with several targets (`,` or `|`) the first one counts. Returns '' when nothing is left.
 *
 * @example
 * numberOfDialString('{origination_caller_id_number=1}sofia/gateway/gw/+8613800000000'); // '+8613800000000'
 */
export function numberOfDialString(dialString: string): string {
  let s = dialString.trim();
  // Skip channel-variable blocks; a block without its closing bracket leaves nothing usable.
  for (;;) {
    const open = s[0];
    if (open !== '{' && open !== '[' && open !== '<') break;
    const close = open === '{' ? '}' : open === '[' ? ']' : '>';
    const end = s.indexOf(close);
    if (end < 0) return '';
    s = s.slice(end + 1).trimStart();
  }
  s = s.split(/[,|]/, 1)[0] ?? '';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) s = s.slice(slash + 1);
  s = s.replace(/^sips?:/i, '');
  s = s.split(/[@;]/, 1)[0] ?? '';
  return s.trim();
}

/** How `lookupDestination` found a behaviour. */
export type DestinationMatch =
  | { kind: 'exact'; number: string; behaviour: DestinationBehaviour }
  | { kind: 'wildcard'; number: string; behaviour: DestinationBehaviour }
  | { kind: 'default'; number: string; behaviour: DestinationBehaviour }
  | { kind: 'none'; number: string };

/**
 * Picks the behaviour for a destination: `directory[number]`, else `directory['*']`, else `fallback`.
 * An empty number never matches.
 */
export function lookupDestination(
  number: string,
  directory: Readonly<Record<string, DestinationBehaviour>>,
  fallback: DestinationBehaviour | undefined,
): DestinationMatch {
  if (number === '') return { kind: 'none', number };
  // Own-property checks: a number such as `constructor` must not find Object.prototype members.
  if (Object.hasOwn(directory, number)) return { kind: 'exact', number, behaviour: directory[number]! };
  if (Object.hasOwn(directory, '*')) return { kind: 'wildcard', number, behaviour: directory['*']! };
  if (fallback) return { kind: 'default', number, behaviour: fallback };
  return { kind: 'none', number };
}
