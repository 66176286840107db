/**
 * Inbound/outbound calls: the caller and the dialled party of the anchor leg, and a `ring`
 * segment for every leg the caller's call rings (B-legs), closed when it answers or fails.
 */
import type { Extractor } from './context.js';
import { resolveParty } from '../router/party-resolver.js';

export const callsExtractor: Extractor = {
  name: 'calls',
  observe(ev, at, ctx) {
    const uuid = ev.uuid;
    if (uuid === undefined) return;
    if (uuid === ctx.anchor && !ctx.facts.has('callerKnown') && ev.name.startsWith('CHANNEL_')) {
      const leg = ctx.leg(uuid);
      if (leg.cidNumber !== undefined || leg.username !== undefined) {
        ctx.facts.set('callerKnown', true);
        ctx.deviceParty(uuid, 'caller');
        const dialled = leg.direction === 'outbound' ? undefined : (leg.dialled ?? leg.firstDestination);
        if (dialled !== undefined) ctx.addParty(resolveParty({ number: dialled }), 'callee');
      }
    }
    if (!ctx.originatedByAnchor(uuid)) return;
    const key = `ring:${uuid}`;
    const leg = ctx.leg(uuid);
    if (leg.answeredAt === undefined && leg.endedAt === undefined && !ev.name.startsWith('CHANNEL_HANGUP')) {
      const party = ctx.deviceParty(uuid);
      ctx.draft.open(key, 'ring', leg.createdAt ?? at, { party, legs: [uuid] });
    } else if (leg.answeredAt !== undefined) {
      ctx.draft.close(key, leg.answeredAt, { answered: true });
    } else if (leg.endedAt !== undefined) {
      const details: Record<string, string | boolean> = { answered: false };
      if (leg.cause !== undefined) details.cause = leg.cause;
      ctx.draft.close(key, leg.endedAt, details);
    }
  },
};
