/**
 * Channel collections and the `gone` promise are created on first use (heap per held call): reading
 * them before, and the promise after the fact, must behave as if they had always been there.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { Channel } from './channel.js';

function channel(): Channel {
  return new Channel({
    uuid: 'ch-1',
    direction: 'inbound',
    cidName: 'Alice',
    cidNumber: '1000',
    destNumber: '800',
    domain: 'example.com',
    context: 'default',
    createdAt: 0,
    announceSubject: 'cn.xswitch.ctrl',
  });
}

describe('Channel state created on first use', () => {
  it('variables, subscriptions, recordings and timers read empty until written', () => {
    const ch = channel();
    expect([...ch.variables]).toEqual([]);
    expect([...ch.subscribed]).toEqual([]);
    expect(ch.recordings.size).toBe(0);
    expect(ch.timers.size).toBe(0);
    expect(ch.busy).toBe(false);
    expect(ch.variable('caller_id_number')).toBe('1000');
    ch.setVariable('caller_id_number', '2000');
    ch.subscribe(['b', '', 'a', 'b']);
    expect(ch.variable('caller_id_number')).toBe('2000');
    expect([...ch.variables]).toEqual([['caller_id_number', '2000']]);
    expect([...ch.subscribed]).toEqual(['b', 'a']);
    // A second channel still reads empty: the shared empty collections were not written to.
    expect([...channel().variables]).toEqual([]);
    expect([...channel().subscribed]).toEqual([]);
  });

  it('a recording counts as busy until removed', () => {
    const ch = channel();
    const controller = new AbortController();
    ch.addRecording({ path: '/tmp/a.wav', controller, stopped: false });
    expect(ch.recordings.get('/tmp/a.wav')?.controller).toBe(controller);
    expect(ch.busy).toBe(true);
    ch.removeRecording('/tmp/a.wav');
    expect(ch.recordings.size).toBe(0);
    expect(ch.busy).toBe(false);
  });

  it('cancelTimers cancels every timer the channel still owns', async () => {
    const clock = new VirtualClock();
    const ch = channel();
    let fired = 0;
    const a = clock.setTimeout(() => fired++, 10);
    const b = clock.setTimeout(() => fired++, 20);
    ch.addTimer(a);
    ch.addTimer(b);
    ch.forgetTimer(a);
    expect(ch.timers.size).toBe(1);
    ch.cancelTimers();
    expect(ch.timers.size).toBe(0);
    await clock.advance(10);
    expect(fired).toBe(1); // `a` was forgotten, not cancelled; `b` was cancelled
    expect(clock.pending).toBe(0);
  });

  it('gone resolves after markGone, whether read before or after', async () => {
    const early = channel();
    let earlyDone = false;
    void early.gone.then(() => {
      earlyDone = true;
    });
    await Promise.resolve();
    expect(earlyDone).toBe(false);
    early.markGone();
    await early.gone;
    expect(earlyDone).toBe(true);
    const late = channel();
    late.markGone();
    await expect(late.gone).resolves.toBeUndefined();
    expect(late.gone).toBe(late.gone);
  });
});
