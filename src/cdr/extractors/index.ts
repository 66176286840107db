/**
 * cdr/extractors — pattern plug-ins that turn a call's events into the caller's timeline, and the
 * shared context they work on. `defaultExtractors()` is the order the engine runs them in: markers
 * (transfer, pickup, forward) before the talk they lead to.
 */
import { callsExtractor } from './calls.js';
import { conferenceExtractor } from './conference.js';
import { consultExtractor } from './consult.js';
import type { Extractor } from './context.js';
import { faxExtractor } from './fax.js';
import { forwardExtractor } from './forward.js';
import { holdExtractor } from './hold.js';
import { ivrExtractor } from './ivr.js';
import { parkExtractor } from './park.js';
import { pickupExtractor } from './pickup.js';
import { callcenterExtractor } from './queue-callcenter.js';
import { fifoExtractor } from './queue-fifo.js';
import { talkExtractor } from './talk.js';
import { transferExtractor } from './transfer.js';
import { voicemailExtractor } from './voicemail.js';

export { type Extractor, type PartnerChange, SegmentDraft, StoryContext } from './context.js';
export {
  callcenterExtractor,
  callsExtractor,
  conferenceExtractor,
  consultExtractor,
  faxExtractor,
  fifoExtractor,
  forwardExtractor,
  holdExtractor,
  ivrExtractor,
  pickupExtractor,
  talkExtractor,
  transferExtractor,
  voicemailExtractor,
};

/** Every built-in extractor, in the order the engine runs them. */
export function defaultExtractors(): Extractor[] {
  return [
    callsExtractor,
    ivrExtractor,
    callcenterExtractor,
    fifoExtractor,
    pickupExtractor,
    forwardExtractor,
    consultExtractor,
    transferExtractor,
    holdExtractor,
    parkExtractor,
    talkExtractor,
    voicemailExtractor,
    faxExtractor,
    conferenceExtractor,
  ];
}
