import { afterEach, describe, expect, it } from 'vitest';
import { encode, request } from '../protocol/envelope.js';
import type { CallerStep } from './media.js';
import { type Harness, startHarness } from './test-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const answered = async (script?: CallerStep[]): Promise<string> => {
  const uuid = h.inject(script ? { script } : {});
  await h.call('XNode.Answer', { uuid });
  return uuid;
};
const silence = (ms: number) => ({ type: 'FILE', data: `silence_stream://${ms}` });

describe('XNode.Play / Stop (decision 7)', () => {
  it('blocks for the media duration in clock time and answers 200', async () => {
    h = await startHarness();
    const uuid = await answered();
    let done = false;
    const p = h.call('XNode.Play', { uuid, media: silence(3000) }).then((r) => {
      done = true;
      return r;
    });
    await h.clock.advance(2999);
    expect(done).toBe(false);
    await h.clock.advance(1);
    expect(await p).toMatchObject({ code: 200, uuid, node_uuid: 'node1' });
  });

  it('answers 410 when Stop interrupts it; Stop answers 200', async () => {
    h = await startHarness();
    const uuid = await answered();
    const p = h.call('XNode.Play', { uuid, media: silence(10_000) });
    await h.clock.advance(1000);
    expect(await h.call('XNode.Stop', { uuid })).toMatchObject({ code: 200 });
    expect(await p).toMatchObject({ code: 410 });
  });

  it('answers 410 when the far end hangs up during playback', async () => {
    h = await startHarness();
    const uuid = await answered([{ wait: 1000 }, { hangup: {} }]);
    const p = h.call('XNode.Play', { uuid, media: silence(10_000) });
    await h.clock.advance(1000);
    const res = await p;
    expect(res.code).toBe(410);
    expect(res.message).toMatch(/hung up/);
  });

  it('a new Play interrupts the running one (it answers 410 "replaced")', async () => {
    h = await startHarness();
    const uuid = await answered();
    const first = h.call('XNode.Play', { uuid, media: silence(10_000) });
    await h.clock.advance(100);
    const second = h.call('XNode.Play', { uuid, media: silence(500) });
    await h.clock.advance(500);
    expect(await first).toMatchObject({ code: 410, message: expect.stringMatching(/replaced/) });
    expect(await second).toMatchObject({ code: 200 });
  });

  it('a missing file answers the media error code, and the call goes on', async () => {
    h = await startHarness();
    const uuid = await answered();
    const res = await h.call('XNode.Play', { uuid, media: { type: 'FILE', data: '/nonexistent/x.wav' } });
    expect(res.code).toBe(404);
    expect(h.node.channelCount).toBe(1);
  });

  it('expect_100_trying: 100 at once, the final response later on the ctrl subject', async () => {
    h = await startHarness();
    const uuid = await answered();
    const res = await h.send('XNode.Play', { uuid, media: silence(1000), expect_100_trying: true });
    expect(res.result).toMatchObject({ code: 100 });
    await h.clock.advance(1000);
    const final = h.log.find((m) => m.id === res.id && m.result !== undefined);
    expect(final?.subject).toBe('cn.xswitch.ctrl.c1');
    expect(final?.result).toMatchObject({ code: 200 });
  });

  it('an async call (id, no inbox) answers on the ctrl subject', async () => {
    h = await startHarness();
    const uuid = await answered();
    h.ctrlBus.publish(
      'cn.xswitch.node.node1',
      encode(request('XNode.GetState', { ctrl_uuid: 'c1', uuid }, 'async-1')),
    );
    await h.tick();
    const res = h.log.find((m) => m.id === 'async-1');
    expect(res?.subject).toBe('cn.xswitch.ctrl.c1');
    expect(res?.result).toMatchObject({ code: 200, answered: true });
  });
});

describe('XNode.ReadDTMF / ReadDigits', () => {
  it('collects digits up to the terminator', async () => {
    h = await startHarness();
    const uuid = await answered([{ wait: 200 }, { dtmf: '12#' }]);
    const p = h.call('XNode.ReadDTMF', {
      uuid,
      min_digits: 1,
      max_digits: 5,
      terminators: '#',
      timeout: 5000,
      digit_timeout: 2000,
    });
    await h.clock.advance(1000);
    expect(await p).toMatchObject({ code: 200, dtmf: '12', terminator: '#', reason: 'ok' });
  });

  it('reports reason timeout when no digit comes', async () => {
    h = await startHarness();
    const uuid = await answered();
    const p = h.call('XNode.ReadDigits', { uuid, min_digits: 1, max_digits: 1, timeout: 3000 });
    await h.clock.advance(3000);
    expect(await p).toMatchObject({ code: 200, dtmf: '', reason: 'timeout' });
  });

  it('reports reason invalid when the input fails the regex (after the media_invalid prompt)', async () => {
    h = await startHarness();
    const uuid = await answered([{ wait: 100 }, { dtmf: '9' }]);
    const p = h.call('XNode.ReadDTMF', {
      uuid,
      max_digits: 1,
      regex: '^[1-3]$',
      media_invalid: silence(1000),
    });
    await h.clock.advance(300);
    let done = false;
    void p.then(() => {
      done = true;
    });
    await h.tick();
    expect(done).toBe(false);
    await h.clock.advance(1000);
    expect(await p).toMatchObject({ code: 200, dtmf: '9', reason: 'invalid' });
  });

  it('answers 410 on far-end hangup and 400 for a bad regex', async () => {
    h = await startHarness();
    const uuid = await answered([{ wait: 500 }, { hangup: {} }]);
    expect(await h.call('XNode.ReadDTMF', { uuid, regex: '(' })).toMatchObject({ code: 400 });
    const p = h.call('XNode.ReadDTMF', { uuid, timeout: 5000 });
    await h.clock.advance(500);
    expect(await p).toMatchObject({ code: 410 });
  });
});

describe('XNode.DetectSpeech, Record, SendDTMF', () => {
  it('DetectSpeech answers with DetectedData and emits Event.DetectedData', async () => {
    h = await startHarness();
    const uuid = await answered([{ wait: 500 }, { say: 'hello world' }]);
    const p = h.call('XNode.DetectSpeech', { uuid, speech: { engine: 'sim', no_input_timeout: 5000 } });
    await h.clock.advance(5000);
    const res = await p;
    expect(res).toMatchObject({
      code: 200,
      data: { type: 'Speech.End', text: 'hello world', is_final: true },
    });
    const [ev] = h.events('Event.DetectedData');
    expect(ev?.params).toMatchObject({ uuid, node_uuid: 'node1', type: 'Speech.End', text: 'hello world' });
  });

  it('DetectSpeech without input reports ERROR no_input', async () => {
    h = await startHarness();
    const uuid = await answered();
    const p = h.call('XNode.DetectSpeech', {
      uuid,
      speech: { no_input_timeout: 2000, disable_detected_data_event: true },
    });
    await h.clock.advance(2000);
    expect(await p).toMatchObject({ code: 200, data: { type: 'ERROR', error: 'no_input' } });
    expect(h.events('Event.DetectedData')).toHaveLength(0);
  });

  it('Record RECORD blocks until the limit and reports the file', async () => {
    h = await startHarness();
    const uuid = await answered();
    const p = h.call('XNode.Record', { uuid, path: 'rec1.wav', limit: 2 });
    await h.clock.advance(2000);
    await h.tick();
    const res = await p;
    expect(res).toMatchObject({ code: 200, path: 'rec1.wav', record_ms: 2000 });
    expect(res.size).toBeGreaterThan(0);
  });

  it('Record START runs in the background with Event.Record START/STOP; STOP ends it', async () => {
    h = await startHarness();
    const uuid = await answered();
    expect(await h.call('XNode.Record', { uuid, path: 'bg.wav', action: 'START' })).toMatchObject({
      code: 200,
    });
    await h.clock.advance(1000);
    expect(await h.call('XNode.Record', { uuid, path: 'bg.wav', action: 'STOP' })).toMatchObject({
      code: 200,
    });
    await h.tick();
    expect(h.events('Event.Record').map((m) => m.params.action)).toEqual(['START', 'STOP']);
    expect(await h.call('XNode.Record', { uuid, path: 'bg.wav', action: 'STOP' })).toMatchObject({
      code: 400,
    });
  });

  it('a hangup sends Event.Record STOP for a background recording before DESTROY', async () => {
    h = await startHarness();
    const uuid = await answered();
    await h.call('XNode.Record', { uuid, path: 'bg2.wav', action: 'START' });
    await h.call('XNode.Hangup', { uuid });
    await h.tick();
    const stopAt = h.log.findIndex((m) => m.method === 'Event.Record' && m.params.action === 'STOP');
    const destroyAt = h.log.findIndex((m) => m.params.state === 'DESTROY');
    expect(stopAt).toBeGreaterThan(-1);
    expect(stopAt).toBeLessThan(destroyAt);
  });

  it('SendDTMF answers 200 for digits and rejects garbage', async () => {
    h = await startHarness();
    const uuid = await answered();
    expect(await h.call('XNode.SendDTMF', { uuid, dtmf: '12*#' })).toMatchObject({ code: 200 });
    const bad = await h.send('XNode.SendDTMF', { uuid, dtmf: 'xyz' });
    expect(bad.error).toMatchObject({ code: -32602, message: expect.stringMatching(/^params\.dtmf/) });
  });
});

describe('XNode.Conference and NativeJSAPI conferenceInfo', () => {
  it('members join, conferenceInfo lists them, Stop makes one leave (410), the room vanishes when empty', async () => {
    h = await startHarness();
    const a = await answered();
    const b = await answered();
    const pa = h.call('XNode.Conference', { uuid: a, name: 'room1' });
    const pb = h.call('XNode.Conference', { uuid: b, name: 'room1', flags: ['moderator'] });
    await h.tick();
    const info = await h.call('XNode.NativeJSAPI', {
      data: { command: 'conferenceInfo', data: { conferenceName: 'room1' } },
    });
    expect(info).toMatchObject({ code: 200, data: { conference_name: 'room1', member_count: 2 } });
    expect(info.data.members.map((m: { uuid: string }) => m.uuid)).toEqual([a, b]);
    expect(info.data.members[1].flags.is_moderator).toBe(true);
    await h.call('XNode.Stop', { uuid: a });
    expect(await pa).toMatchObject({ code: 410 });
    await h.call('XNode.Hangup', { uuid: b });
    expect(await pb).toMatchObject({ code: 410 });
    await h.tick();
    const conf = h
      .events('Event.Conference')
      .map((m) => [m.params.uuid, m.params.action, m.params.member_count]);
    expect(conf).toEqual([
      [a, 'join', 1],
      [b, 'join', 2],
      [a, 'leave', 1],
      [b, 'leave', 0],
    ]);
    expect(
      await h.call('XNode.NativeJSAPI', {
        data: { command: 'conferenceInfo', data: { conferenceName: 'room1' } },
      }),
    ).toMatchObject({
      code: 404,
    });
    expect(h.node.leaks().conferences).toBe(0);
  });
});

describe('vars, state, native and unimplemented methods', () => {
  it('SetVar/GetVar round-trip variables; GetState reports the channel; Hold toggles held', async () => {
    h = await startHarness();
    const uuid = await answered();
    await h.call('XNode.SetVar', { uuid, data: { a: '1', b: '2' } });
    expect(await h.call('XNode.GetVar', { uuid, data: ['a', 'caller_id_number', 'missing'] })).toMatchObject({
      code: 200,
      data: { a: '1', caller_id_number: '1000' },
    });
    expect(await h.call('XNode.GetState', { uuid })).toMatchObject({
      answered: true,
      bridged: false,
      held: false,
      controlled: true,
      state: 'ANSWERED',
    });
    expect(await h.call('XNode.Hold', { uuid, action: 'TOGGLE' })).toMatchObject({ code: 200 });
    expect(await h.call('XNode.GetState', { uuid })).toMatchObject({ held: true, call_state: 'HELD' });
    await h.call('XNode.Hold', { uuid, action: 'OFF' });
    expect(await h.call('XNode.GetState', { uuid })).toMatchObject({ held: false });
    expect(await h.call('XNode.Mute', { uuid, direction: 'READ', level: 1 })).toMatchObject({ code: 200 });
  });

  it('NativeAPI ping → pong; other native commands and unsupported methods → 501', async () => {
    h = await startHarness();
    expect(await h.call('XNode.NativeAPI', { cmd: 'ping' })).toMatchObject({ code: 200, data: 'pong' });
    expect(await h.call('XNode.NativeAPI', { cmd: 'show', args: 'channels' })).toMatchObject({ code: 501 });
    expect(await h.call('XNode.NativeJSAPI', { data: { command: 'sofia.status' } })).toMatchObject({
      code: 501,
    });
    const status = await h.call('XNode.NativeJSAPI', { data: { command: 'status' } });
    expect(status).toMatchObject({
      code: 200,
      data: { systemStatus: 'running', sessions: { count: { active: 0 } } },
    });
    const uuid = await answered();
    expect(await h.call('XNode.Transfer', { uuid, extension: '1000' })).toMatchObject({
      code: 501,
      message: expect.stringMatching(/not implemented/),
    });
  });

  it('JSON-RPC envelope errors never touch a call in progress', async () => {
    h = await startHarness();
    const uuid = await answered();
    const play = h.call('XNode.Play', { uuid, media: silence(1000) });
    const unknown = await h.send('XNode.NoSuchMethod', {});
    expect(unknown.error?.code).toBe(-32601);
    const invalid = await h.send('XNode.Play', { uuid: 42 });
    expect(invalid.error?.code).toBe(-32602);
    const raw = await h.ctrlBus.request('cn.xswitch.node.node1', new TextEncoder().encode('{nope'), {
      timeoutMs: 1000,
    });
    expect(JSON.parse(new TextDecoder().decode(raw.data)).error.code).toBe(-32700);
    await h.clock.advance(1000);
    expect(await play).toMatchObject({ code: 200 });
    expect(h.node.channelCount).toBe(1);
  });
});

describe('Broadcast and Stop on bridged legs', () => {
  it('Broadcast answers at once and plays on both legs; Stop on a bridged leg stops the prompt, not the bridge', async () => {
    h = await startHarness();
    const a = await answered();
    const b = await answered();
    await h.call('XNode.ChannelBridge2', { uuid: a, peer_uuid: b });
    expect(await h.call('XNode.Broadcast', { uuid: a, media: silence(5000), option: 'BOTH' })).toMatchObject({
      code: 200,
    });
    const play = h.call('XNode.Play', { uuid: a, media: silence(5000) });
    await h.clock.advance(100);
    await h.call('XNode.Stop', { uuid: a });
    expect(await play).toMatchObject({ code: 410 });
    expect(await h.call('XNode.GetState', { uuid: a })).toMatchObject({ bridged: true });
    expect(await h.call('XNode.Conference', { uuid: a, name: 'r' })).toMatchObject({ code: 400 });
    await h.call('XNode.UnBridge', { uuid: a });
    expect(await h.call('XNode.Broadcast', { uuid: a, media: silence(10), option: 'BLEG' })).toMatchObject({
      code: 400,
    });
  });
});
