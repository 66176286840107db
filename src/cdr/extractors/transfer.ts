/**
 * Transfers of the caller, as zero-length `transfer` markers:
 * - attended: the caller is bridged to a leg its own call did not originate (uuid_bridge after a
 *   consultation, REFER with Replaces), after having talked to someone else;
 * - blind: the caller's leg gets a new caller profile from a `bl_xfer` after having talked to
 *   someone (dialplan routing before any talk is not a transfer), or its partner hung up with
 *   BLIND_TRANSFER / sent a REFER.
 */
import type { Extractor, StoryContext } from './context.js';

function partyOf(ctx: StoryContext, uuid: string | undefined): string | undefined {
  return uuid === undefined ? undefined : ctx.deviceParty(uuid);
}

export const transferExtractor: Extractor = {
  name: 'transfer',
  observe(ev, at, ctx) {
    if (ev.uuid !== ctx.anchor || !ev.name.startsWith('CHANNEL_')) return;
    const leg = ctx.leg(ctx.anchor);
    const index = leg.profileIndex;
    const seen = Number(ctx.facts.get('transfer:profile') ?? 0);
    if (index <= seen) return;
    ctx.facts.set('transfer:profile', index);
    const source = ev.get('Caller-Transfer-Source') ?? ev.get('variable_transfer_source') ?? '';
    const before = ctx.lastPartner.get(ctx.anchor);
    if (seen === 0 || before === undefined || !source.includes('bl_xfer')) return;
    const details: Record<string, string> = { type: 'blind' };
    const by = partyOf(ctx, before);
    if (by !== undefined) details.by = by;
    if (leg.destination !== undefined) details.to = leg.destination;
    ctx.draft.mark('transfer', at, { party: by, legs: [ctx.anchor, before], details });
    ctx.facts.set('transfer:pendingBlind', true);
  },
  partnerChanged(change, ctx) {
    if (change.leg !== ctx.anchor || change.after === undefined) return;
    const before = change.before ?? ctx.lastPartner.get(ctx.anchor);
    if (before === undefined || before === change.after) return;
    if (ctx.roleHint.get(change.after) === 'interceptor') return; // a pickup, not a transfer
    const fromQueue = ctx.roleHint.get(change.after) === 'agent';
    if (fromQueue) return;
    if (ctx.facts.get('transfer:pendingBlind') === true) {
      ctx.facts.delete('transfer:pendingBlind');
      ctx.roleHint.set(change.after, ctx.roleHint.get(change.after) ?? 'transfer_target');
      return;
    }
    const beforeLeg = ctx.legs.get(before);
    const blind =
      ctx.originatedByAnchor(change.after) &&
      (beforeLeg?.referred === true || beforeLeg?.cause === 'BLIND_TRANSFER');
    if (!blind && ctx.originatedByAnchor(change.after)) return;
    const details: Record<string, string> = { type: blind ? 'blind' : 'attended' };
    const by = partyOf(ctx, before);
    if (by !== undefined) details.by = by;
    if (!ctx.roleHint.has(change.after)) ctx.roleHint.set(change.after, 'transfer_target');
    const to = ctx.deviceParty(change.after);
    if (to !== undefined) details.to = to;
    ctx.draft.mark('transfer', change.at, { party: to, legs: [ctx.anchor, before, change.after], details });
  },
};
