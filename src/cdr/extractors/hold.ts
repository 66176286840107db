/**
 * Hold: the caller on hold, put there by the far end (the anchor's partner) or holding itself.
 * Recognised from CHANNEL_HOLD/UNHOLD and from CHANNEL_CALLSTATE HELD/ACTIVE.
 */
import type { Extractor } from './context.js';

const HOLD_EVENTS = new Set(['CHANNEL_HOLD', 'CHANNEL_UNHOLD', 'CHANNEL_CALLSTATE']);

export const holdExtractor: Extractor = {
  name: 'hold',
  observe(ev, at, ctx) {
    if (!HOLD_EVENTS.has(ev.name) || ev.uuid === undefined) return;
    const partner = ctx.anchorPartner;
    if (ev.uuid !== ctx.anchor && ev.uuid !== partner) return;
    const held = ctx.legs.get(ev.uuid)?.held === true;
    const key = `hold:${ev.uuid}`;
    if (held) {
      const by = ctx.deviceParty(ev.uuid);
      ctx.draft.open(key, 'hold', at, { party: by, legs: [ev.uuid], details: { by: by ?? 'unknown' } });
    } else {
      ctx.draft.close(key, at);
    }
  },
  partnerChanged(change, ctx) {
    // A held leg that is bridged elsewhere (attended transfer) is no longer holding the caller.
    if (change.leg === ctx.anchor && change.before !== undefined)
      ctx.draft.close(`hold:${change.before}`, change.at);
  },
};
