/**
 * Pickup / intercept: another device answers a call ringing elsewhere (`intercept <uuid>` or
 * `pickup`); the ringing leg ends with PICKED_OFF. A `pickup` marker names the interceptor.
 */
import type { Extractor } from './context.js';

export const pickupExtractor: Extractor = {
  name: 'pickup',
  observe(ev, _at, ctx) {
    if (ev.name !== 'CHANNEL_EXECUTE' || ev.uuid === undefined) return;
    const app = ev.get('Application');
    if (app === 'intercept' || app === 'pickup') ctx.roleHint.set(ev.uuid, 'interceptor');
  },
  partnerChanged(change, ctx) {
    if (change.after === undefined) return;
    const interceptor =
      ctx.roleHint.get(change.after) === 'interceptor'
        ? change.after
        : ctx.roleHint.get(change.leg) === 'interceptor'
          ? change.leg
          : undefined;
    if (interceptor === undefined || ctx.facts.has(`pickup:${interceptor}`)) return;
    if (change.leg !== ctx.anchor && change.after !== ctx.anchor) return;
    ctx.facts.set(`pickup:${interceptor}`, true);
    const party = ctx.deviceParty(interceptor, 'interceptor');
    const details: Record<string, string> = {};
    for (const leg of ctx.legs.values()) {
      if (leg.cause === 'PICKED_OFF' && leg.firstDestination !== undefined)
        details.from = `tel:${leg.firstDestination}`;
    }
    ctx.draft.mark('pickup', change.at, { party, legs: [ctx.anchor, interceptor], details });
  },
};
