/**
 * Park: the caller held by the switch in a parking lot, not by a phone — `valet_park <lot> <slot>`
 * (mod_valet_parking; `auto in …`/`ask …` pick the slot, told by `valet_parking::info` Action `hold`)
 * or `park` (switch_ivr_park) on the caller's answered leg. One `park` segment from the park until:
 * - someone retrieves the call (the caller is bridged again: `valet_parking::info` Action `bridge`
 *   with `Bridge-To-UUID`, or any bridge of the caller leg) → `outcome: retrieved`, `retrievedBy`;
 * - the caller hangs up in the lot → `outcome: abandoned`;
 * - the caller leaves the lot otherwise (`#` in valet_park, `exit`, CHANNEL_UNPARK, the app
 *   completing) and the call goes on → `outcome: left`.
 * `party` and `details.by` name who parked the call (the caller's last partner, e.g. the extension
 * that blind-transferred it to the lot); `details.lot`/`details.slot` when known.
 * The switch ends the park app (valet `exit`, EXECUTE_COMPLETE, UNPARK) just before it bridges the
 * retriever or after it saw the hangup, so an outcome event within {@link SETTLE_US} of the park's
 * end still decides it. A `park` before the caller's leg was answered is call-control plumbing
 * (an ESL application holding the call while it decides), not a parked call, and is ignored.
 */
import type { SwitchEvent } from '../input/index.js';
import type { DetailValue, Micros, Segment } from '../story.js';
import type { Extractor, StoryContext } from './context.js';

const KEY = 'park';
/** How long after the park app ended a bridge or hangup of the caller still settles the outcome. */
export const SETTLE_US = 5_000_000;
const PARK_APPS = new Set(['valet_park', 'park']);
/** `valet_park` slot arguments that are not a slot number. */
const SLOT_MODES = new Set(['auto', 'ask']);

function openPark(ctx: StoryContext, at: Micros, details: Record<string, DetailValue>): void {
  const open = ctx.draft.get(KEY);
  if (open !== undefined) {
    // The app event and the valet `hold` event both open: the later one adds the slot it learnt.
    for (const [k, v] of Object.entries(details)) open.details[k] ??= v;
    return;
  }
  const parker = ctx.anchorPartner ?? ctx.lastPartner.get(ctx.anchor);
  const by = parker === undefined ? undefined : ctx.deviceParty(parker);
  const init: Record<string, DetailValue> = { ...details };
  if (by !== undefined) init.by = by;
  ctx.draft.open(KEY, 'park', at, { party: by, legs: [ctx.anchor], details: init });
}

/** The park segment an outcome at `at` still belongs to: open, or ended by the app just before. */
function unsettled(ctx: StoryContext, at: Micros): Segment | undefined {
  const seg = ctx.draft.last('park');
  if (seg === undefined || seg.details.outcome !== undefined) return undefined;
  if (ctx.draft.isOpen(KEY)) return seg;
  return at - seg.end <= SETTLE_US ? seg : undefined;
}

function settle(
  ctx: StoryContext,
  at: Micros,
  outcome: string,
  extra: Record<string, DetailValue> = {},
): void {
  const seg = unsettled(ctx, at);
  if (seg === undefined) return;
  ctx.draft.close(KEY, at);
  Object.assign(seg.details, { outcome, ...extra });
}

function retrieved(ctx: StoryContext, at: Micros, retriever: string | undefined): void {
  const extra: Record<string, DetailValue> = {};
  if (unsettled(ctx, at) === undefined) return;
  // The retriever's role is its own (a device seen before, e.g. the one that parked, keeps its role).
  if (retriever !== undefined) ctx.roleHint.set(retriever, 'retriever');
  const party = retriever === undefined ? undefined : ctx.deviceParty(retriever);
  if (party !== undefined) extra.retrievedBy = party;
  settle(ctx, at, 'retrieved', extra);
}

function valetInfo(ev: SwitchEvent, at: Micros, ctx: StoryContext): void {
  const lot = ev.get('Valet-Lot-Name');
  const slot = ev.get('Valet-Extension');
  switch (ev.get('Action')) {
    case 'hold': {
      const details: Record<string, DetailValue> = { app: 'valet_park' };
      if (lot !== undefined) details.lot = lot;
      if (slot !== undefined) details.slot = slot;
      openPark(ctx, at, details);
      return;
    }
    case 'bridge':
      retrieved(ctx, at, ev.get('Bridge-To-UUID'));
      return;
    case 'exit':
      ctx.draft.close(KEY, at);
      return;
    default:
      return;
  }
}

export const parkExtractor: Extractor = {
  name: 'park',
  observe(ev, at, ctx) {
    if (ev.uuid !== ctx.anchor) return;
    switch (ev.name) {
      case 'valet_parking::info':
        valetInfo(ev, at, ctx);
        return;
      case 'CHANNEL_EXECUTE': {
        const app = ev.get('Application') ?? '';
        if (!PARK_APPS.has(app)) return;
        if (app === 'park' && ctx.leg(ctx.anchor).answeredAt === undefined) return;
        const details: Record<string, DetailValue> = { app };
        const [lot, slot] = (ev.get('Application-Data') ?? '').trim().split(/\s+/);
        if (app === 'valet_park' && lot !== undefined && lot.length > 0) details.lot = lot;
        if (app === 'valet_park' && slot !== undefined && !SLOT_MODES.has(slot.toLowerCase()))
          details.slot = slot;
        openPark(ctx, at, details);
        return;
      }
      case 'CHANNEL_EXECUTE_COMPLETE':
        if (PARK_APPS.has(ev.get('Application') ?? '')) ctx.draft.close(KEY, at);
        return;
      case 'CHANNEL_UNPARK':
        ctx.draft.close(KEY, at);
        return;
      case 'CHANNEL_HANGUP':
      case 'CHANNEL_HANGUP_COMPLETE':
      case 'CHANNEL_DESTROY':
        settle(ctx, ctx.leg(ctx.anchor).endedAt ?? at, 'abandoned');
        return;
      default:
        return;
    }
  },
  partnerChanged(change, ctx) {
    if (change.leg !== ctx.anchor || change.after === undefined) return;
    retrieved(ctx, change.at, change.after);
  },
  finish(ctx) {
    const seg = ctx.draft.last('park');
    // Still parked when the story was finalised (by timeout): no outcome to tell.
    if (seg === undefined || seg.details.outcome !== undefined || ctx.draft.isOpen(KEY)) return;
    seg.details.outcome = 'left';
  },
};
