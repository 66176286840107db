/**
 * End-to-end scenarios at wire level: raw JSON-RPC against a real XNode + SimMedia, asserting raw
 * events. Each `describe.each` runs on MemoryBus + VirtualClock and, where the brief marks (N), also on
 * a real nats-server with the real clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BOTH,
  encodeJson,
  isChannelEvent,
  MEMORY_ONLY,
  type makeWorld,
  openWireWorld,
  paramsOf,
  rawRequest,
  resultOf,
  type Transport,
  type World,
} from './support/fixtures.js';

const CTRL = 'wire-ctrl';
let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Opens a world with no SDK controller and taps on every xswitch subject. */
async function wireWorld(transport: Transport, options: Parameters<typeof makeWorld>[1] = {}) {
  const { w, all, mine, nodeSubject } = await openWireWorld(transport, CTRL, options);
  world = w;
  const call = (method: string, params: Record<string, unknown>, ctrl = CTRL, timeoutMs = w.waitMs) =>
    rawRequest(w.probe, nodeSubject, method, { ctrl_uuid: ctrl, ...params }, timeoutMs).then(resultOf);
  return { w, all, mine, nodeSubject, call };
}

/** Inbound §7.1 paths accepted by the reference. */
const INBOUND_ANSWER_PATHS = [
  ['START', 'ANSWERED', 'DESTROY'],
  ['START', 'RINGING', 'ANSWERED', 'DESTROY'],
];

describe.each(BOTH)('§7.1 state sequences event by event (%s)', (transport) => {
  it('inbound: START → (RINGING →) ANSWERED → DESTROY, START on the ctrl queue subject, the rest on the ctrl own subject, CDR before DESTROY', async () => {
    const { w, all, mine, call } = await wireWorld(transport);
    const uuid = w.inject({});
    const start = await all.channelState(uuid, 'START', w.waitMs);
    expect(start).toMatchObject({ direction: 'inbound', node_uuid: w.node.uuid, uuid, dest_number: '1000' });
    expect(all.seen.find((s) => isChannelEvent(s.json, uuid, 'START'))?.subject).toBe(w.subjects.ctrl);

    expect(await call('XNode.Answer', { uuid })).toMatchObject({ code: 200, uuid });
    const answered = await mine.channelState(uuid, 'ANSWERED', w.waitMs);
    expect(answered.answered).toBe(true);

    expect(await call('XNode.Hangup', { uuid, cause: 'NORMAL_CLEARING' })).toMatchObject({ code: 200 });
    const destroy = await mine.channelState(uuid, 'DESTROY', w.waitMs);
    expect(destroy.cause).toBe('NORMAL_CLEARING');

    expect(INBOUND_ANSWER_PATHS).toContainEqual(all.states(uuid));
    // Everything after START went to our own subject.
    expect(mine.states(uuid)).toEqual(all.states(uuid).slice(1));
    // Event.CDR on the CDR subject, published before DESTROY.
    const order = all.seen.map((s) =>
      s.json?.method === 'Event.CDR' && paramsOf(s.json).uuid === uuid
        ? 'CDR'
        : isChannelEvent(s.json, uuid, 'DESTROY')
          ? 'DESTROY'
          : undefined,
    );
    expect(order.filter(Boolean)).toEqual(['CDR', 'DESTROY']);
    const cdr = all.seen.find((s) => s.json?.method === 'Event.CDR' && paramsOf(s.json).uuid === uuid);
    expect(cdr?.subject).toBe(w.subjects.cdr);
    expect(paramsOf(cdr?.json).cdr).toMatchObject({ hangup_cause: 'NORMAL_CLEARING', direction: 'inbound' });
  });

  it('outbound with ignore_early_media false (default): CALLING → RINGING → MEDIA → READY → ANSWERED → DESTROY, Dial answers at READY', async () => {
    const { w, mine, call } = await wireWorld(transport, {
      directory: { '3000': { early_media: true, answer_after_ms: 300 } },
    });
    const uuid = 'leg-early-false';
    const dial = await w.drive(
      call('XNode.Dial', {
        destination: { ringall: false, call_params: [{ uuid, dest_number: '3000', cid_number: '100' }] },
      }),
    );
    expect(dial).toMatchObject({ code: 200, cause: 'SUCCESS', uuid });
    // Dial returned on READY: ANSWERED has not come yet (far end answers 300 ms in).
    expect(mine.states(uuid)).toEqual(['CALLING', 'RINGING', 'MEDIA', 'READY']);
    await w.drive(mine.channelState(uuid, 'ANSWERED', w.waitMs));
    await call('XNode.Hangup', { uuid });
    await w.drive(mine.channelState(uuid, 'DESTROY', w.waitMs));
    expect(mine.states(uuid)).toEqual(['CALLING', 'RINGING', 'MEDIA', 'READY', 'ANSWERED', 'DESTROY']);
  });

  it('outbound with ignore_early_media "true": CALLING → RINGING → ANSWERED → MEDIA → READY → DESTROY', async () => {
    const { w, mine, call } = await wireWorld(transport, {
      directory: { '3001': { early_media: true, answer_after_ms: 300 } },
    });
    const uuid = 'leg-early-true';
    const pending = call('XNode.Dial', {
      destination: {
        global_params: { ignore_early_media: 'true' },
        call_params: [{ uuid, dest_number: '3001', cid_number: '100' }],
      },
    });
    expect(await w.drive(pending)).toMatchObject({ code: 200, cause: 'SUCCESS', uuid });
    await call('XNode.Hangup', { uuid });
    await w.drive(mine.channelState(uuid, 'DESTROY', w.waitMs));
    expect(mine.states(uuid)).toEqual(['CALLING', 'RINGING', 'ANSWERED', 'MEDIA', 'READY', 'DESTROY']);
  });

  it('bridge: both legs get BRIDGE/UNBRIDGE with peer_uuid, the b-leg gets no READY, Bridge answers when the bridge ends', async () => {
    const { w, all, mine, call } = await wireWorld(transport, {
      // The callee answers after 200 ms and hangs up 300 ms later.
      directory: { '4000': { answer_after_ms: 200, script: [{ wait: 300 }, { hangup: {} }] } },
    });
    const a = w.inject({});
    await w.drive(all.channelState(a, 'START', w.waitMs));
    await call('XNode.Answer', { uuid: a });
    const b = 'b-leg-1';
    const bridged = call(
      'XNode.Bridge',
      { uuid: a, flow_control: 'NONE', destination: { call_params: [{ uuid: b, dest_number: '4000' }] } },
      CTRL,
      w.waitMs * 2,
    );
    const result = await w.drive(bridged);
    expect(result).toMatchObject({ code: 200, uuid: a });
    await w.drive(mine.channelState(b, 'DESTROY', w.waitMs));
    await w.drive(mine.channelState(a, 'UNBRIDGE', w.waitMs));

    const bStates = mine.states(b);
    expect(bStates[0]).toBe('CALLING');
    expect(bStates).not.toContain('READY');
    expect(bStates.indexOf('BRIDGE')).toBeGreaterThan(0);
    expect(bStates.indexOf('UNBRIDGE')).toBeGreaterThan(bStates.indexOf('BRIDGE'));
    expect(bStates.at(-1)).toBe('DESTROY');
    const aStates = mine.states(a);
    expect(aStates).toEqual(['ANSWERED', 'BRIDGE', 'UNBRIDGE']);
    const aBridge = mine.events('Event.Channel', a).find((e) => paramsOf(e).state === 'BRIDGE');
    const bBridge = mine.events('Event.Channel', b).find((e) => paramsOf(e).state === 'BRIDGE');
    expect(paramsOf(aBridge).peer_uuid).toBe(b);
    expect(paramsOf(bBridge).peer_uuid).toBe(a);
    // flow_control NONE: the a-leg survives the b-leg's hangup.
    expect(await call('XNode.GetState', { uuid: a })).toMatchObject({ code: 200 });
    await call('XNode.Hangup', { uuid: a });
  });
});

describe.each(MEMORY_ONLY)('seed 002: the 10 s takeover rule in virtual time (%s)', (transport) => {
  it('seed 002: a call not taken over within 10 s is hung up — not before', async () => {
    const { w, all } = await wireWorld(transport);
    const uuid = w.inject({});
    await w.settle();
    expect(all.states(uuid)).toEqual(['START']);
    await w.advance(9_999);
    expect(all.states(uuid)).not.toContain('DESTROY');
    expect(w.node.channelCount).toBe(1);
    await w.advance(1);
    await w.settle();
    expect(all.states(uuid)).toEqual(['START', 'DESTROY']);
    const destroy = all.events('Event.Channel', uuid).at(-1);
    expect(typeof paramsOf(destroy).cause).toBe('string');
    expect(w.node.channelCount).toBe(0);
  });

  it('seed 002: an Accept at 9.9 s keeps the call alive past 10 s', async () => {
    const { w, all, call } = await wireWorld(transport);
    const uuid = w.inject({});
    await w.advance(9_900);
    expect(await call('XNode.Accept', { uuid })).toMatchObject({ code: 200 });
    await w.advance(60_000);
    expect(all.states(uuid)).not.toContain('DESTROY');
    await call('XNode.Hangup', { uuid });
    await w.settle();
    expect(all.states(uuid).at(-1)).toBe('DESTROY');
  });
});

describe.each(BOTH)('takeover race (%s)', (transport) => {
  it('two controllers Accept the same call: exactly one wins, the loser gets 419; takeover:true moves event delivery', async () => {
    const { w, all, call } = await wireWorld(transport);
    const tapA = w.tap(w.subjects.ctrlOf('ctrl-a'));
    const tapB = w.tap(w.subjects.ctrlOf('ctrl-b'));
    await w.settle();
    const uuid = w.inject({});
    await w.drive(all.channelState(uuid, 'START', w.waitMs));
    const [ra, rb] = await Promise.all([
      call('XNode.Accept', { uuid }, 'ctrl-a'),
      call('XNode.Accept', { uuid }, 'ctrl-b'),
    ]);
    const codes = [ra.code, rb.code].sort();
    expect(codes).toEqual([200, 419]);
    const [winner, loser, winnerTap, loserTap] =
      ra.code === 200 ? ['ctrl-a', 'ctrl-b', tapA, tapB] : ['ctrl-b', 'ctrl-a', tapB, tapA];

    // The winner controls: Answer works, ANSWERED goes to the winner only.
    expect(await call('XNode.Answer', { uuid }, winner)).toMatchObject({ code: 200 });
    await winnerTap.channelState(uuid, 'ANSWERED', w.waitMs);
    // Answer implies Accept: without takeover the loser is refused again.
    expect(await call('XNode.Answer', { uuid }, loser)).toMatchObject({ code: 419 });

    // takeover:true moves control and event delivery to the loser.
    expect(await call('XNode.Accept', { uuid, takeover: true }, loser)).toMatchObject({ code: 200 });
    expect(await call('XNode.Hangup', { uuid }, loser)).toMatchObject({ code: 200 });
    await loserTap.channelState(uuid, 'DESTROY', w.waitMs);
    await w.settle();
    expect(winnerTap.states(uuid)).not.toContain('DESTROY');
    expect(loserTap.states(uuid)).not.toContain('ANSWERED');
  });
});

describe.each(BOTH)('malformed input sent raw to the node subject (%s)', (transport) => {
  it('each malformed message gets a clear JSON-RPC error or result code, and a call in progress completes untouched', async () => {
    const FOUR_MB = 4 * 1024 * 1024;
    const { w, all, mine, nodeSubject, call } = await wireWorld(transport, {
      maxPayload: FOUR_MB,
      node: { maxMessageBytes: 1024 * 1024 },
    });
    // A call in progress: answered, playing 1.5 s of silence.
    const uuid = w.inject({});
    await w.drive(all.channelState(uuid, 'START', w.waitMs));
    await call('XNode.Answer', { uuid });
    const playing = call('XNode.Play', { uuid, media: { type: 'FILE', data: 'silence_stream://1500' } });

    const raw = async (payload: Uint8Array | string): Promise<Record<string, unknown>> => {
      const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
      const msg = await w.probe.request(nodeSubject, data, { timeoutMs: w.waitMs });
      return JSON.parse(new TextDecoder().decode(msg.data)) as Record<string, unknown>;
    };
    const errorCode = (r: Record<string, unknown>) => (r.error as { code?: number } | undefined)?.code;
    const errorMessage = (r: Record<string, unknown>) =>
      String((r.error as { message?: string } | undefined)?.message);

    const nonJson = await raw('this is { not json');
    expect(errorCode(nonJson)).toBe(-32700);

    const noJsonrpc = await raw(JSON.stringify({ id: 'm1', method: 'XNode.Answer', params: { uuid } }));
    expect(errorCode(noJsonrpc)).toBe(-32600);
    expect(noJsonrpc.id).toBe('m1');

    const wrongType = await raw(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'm2',
        method: 'XNode.Hangup',
        params: { ctrl_uuid: CTRL, uuid: 42 },
      }),
    );
    expect(errorCode(wrongType)).toBe(-32602);
    expect(errorMessage(wrongType)).toMatch(/uuid/);

    const paramsNotObject = await raw(
      JSON.stringify({ jsonrpc: '2.0', id: 'm3', method: 'XNode.Answer', params: [1] }),
    );
    expect(errorCode(paramsNotObject)).toBe(-32602);

    const unknownMethod = await raw(
      JSON.stringify({ jsonrpc: '2.0', id: 'm4', method: 'XNode.Frobnicate', params: { ctrl_uuid: CTRL } }),
    );
    expect(errorCode(unknownMethod)).toBe(-32601);

    const unknownUuid = await call('XNode.Answer', { uuid: 'no-such-channel' });
    expect(unknownUuid).toMatchObject({ code: 404 });

    const big = encodeJson({
      jsonrpc: '2.0',
      id: 'm5',
      method: 'XNode.SetVar',
      params: { ctrl_uuid: CTRL, uuid, data: { blob: 'x'.repeat(2 * 1024 * 1024) } },
    });
    expect(big.byteLength).toBeGreaterThan(2 * 1024 * 1024);
    const tooBig = await raw(big);
    expect(errorCode(tooBig)).toBe(-32600);

    // The call in progress was not touched: its Play completes with 200 and it hangs up normally.
    expect(await w.drive(playing)).toMatchObject({ code: 200, uuid });
    expect(mine.states(uuid)).toEqual(['ANSWERED']);
    expect(await call('XNode.Hangup', { uuid })).toMatchObject({ code: 200 });
    await w.drive(mine.channelState(uuid, 'DESTROY', w.waitMs));
  });
});
