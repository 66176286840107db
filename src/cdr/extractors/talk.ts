/**
 * Talk: the caller talking to whoever the anchor leg is bridged to — `agent_talk` when that leg is a
 * queue agent (callcenter `cc_side=agent`, fifo consumer), `talk` otherwise. Ends at unbridge,
 * hangup, or hold (and resumes after unhold).
 */
import type { Extractor, StoryContext } from './context.js';

function isAgentLeg(ctx: StoryContext, uuid: string): boolean {
  const leg = ctx.legs.get(uuid);
  return leg?.ccSide === 'agent' || leg?.fifoRole === 'consumer' || ctx.roleHint.get(uuid) === 'agent';
}

function openTalk(ctx: StoryContext, partner: string, at: number): void {
  const agent = isAgentLeg(ctx, partner);
  const party = ctx.deviceParty(partner, agent ? 'agent' : undefined);
  ctx.draft.open('talk', agent ? 'agent_talk' : 'talk', at, { party, legs: [ctx.anchor, partner] });
}

const HOLD_EVENTS = new Set(['CHANNEL_HOLD', 'CHANNEL_UNHOLD', 'CHANNEL_CALLSTATE']);

export const talkExtractor: Extractor = {
  name: 'talk',
  partnerChanged(change, ctx) {
    if (change.leg !== ctx.anchor) return;
    ctx.draft.close('talk', change.at);
    if (change.after !== undefined) openTalk(ctx, change.after, change.at);
  },
  observe(ev, at, ctx) {
    if (!HOLD_EVENTS.has(ev.name)) return;
    const partner = ctx.anchorPartner;
    if (partner === undefined || (ev.uuid !== ctx.anchor && ev.uuid !== partner)) return;
    const held = ctx.legs.get(ctx.anchor)?.held === true || ctx.legs.get(partner)?.held === true;
    if (held) ctx.draft.close('talk', at);
    else openTalk(ctx, partner, at);
  },
};
