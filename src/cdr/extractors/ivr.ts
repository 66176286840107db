/**
 * IVR: an `ivr` menu (or `play_and_get_digits`/`read`) on the caller's leg, with the digits pressed
 * while in it as `details.choices`. Ends at EXECUTE_COMPLETE, when the caller moves on (queue,
 * bridge, voicemail, fax, conference) or is bridged.
 */
import type { Extractor } from './context.js';

const IVR_APPS = new Set(['ivr', 'play_and_get_digits', 'read']);
const MOVE_ON = new Set(['callcenter', 'fifo', 'bridge', 'voicemail', 'rxfax', 'conference', 'transfer']);

export const ivrExtractor: Extractor = {
  name: 'ivr',
  observe(ev, at, ctx) {
    if (ev.uuid !== ctx.anchor) return;
    switch (ev.name) {
      case 'CHANNEL_EXECUTE': {
        const app = ev.get('Application') ?? '';
        if (IVR_APPS.has(app)) {
          const data = (ev.get('Application-Data') ?? '').trim();
          const menu = app === 'ivr' && data.length > 0 ? (data.split(/\s+/)[0] ?? app) : app;
          const party = ctx.serviceParty(`ivr:${menu}`, 'ivr');
          ctx.draft.open('ivr', 'ivr', at, { party, legs: [ctx.anchor], details: { menu, choices: '' } });
        } else if (MOVE_ON.has(app)) {
          ctx.draft.close('ivr', at);
        }
        return;
      }
      case 'CHANNEL_EXECUTE_COMPLETE':
        if (IVR_APPS.has(ev.get('Application') ?? '')) ctx.draft.close('ivr', at);
        return;
      case 'DTMF': {
        const seg = ctx.draft.get('ivr');
        const digit = ev.get('DTMF-Digit');
        if (seg !== undefined && digit !== undefined && /^[0-9*#A-D]$/.test(digit)) {
          seg.details.choices = String(seg.details.choices ?? '') + digit;
        }
        return;
      }
      default:
        return;
    }
  },
  partnerChanged(change, ctx) {
    if (change.leg === ctx.anchor && change.after !== undefined) ctx.draft.close('ivr', change.at);
  },
};
