/**
 * End-to-end checks of the protocol decisions of common.md against a real XNode + SimMedia at wire
 * level (async calls, 100 Trying, async Dial, shutdown 603, node status), and one SDK scenario with a
 * tenant prefix. (N) groups also run over a real nats-server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BOTH,
  deferred,
  encodeJson,
  MEMORY_ONLY,
  makeWorld,
  openWireWorld,
  paramsOf,
  rawRequest,
  resultOf,
  type Transport,
  type World,
  type WorldOptions,
} from './support/fixtures.js';

const CTRL = 'proto-ctrl';
let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function wireWorld(transport: Transport, options: WorldOptions = {}) {
  const { w, all, mine, nodeSubject } = await openWireWorld(transport, CTRL, options);
  world = w;
  /** Raw request to the node; `ctrl` null sends no ctrl_uuid. */
  const call = (method: string, params: Record<string, unknown>, ctrl: string | null = CTRL) =>
    w.drive(
      rawRequest(
        w.probe,
        nodeSubject,
        method,
        ctrl === null ? params : { ctrl_uuid: ctrl, ...params },
        w.waitMs,
      ).then(resultOf),
    );
  /** An inbound call answered by CTRL. */
  const answered = async (): Promise<string> => {
    const uuid = w.inject({});
    await w.drive(all.channelState(uuid, 'START', w.waitMs));
    expect(await call('XNode.Answer', { uuid })).toMatchObject({ code: 200 });
    return uuid;
  };
  return { w, all, mine, nodeSubject, call, answered };
}

const isResponse = (id: string) => (s: { json: Record<string, unknown> | undefined }) =>
  s.json?.id === id && ('result' in s.json || 'error' in s.json);

describe.each(BOTH)('decision 3: async calls (%s)', (transport) => {
  it('a request with an id and no reply inbox is answered on cn.xswitch.ctrl.<ctrl_uuid>; without an id nothing comes back', async () => {
    const { w, mine, nodeSubject, answered } = await wireWorld(transport);
    const uuid = await answered();
    w.probe.publish(
      nodeSubject,
      encodeJson({
        jsonrpc: '2.0',
        id: 'async-1',
        method: 'XNode.GetState',
        params: { ctrl_uuid: CTRL, uuid },
      }),
    );
    const response = await w.drive(mine.next(isResponse('async-1'), w.waitMs));
    expect(response.json?.result).toMatchObject({ code: 200, uuid, answered: true });

    // A notification (no id): executed, nothing sent back.
    w.probe.publish(
      nodeSubject,
      encodeJson({
        jsonrpc: '2.0',
        method: 'XNode.SetVar',
        params: { ctrl_uuid: CTRL, uuid, data: { from_notification: 'yes' } },
      }),
    );
    // A later async request proves the notification was processed first (per-sender order).
    w.probe.publish(
      nodeSubject,
      encodeJson({
        jsonrpc: '2.0',
        id: 'async-2',
        method: 'XNode.GetVar',
        params: { ctrl_uuid: CTRL, uuid, data: ['from_notification'] },
      }),
    );
    const vars = await w.drive(mine.next(isResponse('async-2'), w.waitMs));
    expect(vars.json?.result).toMatchObject({ code: 200, data: { from_notification: 'yes' } });
    const responses = mine.seen.filter(
      (s) => s.json !== undefined && ('result' in s.json || 'error' in s.json),
    );
    expect(responses.map((s) => s.json?.id)).toEqual(['async-1', 'async-2']);
  });
});

describe.each(BOTH)('decision 2: expect_100_trying (%s)', (transport) => {
  it('Play with expect_100_trying answers 100 Trying at once, then the final response (same id) on the ctrl subject', async () => {
    const { w, mine, nodeSubject, answered } = await wireWorld(transport);
    const uuid = await answered();
    const msg = await w.probe.request(
      nodeSubject,
      encodeJson({
        jsonrpc: '2.0',
        id: 'trying-1',
        method: 'XNode.Play',
        params: { ctrl_uuid: CTRL, uuid, expect_100_trying: true, media: { data: 'silence_stream://300' } },
      }),
      { timeoutMs: w.waitMs },
    );
    const first = JSON.parse(new TextDecoder().decode(msg.data)) as Record<string, unknown>;
    expect(first).toMatchObject({ id: 'trying-1', result: { code: 100, message: 'Trying' } });
    const final = await w.drive(mine.next(isResponse('trying-1'), w.waitMs));
    expect(final.json?.result).toMatchObject({ code: 200, uuid });
  });

  it('the seed typo exepect_100_trying is honoured too, and a trying request without ctrl_uuid gets 400', async () => {
    const { w, mine, call, answered } = await wireWorld(transport);
    const uuid = await answered();
    expect(
      await call('XNode.Play', { uuid, exepect_100_trying: true, media: { data: 'silence_stream://100' } }),
    ).toMatchObject({ code: 100 });
    await w.drive(
      mine.next((s) => (s.json?.result as { code?: number } | undefined)?.code === 200, w.waitMs),
    );
    expect(
      await call(
        'XNode.Play',
        { uuid, expect_100_trying: true, media: { data: 'silence_stream://100' } },
        null,
      ),
    ).toMatchObject({ code: 400 });
  });
});

describe.each(BOTH)('decision 4: Dial sync:false (%s)', (transport) => {
  it('answers 202 Accepted at once and later Event.DialResult {id, uuid, code, cause} to the dialling controller', async () => {
    const { w, mine, nodeSubject } = await wireWorld(transport, {
      directory: { '5001': { answer_after_ms: 300 } },
    });
    const response = await w.drive(
      rawRequest(w.probe, w.subjects.node, 'XNode.Dial', {
        ctrl_uuid: CTRL,
        sync: false,
        destination: { call_params: [{ uuid: 'async-leg', dest_number: '5001' }] },
      }),
    );
    expect(resultOf(response)).toMatchObject({ code: 202, uuid: 'async-leg' });
    const ev = await w.drive(mine.next((s) => s.json?.method === 'Event.DialResult', w.waitMs));
    expect(paramsOf(ev.json)).toMatchObject({
      id: response.id,
      uuid: 'async-leg',
      code: 200,
      cause: 'SUCCESS',
      node_uuid: w.node.uuid,
    });
    await rawRequest(w.probe, nodeSubject, 'XNode.Hangup', { ctrl_uuid: CTRL, uuid: 'async-leg' });
    await w.drive(mine.channelState('async-leg', 'DESTROY', w.waitMs));
  });
});

describe.each(BOTH)('§7.1 bridge with early media (%s)', (transport) => {
  it('b-leg: CALLING → RINGING → MEDIA → BRIDGE → ANSWERED → UNBRIDGE → DESTROY', async () => {
    const { w, mine, call, answered } = await wireWorld(transport, {
      directory: {
        '5000': { early_media: true, answer_after_ms: 300, script: [{ wait: 1000 }, { hangup: {} }] },
      },
    });
    const a = await answered();
    const result = await call('XNode.Bridge', {
      uuid: a,
      destination: { call_params: [{ uuid: 'early-b', dest_number: '5000' }] },
    });
    expect(result).toMatchObject({ code: 200, uuid: a });
    await w.drive(mine.channelState('early-b', 'DESTROY', w.waitMs));
    expect(mine.states('early-b')).toEqual([
      'CALLING',
      'RINGING',
      'MEDIA',
      'BRIDGE',
      'ANSWERED',
      'UNBRIDGE',
      'DESTROY',
    ]);
  });
});

describe.each(MEMORY_ONLY)('outbound far-end script timing (%s)', (transport) => {
  it('the destination script runs after answer (media.ts contract), not from early media', async () => {
    const { w, mine, call, answered } = await wireWorld(transport, {
      // Early media at once, answer at 300 ms, then the callee talks 200 ms and hangs up: at 500 ms.
      directory: {
        '5002': { early_media: true, answer_after_ms: 300, script: [{ wait: 200 }, { hangup: {} }] },
      },
    });
    const a = await answered();
    const t0 = w.clock.now();
    const at: Record<string, number> = {};
    const sub = w.probe.subscribe(w.subjects.ctrlOf(CTRL), {
      callback: (msg) => {
        const p = paramsOf(JSON.parse(new TextDecoder().decode(msg.data)) as Record<string, unknown>);
        if (p.uuid === 'late-b' && typeof p.state === 'string') at[p.state] = w.clock.now() - t0;
      },
    });
    // Bridge answers when the bridge ends (the callee hangs up).
    await call('XNode.Bridge', {
      uuid: a,
      destination: { call_params: [{ uuid: 'late-b', dest_number: '5002' }] },
    });
    await w.drive(mine.channelState('late-b', 'DESTROY', w.waitMs));
    sub.unsubscribe();
    expect(mine.states('late-b')).toContain('ANSWERED');
    expect(at.DESTROY).toBeGreaterThanOrEqual(500);
  });
});

describe.each(BOTH)('XNode.SimCall over the bus (%s)', (transport) => {
  it('injects an inbound simulated call whose script runs: START then DTMF reach the controller', async () => {
    const { w, all, mine, call } = await wireWorld(transport);
    const r = await call('XNode.SimCall', {
      cid_number: '555',
      dest_number: '8000',
      script: [{ dtmf: '5' }],
    });
    expect(r).toMatchObject({ code: 200, node_uuid: w.node.uuid });
    const uuid = String(r.uuid);
    const start = await w.drive(all.channelState(uuid, 'START', w.waitMs));
    expect(start).toMatchObject({ cid_number: '555', dest_number: '8000', direction: 'inbound' });
    await call('XNode.Answer', { uuid });
    const digits = await call('XNode.ReadDTMF', { uuid, min_digits: 1, max_digits: 1, timeout: 1000 });
    expect(digits).toMatchObject({ dtmf: '5' });
    await call('XNode.Hangup', { uuid });
    await w.drive(mine.channelState(uuid, 'DESTROY', w.waitMs));
  });

  it('a bad script is refused with a clear error naming the field', async () => {
    const { call } = await wireWorld(transport);
    const response = await call('XNode.SimCall', {
      cid_number: '1',
      dest_number: '2',
      script: [{ dance: 1 }],
    }).catch((err: unknown) => ({ error: String(err) }));
    expect(JSON.stringify(response)).toMatch(/script/);
  });
});

describe.each(MEMORY_ONLY)('decision 6: shutdown (%s)', (transport) => {
  it('a node shutting down refuses new calls with 603 and lets the call in progress finish', async () => {
    const { w, all, mine, call, answered } = await wireWorld(transport, {
      directory: { '5001': { answer_after_ms: 100 } },
    });
    const uuid = await answered();
    const playing = call('XNode.Play', { uuid, media: { data: 'silence_stream://2000' } });
    const down = w.node.shutdown(60_000);
    await w.settle();
    expect(await call('XNode.SimCall', { cid_number: '1', dest_number: '2' })).toMatchObject({ code: 603 });
    const dial = await w.drive(
      rawRequest(w.probe, w.subjects.node, 'XNode.Dial', {
        ctrl_uuid: CTRL,
        destination: { call_params: [{ dest_number: '5001' }] },
      }),
    );
    expect(resultOf(dial)).toMatchObject({ code: 603 });
    expect(() => w.inject({})).toThrow();
    // The existing call is untouched: its Play completes, then it hangs up normally.
    expect(await playing).toMatchObject({ code: 200 });
    await call('XNode.Hangup', { uuid });
    await w.drive(down, { budgetMs: 10_000 });
    expect(mine.states(uuid)).toEqual(['ANSWERED', 'DESTROY']);
    expect(mine.events('Event.Channel', uuid).at(-1)?.params).toMatchObject({ cause: 'NORMAL_CLEARING' });
    expect(all.events('Event.NodeUnregister')).toHaveLength(1);
  });

  it('node status: NodeUpdate every 20 s on the status subject, NodeUnregister at stop', async () => {
    const { w, all } = await wireWorld(transport);
    await w.advance(20_000);
    const updates = all.events('Event.NodeUpdate');
    expect(updates).toHaveLength(1);
    expect(all.seen.find((s) => s.json?.method === 'Event.NodeUpdate')?.subject).toBe(w.subjects.status);
    expect(paramsOf(updates[0])).toMatchObject({ uuid: w.node.uuid });
    await w.advance(20_000);
    expect(all.events('Event.NodeUpdate')).toHaveLength(2);
    await w.node.stop();
    await w.settle();
    expect(all.events('Event.NodeUnregister')).toHaveLength(1);
  });
});

describe.each(BOTH)('tenant prefix through the SDK (%s)', (transport) => {
  it('node and controller on tenant "cherry" run a call on cherry.cn.xswitch.* subjects only', async () => {
    const subjectOptions = { tenant: 'cherry' };
    const w = await makeWorld(transport, { ctrls: 1, node: { subjectOptions }, ctrl: { subjectOptions } });
    world = w;
    const plain = w.tap('cn.xswitch.>');
    const tenant = w.tap('cherry.cn.xswitch.>');
    await w.settle();
    const done = deferred<string>();
    w.ctrls[0]!.onCall(async (call) => {
      await call.answer();
      const { digits } = await call.readDtmf({ min: 1, max: 1, timeoutMs: 2000 });
      await call.hangup();
      done.resolve(digits);
    });
    const uuid = w.inject({ script: [{ dtmf: '3' }] });
    expect(await w.drive(done.promise)).toBe('3');
    await w.drive(tenant.channelState(uuid, 'DESTROY', w.waitMs));
    expect(tenant.events('Event.CDR', uuid)).toHaveLength(1);
    expect(plain.seen).toHaveLength(0);
  });
});
