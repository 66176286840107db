/**
 * Consultation: while the caller is bridged to someone (usually holding the caller), that person's
 * device places a new call (the consult leg). `consult` runs from the consult leg's creation until
 * it ends or the caller is transferred to it; the consulted party gets the `specialist` role.
 */
import { resolveParty } from '../router/party-resolver.js';
import type { Extractor } from './context.js';

export const consultExtractor: Extractor = {
  name: 'consult',
  observe(ev, at, ctx) {
    const uuid = ev.uuid;
    if (uuid === undefined || uuid === ctx.anchor || !ev.name.startsWith('CHANNEL_')) return;
    const leg = ctx.leg(uuid);
    const key = `consult:${uuid}`;
    if (ctx.draft.isOpen(key)) {
      if (leg.endedAt !== undefined) ctx.draft.close(key, leg.endedAt);
      return;
    }
    if (ctx.facts.has(key) || leg.direction !== 'inbound' || leg.endedAt !== undefined) return;
    const holder = ctx.anchorPartner ?? ctx.lastPartner.get(ctx.anchor);
    if (holder === undefined || holder === uuid) return;
    const holderNumber = ctx.deviceNumber(holder);
    if (holderNumber === undefined || ctx.deviceNumber(uuid) !== holderNumber) return;
    ctx.facts.set(key, true);
    const target = leg.firstDestination ?? leg.destination;
    const by = ctx.deviceParty(holder);
    let party: string | undefined;
    if (target !== undefined) {
      party = ctx.addParty(resolveParty({ number: target }), 'specialist');
    }
    const details: Record<string, string> = {};
    if (by !== undefined) details.by = by;
    if (party !== undefined) details.with = party;
    ctx.draft.open(key, 'consult', leg.createdAt ?? at, { party, legs: [holder, uuid], details });
  },
  partnerChanged(change, ctx) {
    if (change.after === undefined) return;
    // The consult leg's far end bridged to the caller: the consultation is over (attended transfer).
    if (change.leg === ctx.anchor) {
      const far = ctx.lastPartner.get(change.after);
      if (far !== undefined) ctx.draft.close(`consult:${far}`, change.at);
    }
    // The specialist's leg (bridged to the consult leg) gets the specialist role.
    if (ctx.draft.isOpen(`consult:${change.leg}`)) ctx.roleHint.set(change.after, 'specialist');
  },
};
