/**
 * Voicemail: `voicemail <profile> <domain> <box>` on a leg of the call, until EXECUTE_COMPLETE or
 * hangup; `vm::maintenance` leave-message (often after the hangup) adds the message length.
 */
import type { Extractor } from './context.js';

export const voicemailExtractor: Extractor = {
  name: 'voicemail',
  observe(ev, at, ctx) {
    if (ev.name === 'CHANNEL_EXECUTE' && ev.get('Application') === 'voicemail' && ev.uuid !== undefined) {
      const words = (ev.get('Application-Data') ?? '').trim().split(/\s+/);
      const box = words[words.length - 1] || 'unknown';
      const party = ctx.serviceParty(`voicemail:${box}`, 'voicemail');
      ctx.draft.open(`vm:${ev.uuid}`, 'voicemail', at, { party, legs: [ev.uuid], details: { box } });
      return;
    }
    if (
      ev.name === 'CHANNEL_EXECUTE_COMPLETE' &&
      ev.get('Application') === 'voicemail' &&
      ev.uuid !== undefined
    ) {
      ctx.draft.close(`vm:${ev.uuid}`, at);
      return;
    }
    if (ev.uuid !== undefined && ev.name === 'CHANNEL_HANGUP') {
      ctx.draft.close(`vm:${ev.uuid}`, at);
      return;
    }
    if (ev.name !== 'vm::maintenance' || ev.get('VM-Action') !== 'leave-message') return;
    const seconds = Number(ev.get('VM-Message-Len') ?? '0');
    let seg = ctx.draft.last('voicemail');
    if (seg === undefined) {
      // The voicemail app event was lost: the message tells when it started.
      const box = ev.get('VM-User') ?? 'unknown';
      const party = ctx.serviceParty(`voicemail:${box}`, 'voicemail');
      const start = at - (Number.isFinite(seconds) ? seconds : 0) * 1_000_000;
      seg = ctx.draft.open(`vm:lost`, 'voicemail', start, { party, legs: [], details: { box } });
      ctx.draft.close('vm:lost', at);
      ctx.anomalies.add('voicemail segment inferred from vm::maintenance');
    }
    if (seg !== undefined) {
      seg.details.message = true;
      if (Number.isFinite(seconds)) seg.details.messageS = seconds;
    }
    ctx.facts.set('voicemailLeft', true);
  },
};
