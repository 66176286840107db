/**
 * Bridging methods: Bridge (ring a b-leg and bridge it; blocks for the bridge's lifetime, with
 * flow_control and continue_on_fail), ChannelBridge (two existing legs; returns when the bridge ends),
 * ChannelBridge2 (returns at once), UnBridge.
 *
 * How a blocking bridge answers: the other leg hung up, or UnBridge → 200 (`cause` SUCCESS, `peer_uuid`);
 * this leg hung up or Stop → 410. A failed b-leg → 480 "call failed: CAUSE" like Dial (decision 12).
 */
import { Cause, Code } from '../protocol/codes.js';
import type { ResultObject } from '../rpc/types.js';
import { type BridgeLink, Channel, type FlowControl, type RunningOp } from './channel.js';
import type { HandlerMap } from './handlers.js';
import { placeDestination, planDestination } from './originate.js';
import { num, obj, type Params, str } from './params.js';
import { gone, interruption, ok, result } from './results.js';
import type { NodeRuntime } from './runtime.js';

const FLOWS: readonly FlowControl[] = ['NONE', 'CALLER', 'CALLEE', 'ANY'];

/** flow_control as a name; names or 0..3 (decision 10). Absent → NONE. */
export function flowControl(raw: unknown): FlowControl | undefined {
  if (raw === undefined || raw === null) return 'NONE';
  if (typeof raw === 'number') return FLOWS[raw];
  return FLOWS.find((f) => f === raw);
}

/** continue_on_fail: "true" (default) keeps the a-leg, "false" hangs it up, a list continues on those causes. */
export function continuesOnFail(raw: unknown, cause: string): boolean {
  if (raw === undefined || raw === null || raw === true || raw === 'true' || raw === '') return true;
  if (raw === false || raw === 'false') return false;
  if (typeof raw !== 'string') return true;
  return raw
    .split(',')
    .map((c) => c.trim())
    .includes(cause);
}

export function bridgeHandlers(rt: NodeRuntime): HandlerMap {
  const node = rt.nodeUuid;

  /** The channel must be free for a bridge: not bridged, not in a conference, no bridge API running. */
  const busy = (ch: Channel, what = 'params.uuid'): ResultObject | undefined => {
    if (ch.link) return rt.bad(`${what}: already bridged`, ch.uuid);
    if (ch.conference !== undefined) return rt.bad(`${what}: in conference ${ch.conference}`, ch.uuid);
    if (ch.controlOp) return rt.bad(`${what}: busy, ${ch.controlOp.method} running`, ch.uuid);
    return undefined;
  };

  /** Waits for the bridge to end (or the op to be interrupted) and answers as the file header says. */
  const awaitBridge = async (ch: Channel, link: BridgeLink, op: RunningOp): Promise<ResultObject> => {
    const signal = op.controller.signal;
    const onAbort = (): void => rt.unbridge(link, { kind: 'interrupted', reason: interruption(signal) });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const end = await link.done;
    signal.removeEventListener('abort', onAbort);
    const peer = link.caller === ch ? link.callee : link.caller;
    switch (end.kind) {
      case 'hangup':
        if (end.leg === ch)
          return result(Code.Gone, `interrupted: channel hung up (${end.cause})`, node, ch.uuid);
        return ok(node, ch.uuid, { cause: Cause.Success, peer_uuid: peer.uuid, peer_cause: end.cause });
      case 'unbridge':
        return ok(node, ch.uuid, { cause: Cause.Success, peer_uuid: peer.uuid });
      case 'interrupted':
        return result(Code.Gone, end.reason.message, node, ch.uuid);
    }
  };

  /** Answers an inbound leg that is not answered yet (a bridge or conference answers the caller). */
  const answerInbound = (ch: Channel): void => {
    if (ch.direction === 'inbound') rt.answer(ch);
  };

  /** ChannelBridge/ChannelBridge2: checks both legs, waits bridge_delay, bridges. */
  const joinLegs = async (
    params: Params,
    method: string,
  ): Promise<{ ch: Channel; link: BridgeLink; op: RunningOp } | ResultObject> => {
    const ch = rt.channelFor(params);
    if (!(ch instanceof Channel)) return ch;
    const peerUuid = str(params, 'peer_uuid');
    if (!peerUuid) return rt.bad('params.peer_uuid: required', ch.uuid);
    if (peerUuid === ch.uuid) return rt.bad('params.peer_uuid: cannot bridge a channel to itself', ch.uuid);
    const flow = flowControl(params.flow_control);
    if (!flow) return rt.bad('params.flow_control: expected NONE, CALLER, CALLEE, ANY or 0..3', ch.uuid);
    const peer = rt.channels.get(peerUuid);
    if (!peer?.alive)
      return result(Code.NotFound, 'cannot locate session by uuid (peer_uuid)', node, ch.uuid, {
        peer_uuid: peerUuid,
      });
    if (peer.owner === undefined) return rt.bad('params.peer_uuid: accept first', ch.uuid);
    const problem = busy(ch) ?? busy(peer, 'params.peer_uuid');
    if (problem) return problem;
    const op = ch.beginControlOp(method);
    const delay = num(params, 'bridge_delay') ?? 0;
    if (delay > 0) {
      try {
        await rt.clock.sleep(delay, op.controller.signal);
      } catch {
        ch.endOp(op);
        return gone(node, ch.uuid, op.controller.signal);
      }
      if (!peer.alive) {
        ch.endOp(op);
        return result(Code.NotFound, 'cannot locate session by uuid (peer_uuid)', node, ch.uuid, {
          peer_uuid: peerUuid,
        });
      }
      const late = busy(peer, 'params.peer_uuid');
      if (late) {
        ch.endOp(op);
        return late;
      }
    }
    answerInbound(ch);
    answerInbound(peer);
    return { ch, link: rt.bridge(ch, peer, flow), op };
  };

  return {
    'XNode.Bridge': async (params, ctx) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      const problem = busy(ch);
      if (problem) return problem;
      const flow = flowControl(params.flow_control);
      if (!flow) return rt.bad('params.flow_control: expected NONE, CALLER, CALLEE, ANY or 0..3', ch.uuid);
      const plan = planDestination(rt, obj(params, 'destination'), 'params.destination');
      if (typeof plan === 'string') return rt.bad(plan, ch.uuid);
      const owner = ch.owner ?? ctx.ctrlUuid ?? '';
      const op = ch.beginControlOp('XNode.Bridge');
      try {
        const outcome = await placeDestination(rt, plan, {
          owner,
          emitReady: false,
          signal: op.controller.signal,
        });
        if (op.controller.signal.aborted) {
          if (outcome.ok) rt.hangup(outcome.channel, Cause.OriginatorCancel);
          return gone(node, ch.uuid, op.controller.signal);
        }
        if (!outcome.ok) {
          if (!continuesOnFail(params.continue_on_fail, outcome.cause)) rt.hangup(ch, outcome.cause);
          return result(480, `call failed: ${outcome.cause}`, node, ch.uuid, {
            cause: outcome.cause,
            peer_uuid: outcome.uuid,
          });
        }
        const b = outcome.channel;
        if (b.answered) answerInbound(ch);
        return await awaitBridge(ch, rt.bridge(ch, b, flow), op);
      } finally {
        ch.endOp(op);
      }
    },

    'XNode.ChannelBridge': async (params) => {
      const joined = await joinLegs(params, 'XNode.ChannelBridge');
      if ('code' in joined) return joined;
      try {
        return await awaitBridge(joined.ch, joined.link, joined.op);
      } finally {
        joined.ch.endOp(joined.op);
      }
    },

    'XNode.ChannelBridge2': async (params) => {
      const joined = await joinLegs(params, 'XNode.ChannelBridge2');
      if ('code' in joined) return joined;
      // Returns at once: the bridge lives on without a running API (UnBridge or a hangup ends it).
      joined.ch.endOp(joined.op);
      return ok(node, joined.ch.uuid, { peer_uuid: joined.link.callee.uuid });
    },

    'XNode.UnBridge': async (params) => {
      const ch = rt.channelFor(params);
      if (!(ch instanceof Channel)) return ch;
      if (!ch.link) return rt.bad('the channel is not bridged', ch.uuid);
      rt.unbridge(ch.link, { kind: 'unbridge' });
      return ok(node, ch.uuid);
    },
  };
}
