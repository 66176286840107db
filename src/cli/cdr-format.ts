/**
 * How `xcc cdr` prints stories: one summary line per story for `list` (start time, id, caller → dialled,
 * disposition, durations, the segment path), or JSON.
 */
import type { CallStory } from '../cdr/story.js';

/** `tel:+1555…` → `+1555…`; other party ids stay as they are (`queue:support`). */
export function partyLabel(partyId: string | undefined): string {
  if (partyId === undefined || partyId.length === 0) return '?';
  return partyId.startsWith('tel:') ? partyId.slice(4) : partyId;
}

/** µs since the epoch → `YYYY-MM-DD HH:MM:SS` (UTC). */
export function formatMicros(us: number): string {
  if (!Number.isFinite(us)) return '????-??-?? ??:??:??';
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 19).replace('T', ' ');
}

/** The segment kinds in order, repeats collapsed: `ivr>queue_wait>agent_talk`. */
export function segmentPath(story: Pick<CallStory, 'segments'>): string {
  const kinds: string[] = [];
  for (const segment of Array.isArray(story.segments) ? story.segments : []) {
    if (kinds[kinds.length - 1] !== segment.kind) kinds.push(segment.kind);
  }
  return kinds.length === 0 ? '-' : kinds.join('>');
}

/**
 * One line per story.
 *
 * @example
 * // 2026-01-01 00:00:00  4f1c…  +15551230000 → 1000  answered  60.0s talk 50.0s  queue_wait>agent_talk
 */
export function storyLine(story: CallStory): string {
  const seconds = (s: unknown): string =>
    typeof s === 'number' && Number.isFinite(s) ? `${s.toFixed(1)}s` : '?';
  return [
    formatMicros(story.startedAt),
    story.id,
    `${partyLabel(story.from)} → ${partyLabel(story.to)}`,
    story.disposition,
    `${seconds(story.totalDurationS)} talk ${seconds(story.talkS)}`,
    segmentPath(story),
  ].join('  ');
}
