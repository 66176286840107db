/**
 * Call-control methods: Accept, Answer (takeover, 419 conflicts), Ring, Hangup (cause, flag, data),
 * Dial (sync, or `sync:false` → 202 + Event.DialResult), GetState, Shutdown, SimCall.
 */
import { Cause, Code } from '../protocol/codes.js';
import type { ResultObject, RpcContext } from '../rpc/types.js';
import { Channel } from './channel.js';
import type { HandlerMap, NodeHooks } from './handlers.js';
import type { CallerStep, InboundOffer } from './media.js';
import { type LegOutcome, placeDestination, planDestination } from './originate.js';
import { bool, list, obj, type Params, str, stringMap, strings } from './params.js';
import { NOT_IMPLEMENTED, ok, result } from './results.js';
import type { NodeRuntime } from './runtime.js';

export function callControlHandlers(rt: NodeRuntime, hooks: NodeHooks): HandlerMap {
  const node = rt.nodeUuid;

  /** Accept/Answer's shared part: take the channel over (or answer 419) and merge channel_params. */
  const takeOver = (params: Params, ctx: RpcContext): Channel | ResultObject => {
    const ctrl = rt.ctrlOf(ctx, params);
    if (typeof ctrl !== 'string') return ctrl;
    const ch = rt.channelFor(params, { owned: false });
    if (!(ch instanceof Channel)) return ch;
    if (ch.owner !== undefined && ch.owner !== ctrl) {
      if (bool(params, 'takeover') !== true) {
        return result(
          Code.Conflict,
          'conflict: the channel is controlled by another controller (use takeover)',
          node,
          ch.uuid,
        );
      }
      rt.logger.info({ uuid: ch.uuid, from: ch.owner, to: ctrl }, 'channel taken over');
    }
    ch.owner = ctrl;
    rt.cancelTimer(ch, ch.takeoverTimer);
    ch.takeoverTimer = undefined;
    ch.subscribe(strings(params, 'channel_params'));
    return ch;
  };

  return {
    'XNode.Accept': async (params, ctx) => {
      const ch = takeOver(params, ctx);
      return ch instanceof Channel ? ok(node, ch.uuid) : ch;
    },

    'XNode.Answer': async (params, ctx) => {
      const ch = takeOver(params, ctx);
      if (!(ch instanceof Channel)) return ch;
      if (ch.direction === 'outbound' && !ch.answered) {
        return rt.bad('cannot answer an outbound leg: the far end answers it', ch.uuid);
      }
      rt.answer(ch);
      return ok(node, ch.uuid);
    },

    // Docs-only extra: ring_ready. Gives the inbound path START → RINGING → ANSWERED (reference §7.1).
    'XNode.Ring': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      if (ch.direction !== 'inbound') return rt.bad('Ring applies to inbound channels', ch.uuid);
      if (ch.answered) return rt.bad('channel already answered', ch.uuid);
      if (ch.ringAt === undefined) {
        ch.ringAt = rt.clock.now();
        rt.emitChannel(ch, 'RINGING');
      }
      return ok(node, ch.uuid);
    },

    'XNode.Hangup': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      const flag = hangupFlag(params.flag);
      if (flag === undefined) return rt.bad('params.flag: expected SELF, PEER, BOTH or 0, 1, 2', ch.uuid);
      const cause = str(params, 'cause') || Cause.NormalClearing;
      const link = ch.link;
      const peer = link ? (link.caller === ch ? link.callee : link.caller) : undefined;
      if (flag === 'PEER' && !peer) return rt.bad('flag PEER: the channel is not bridged', ch.uuid);
      const targets = flag === 'SELF' ? [ch] : flag === 'PEER' ? [peer as Channel] : peer ? [ch, peer] : [ch];
      const data = stringMap(params, 'data');
      for (const t of targets) for (const [k, v] of Object.entries(data)) t.setVariable(k, v);
      for (const t of targets) rt.hangup(t, cause);
      return ok(node, ch.uuid);
    },

    'XNode.Dial': async (params, ctx) => {
      if (hooks.shuttingDown) return result(Code.ShuttingDown, 'node shutting down', node, undefined);
      const ctrl = rt.ctrlOf(ctx, params);
      if (typeof ctrl !== 'string') return ctrl;
      if ((list(params, 'apps') ?? []).length > 0)
        return result(Code.NotImplemented, `Dial apps: ${NOT_IMPLEMENTED}`, node, undefined);
      const plan = planDestination(rt, obj(params, 'destination'), 'params.destination');
      if (typeof plan === 'string') return rt.bad(plan);
      if (bool(params, 'sync') === false) {
        // Protocol decision 4: 202 now, Event.DialResult to the dialling controller later.
        // Without a request id there is nothing to correlate the result with (decision 3): only events.
        const placing = placeDestination(rt, plan, { owner: ctrl, emitReady: true });
        const id = ctx.id;
        rt.track(
          placing.then((outcome) => {
            if (id !== undefined)
              rt.publish(rt.subjects.ctrlOf(ctrl), 'Event.DialResult', { id, ...dialResult(node, outcome) });
          }),
        );
        return result(Code.Accepted, 'Accepted', node, plan.legs[0]?.uuid);
      }
      const outcome = await placeDestination(rt, plan, { owner: ctrl, emitReady: true, signal: ctx.signal });
      return dialResult(node, outcome);
    },

    'XNode.GetState': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      return ok(node, ch.uuid, stateOf(ch));
    },

    'XNode.Shutdown': async (params) => {
      const target = str(params, 'node_uuid');
      if (target !== undefined && target !== '' && target !== node)
        return rt.bad(`params.node_uuid: this is node ${node}`);
      hooks.beginShutdown();
      return ok(node, undefined);
    },

    'XNode.SimCall': async (params) => {
      if (hooks.shuttingDown) return result(Code.ShuttingDown, 'node shutting down', node, undefined);
      const offer: InboundOffer = {
        cid_name: str(params, 'cid_name') ?? str(params, 'cid_number') ?? '',
        cid_number: str(params, 'cid_number') ?? '',
        dest_number: str(params, 'dest_number') ?? '',
        variables: stringMap(params, 'variables'),
      };
      const domain = str(params, 'domain');
      const context = str(params, 'context');
      const subject = str(params, 'subject');
      const script = list(params, 'script');
      if (domain !== undefined) offer.domain = domain;
      if (context !== undefined) offer.context = context;
      if (subject !== undefined) offer.subject = subject;
      if (script !== undefined) offer.script = script as CallerStep[];
      try {
        return ok(node, hooks.inject(offer));
      } catch (err) {
        const code =
          (err as { code?: unknown }).code === Code.ShuttingDown ? Code.ShuttingDown : Code.BadRequest;
        return result(code, (err as Error).message, node, undefined);
      }
    },
  };
}

/** Protocol decision 12: 200/SUCCESS with the winning leg, or 480 "call failed: CAUSE". */
export function dialResult(node: string, outcome: LegOutcome): ResultObject {
  if (outcome.ok) return ok(node, outcome.channel.uuid, { cause: Cause.Success });
  return result(480, `call failed: ${outcome.cause}`, node, outcome.uuid, { cause: outcome.cause });
}

/** Hangup.flag as a name; numbers 0/1/2 and names both work (decision 10). Absent → SELF. */
export function hangupFlag(raw: unknown): 'SELF' | 'PEER' | 'BOTH' | undefined {
  if (raw === undefined || raw === null) return 'SELF';
  const names = ['SELF', 'PEER', 'BOTH'] as const;
  if (typeof raw === 'number') return names[raw];
  return names.find((n) => n === raw);
}

/** GetState's fields, FreeSWITCH-flavoured, plus our last emitted `state`. */
function stateOf(ch: Channel): Record<string, unknown> {
  const bridged = ch.link !== undefined;
  const up = ch.answered || ch.mediaUp;
  return {
    state: ch.state,
    channel_state: bridged
      ? 'CS_EXCHANGE_MEDIA'
      : ch.direction === 'outbound' && !up
        ? 'CS_CONSUME_MEDIA'
        : 'CS_EXECUTE',
    call_state: ch.held
      ? 'HELD'
      : ch.answered
        ? 'ACTIVE'
        : ch.mediaUp
          ? 'EARLY'
          : ch.ringAt !== undefined
            ? 'RINGING'
            : 'DOWN',
    answer_state: ch.answered ? 'answered' : ch.mediaUp ? 'early' : 'ringing',
    bridged,
    answered: ch.answered,
    held: ch.held,
    video: false,
    video_ready: false,
    controlled: ch.owner !== undefined,
    ready: ch.direction === 'inbound' || ch.ready,
    up,
  };
}
