import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/index.js';
import { eventFromMap, type SwitchEvent } from '../input/index.js';
import { type ReadyCall, Router } from './router.js';

const BASE = 1_700_000_000_000_000;
let seq = 0;
function ev(t: number, headers: Record<string, string>): SwitchEvent {
  seq++;
  return eventFromMap({
    'Core-UUID': 'core',
    'Event-Sequence': String(seq),
    'Event-Date-Timestamp': String(BASE + t * 1e6),
    ...headers,
  });
}

function setup(options: { quietMs?: number; idleTimeoutMs?: number } = {}) {
  const clock = new VirtualClock();
  const ready: ReadyCall[] = [];
  const router = new Router({ clock, onReady: (c) => ready.push(c), ...options });
  return { clock, ready, router };
}

/** A finished call is remembered for late events (`retainMs`, default 10 min): then no timer is left. */
async function expectNoTimersAfterRetention(clock: VirtualClock): Promise<void> {
  expect(clock.pending).toBe(1);
  await clock.advance(600_000);
  expect(clock.pending).toBe(0);
}

describe('Router', () => {
  it('finalises a call only after every leg ended and the quiet period passed', async () => {
    const { clock, ready, router } = setup({ quietMs: 30_000 });
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'a' }));
    router.ingest(ev(1, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'b', 'Channel-Call-UUID': 'a' }));
    router.ingest(ev(5, { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': 'a' }));
    router.flush();
    await clock.advance(60_000);
    expect(ready).toHaveLength(0); // b is still up
    router.ingest(ev(6, { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': 'b' }));
    router.flush();
    await clock.advance(29_000);
    expect(ready).toHaveLength(0);
    await clock.advance(1_000);
    expect(ready).toHaveLength(1);
    expect(ready[0]!.id).toBe('a');
    expect([...ready[0]!.legs.keys()].sort()).toEqual(['a', 'b']);
    await expectNoTimersAfterRetention(clock);
    expect(router.stats.openCalls).toBe(0);
  });

  it('drops duplicates by Core-UUID and Event-Sequence', () => {
    const { ready, router } = setup();
    const e = ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'd' });
    router.ingest(e);
    router.ingest(e);
    router.finalizeAll();
    expect(router.stats.duplicates).toBe(1);
    expect(ready[0]!.events).toHaveLength(1);
  });

  it('releases buffered events in timestamp order when the stream goes quiet', async () => {
    const { clock, ready, router } = setup({ quietMs: 1_000 });
    router.ingest(ev(1, { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': 'r' }));
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'r' }));
    expect(router.stats.buffered).toBe(2);
    await clock.advance(2_000); // reorder window
    expect(router.stats.buffered).toBe(0);
    await clock.advance(1_000);
    expect(ready[0]!.events.map((e) => e.name)).toEqual(['CHANNEL_CREATE', 'CHANNEL_HANGUP_COMPLETE']);
    await expectNoTimersAfterRetention(clock);
  });

  it('finalises a call whose hangup was lost after the idle timeout, as timed out', async () => {
    const { clock, ready, router } = setup({ idleTimeoutMs: 600_000 });
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'lost' }));
    router.flush();
    await clock.advance(599_000);
    expect(ready).toHaveLength(0);
    await clock.advance(1_000);
    expect(ready[0]!.timedOut).toBe(true);
    expect(ready[0]!.openLegs).toEqual(['lost']);
  });

  it('reopens a finished call when a late event arrives and emits it again', async () => {
    const { clock, ready, router } = setup({ quietMs: 1_000 });
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'late' }));
    router.ingest(ev(1, { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': 'late' }));
    router.flush();
    await clock.advance(5_000);
    expect(ready).toHaveLength(1);
    router.ingest(
      ev(2, {
        'Event-Name': 'CUSTOM',
        'Event-Subclass': 'vm::maintenance',
        'Unique-ID': 'late',
        'VM-Action': 'leave-message',
      }),
    );
    router.flush();
    await clock.advance(5_000);
    expect(ready).toHaveLength(2);
    expect(ready[1]!.id).toBe('late');
    expect(ready[1]!.events).toHaveLength(3);
    expect(ready[1]!.anomalies).toContain('late event after the story was emitted');
  });

  it('merges two calls when a bridge joins them and never merges through a conference', () => {
    const { ready, router } = setup();
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'x' }));
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'y' }));
    router.ingest(
      ev(1, {
        'Event-Name': 'CHANNEL_BRIDGE',
        'Unique-ID': 'x',
        'Bridge-A-Unique-ID': 'x',
        'Bridge-B-Unique-ID': 'y',
      }),
    );
    for (const id of ['p', 'q']) {
      router.ingest(
        ev(2, {
          'Event-Name': 'CUSTOM',
          'Event-Subclass': 'conference::maintenance',
          'Unique-ID': id,
          Action: 'add-member',
          'Conference-Unique-ID': 'c1',
        }),
      );
    }
    router.finalizeAll();
    expect(ready.map((c) => c.id).sort()).toEqual(['p', 'q', 'x']);
    expect(ready.find((c) => c.id === 'q')!.related).toEqual([{ id: 'p', via: 'conference' }]);
  });

  it('ignores events about no leg and garbage ids without throwing', () => {
    const { ready, router } = setup();
    router.ingest(ev(0, { 'Event-Name': 'HEARTBEAT' }));
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'has space' }));
    router.finalizeAll();
    expect(ready).toHaveLength(0);
    expect(router.stats.unroutable).toBe(1);
  });

  it('pushes the idle timeout back on every event without re-creating a timer per event', async () => {
    const { clock, ready, router } = setup({ quietMs: 1_000, idleTimeoutMs: 10_000 });
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'a' }));
    router.flush();
    for (let i = 1; i <= 5; i++) {
      await clock.advance(6_000);
      router.ingest(ev(i, { 'Event-Name': 'CHANNEL_CALLSTATE', 'Unique-ID': 'a' }));
      router.flush();
    }
    // 30 s of clock time went by, but never 10 s without an event.
    expect(ready).toHaveLength(0);
    expect(clock.pending).toBe(1);
    await clock.advance(9_999);
    expect(ready).toHaveLength(0);
    await clock.advance(1);
    expect(ready).toHaveLength(1);
    expect(ready[0]!.timedOut).toBe(true);
    await expectNoTimersAfterRetention(clock);
  });

  it('moves the deadline earlier when the last leg ends (quiet period shorter than idle)', async () => {
    const { clock, ready, router } = setup({ quietMs: 1_000, idleTimeoutMs: 10_000 });
    router.ingest(ev(0, { 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'a' }));
    router.ingest(ev(1, { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': 'a' }));
    router.flush();
    await clock.advance(999);
    expect(ready).toHaveLength(0);
    await clock.advance(1);
    expect(ready).toHaveLength(1);
    expect(ready[0]!.timedOut).toBe(false);
    await expectNoTimersAfterRetention(clock);
  });
});
