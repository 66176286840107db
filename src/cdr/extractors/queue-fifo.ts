/**
 * mod_fifo queue: `queue_wait` from FIFO-Action push until bridge-caller-start (answered by a
 * consumer, who gets the agent role) or abort (abandoned).
 */
import type { Extractor } from './context.js';

export const fifoExtractor: Extractor = {
  name: 'queue-fifo',
  observe(ev, at, ctx) {
    if (ev.name !== 'fifo::info') return;
    const action = ev.get('FIFO-Action');
    const queue = ev.get('FIFO-Name') ?? 'unknown';
    const caller = ev.uuid ?? ctx.anchor;
    switch (action) {
      case 'push': {
        const party = ctx.serviceParty(`queue:${queue}`, 'queue');
        ctx.draft.open('queue', 'queue_wait', at, {
          party,
          legs: [caller],
          details: { queue, system: 'fifo' },
        });
        return;
      }
      case 'bridge-caller-start':
        ctx.draft.close('queue', at, { outcome: 'answered' });
        return;
      case 'abort':
        if (ctx.draft.close('queue', at, { outcome: 'abandoned' }) !== undefined)
          ctx.facts.set('queueAbandoned', true);
        return;
      case 'bridge-consumer-start':
      case 'consumer_start':
        if (ev.uuid !== undefined && ev.uuid !== ctx.anchor) ctx.roleHint.set(ev.uuid, 'agent');
        return;
      default:
        return;
    }
  },
  partnerChanged(change, ctx) {
    if (change.leg !== ctx.anchor || change.after === undefined) return;
    const seg = ctx.draft.get('queue');
    if (seg?.details.system === 'fifo') {
      ctx.draft.close('queue', change.at, { outcome: 'answered' });
      ctx.roleHint.set(change.after, 'agent');
    }
  },
};
