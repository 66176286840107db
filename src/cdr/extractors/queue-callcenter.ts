/**
 * mod_callcenter queue: `queue_wait` from member-queue-start (or `callcenter` executed) until an
 * agent is bridged (bridge-agent-start: outcome `answered`, the agent's leg gets the agent role)
 * or member-queue-end with CC-Cause Cancel (outcome `abandoned`, CC-Cancel-Reason kept).
 */
import type { Extractor, StoryContext } from './context.js';
import { cleanValue } from '../router/party-resolver.js';

function openWait(ctx: StoryContext, queue: string, at: number, member: string): void {
  const party = ctx.serviceParty(`queue:${queue}`, 'queue');
  ctx.draft.open('queue', 'queue_wait', at, {
    party,
    legs: [member],
    details: { queue, system: 'callcenter' },
  });
}

export const callcenterExtractor: Extractor = {
  name: 'queue-callcenter',
  observe(ev, at, ctx) {
    if (ev.name === 'CHANNEL_EXECUTE' && ev.uuid === ctx.anchor && ev.get('Application') === 'callcenter') {
      const queue = (ev.get('Application-Data') ?? '').trim().split(/\s+/)[0] ?? '';
      if (queue.length > 0) openWait(ctx, queue, at, ctx.anchor);
      return;
    }
    if (ev.name !== 'callcenter::info') return;
    const action = ev.get('CC-Action');
    const queue = ev.get('CC-Queue') ?? 'unknown';
    const member = ev.get('CC-Member-Session-UUID') ?? ev.uuid ?? ctx.anchor;
    switch (action) {
      case 'member-queue-start':
        openWait(ctx, queue, at, member);
        return;
      case 'bridge-agent-start': {
        if (ev.uuid !== undefined && ev.uuid !== member) ctx.roleHint.set(ev.uuid, 'agent');
        const agent = cleanValue(ev.get('CC-Agent'));
        if (!ctx.draft.isOpen('queue') && ctx.draft.last('queue_wait') === undefined)
          openWait(ctx, queue, at, member);
        // The bridge itself may already have closed the wait (partnerChanged runs first).
        const seg = ctx.draft.close('queue', at, { outcome: 'answered' }) ?? ctx.draft.last('queue_wait');
        if (seg !== undefined && agent !== undefined) seg.details.agent = agent;
        return;
      }
      case 'bridge-agent-fail': {
        const seg = ctx.draft.get('queue');
        if (seg !== undefined) seg.details.attempts = Number(seg.details.attempts ?? 0) + 1;
        return;
      }
      case 'member-queue-end': {
        if (ev.get('CC-Cause') === 'Cancel') {
          const details: Record<string, string> = { outcome: 'abandoned' };
          const reason = ev.get('CC-Cancel-Reason');
          if (reason !== undefined) details.reason = reason;
          if (ctx.draft.close('queue', at, details) !== undefined) ctx.facts.set('queueAbandoned', true);
        } else {
          ctx.draft.close('queue', at, { outcome: 'answered' });
        }
        return;
      }
      default:
        return;
    }
  },
  partnerChanged(change, ctx) {
    // The agent bridge may be all we got (callcenter::info lost): the wait ends there.
    if (change.leg === ctx.anchor && change.after !== undefined) {
      const seg = ctx.draft.close('queue', change.at, { outcome: 'answered' });
      if (seg !== undefined) ctx.roleHint.set(change.after, ctx.roleHint.get(change.after) ?? 'agent');
    }
  },
  finish(ctx) {
    const seg = ctx.draft.get('queue');
    if (seg !== undefined) {
      seg.details.outcome = 'abandoned';
      ctx.facts.set('queueAbandoned', true);
    }
  },
};
