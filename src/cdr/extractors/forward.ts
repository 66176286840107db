/**
 * Call forward: a leg the caller's call rang ended unanswered (busy, no answer, redirect) and a new
 * leg rings with the first one's number as redirecting number (Caller-RDNIS). A `forward` marker
 * names both numbers and the reason.
 */
import type { Extractor } from './context.js';

export const forwardExtractor: Extractor = {
  name: 'forward',
  observe(ev, at, ctx) {
    const uuid = ev.uuid;
    if (uuid === undefined || !ctx.originatedByAnchor(uuid) || ctx.facts.has(`forward:${uuid}`)) return;
    const leg = ctx.leg(uuid);
    if (leg.rdnis === undefined) return;
    ctx.facts.set(`forward:${uuid}`, true);
    let from: string | undefined;
    let reason: string | undefined;
    for (const other of ctx.legs.values()) {
      if (other.uuid === uuid || !ctx.originatedByAnchor(other.uuid)) continue;
      if ((other.firstDestination ?? other.destination) === leg.rdnis && other.answeredAt === undefined) {
        from = other.uuid;
        reason = other.cause;
      }
    }
    // No unanswered leg to the redirecting number: the phone forwarded by itself (unconditional).
    if (from === undefined || reason === undefined) reason = 'unconditional';
    ctx.roleHint.set(uuid, 'forward_target');
    const to = ctx.deviceParty(uuid, 'forward_target');
    const details: Record<string, string> = { from: `tel:${leg.rdnis}`, reason };
    if (to !== undefined) details.to = to;
    ctx.draft.mark('forward', leg.createdAt ?? at, { party: to, legs: [uuid], details });
  },
};
