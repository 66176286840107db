/**
 * Conference: a leg of the call joins (`conference::maintenance` add-member) and leaves
 * (del-member) a conference. Stories meeting in a conference are related by the router, not merged.
 */
import type { Extractor } from './context.js';

export const conferenceExtractor: Extractor = {
  name: 'conference',
  observe(ev, at, ctx) {
    if (ev.name !== 'conference::maintenance' || ev.uuid === undefined) return;
    const action = ev.get('Action');
    const name = ev.get('Conference-Name') ?? ev.get('Conference-Unique-ID') ?? 'unknown';
    const key = `conf:${ev.uuid}:${name}`;
    if (action === 'add-member') {
      const party = ctx.serviceParty(`conference:${name}`, 'conference');
      const details: Record<string, string> = { conference: name };
      const member = ev.get('Member-ID');
      if (member !== undefined) details.member = member;
      ctx.draft.open(key, 'conference', at, { party, legs: [ev.uuid], details });
    } else if (action === 'del-member') {
      ctx.draft.close(key, at);
    }
  },
};
