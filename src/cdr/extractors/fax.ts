/**
 * Fax: `rxfax`/`txfax` on a leg of the call until spandsp's rx/txfaxresult (pages, success,
 * result text; spandsp headers are lower-case).
 */
import type { Extractor } from './context.js';

export const faxExtractor: Extractor = {
  name: 'fax',
  observe(ev, at, ctx) {
    if (ev.name === 'CHANNEL_EXECUTE' && ev.uuid !== undefined) {
      const app = ev.get('Application');
      if (app === 'rxfax' || app === 'txfax') {
        const party = ctx.serviceParty(app === 'rxfax' ? 'fax:rx' : 'fax:tx', 'fax');
        ctx.draft.open(`fax:${ev.uuid}`, 'fax', at, {
          party,
          legs: [ev.uuid],
          details: { direction: app === 'rxfax' ? 'received' : 'sent' },
        });
      }
      return;
    }
    if (ev.name !== 'spandsp::rxfaxresult' && ev.name !== 'spandsp::txfaxresult') return;
    const leg = ev.get('uuid') ?? ev.uuid ?? ctx.anchor;
    const key = `fax:${leg}`;
    if (!ctx.draft.isOpen(key) && ctx.draft.last('fax') === undefined) {
      const rx = ev.name === 'spandsp::rxfaxresult';
      ctx.draft.open(key, 'fax', at, {
        party: ctx.serviceParty(rx ? 'fax:rx' : 'fax:tx', 'fax'),
        legs: [leg],
        details: { direction: rx ? 'received' : 'sent' },
      });
    }
    const success = ev.get('fax-success') === '1';
    const details: Record<string, string | number | boolean> = { success };
    const pages = Number(ev.get('fax-document-transferred-pages') ?? 'NaN');
    if (Number.isFinite(pages)) details.pages = pages;
    const text = ev.get('fax-result-text');
    if (text !== undefined) details.result = text;
    const seg = ctx.draft.close(key, at, details) ?? ctx.draft.last('fax');
    if (seg !== undefined) Object.assign(seg.details, details);
    if (success) ctx.facts.set('faxReceived', true);
  },
};
