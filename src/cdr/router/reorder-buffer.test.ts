import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/index.js';
import { eventFromMap } from '../input/index.js';
import { type Ordered, ReorderBuffer } from './reorder-buffer.js';

const ev = eventFromMap({ 'Event-Name': 'CHANNEL_CREATE', 'Unique-ID': 'a' });
let arrival = 0;
function item(tsMs: number, seq = 0): Ordered {
  return { ev, ts: tsMs * 1000, seq, arrival: arrival++ };
}

function setup(windowMs = 2_000) {
  const clock = new VirtualClock();
  const out: number[] = [];
  const buffer = new ReorderBuffer({ clock, windowMs, release: (i) => out.push(i.ts / 1000) });
  return { clock, out, buffer };
}

describe('ReorderBuffer', () => {
  it('releases in timestamp order once the newest event is a window ahead', () => {
    const { out, buffer } = setup();
    buffer.push(item(1_000));
    buffer.push(item(500));
    buffer.push(item(1_500));
    expect(out).toEqual([]);
    buffer.push(item(3_000)); // releases everything at or before 1 000 ms
    expect(out).toEqual([500, 1_000]);
    buffer.push(item(4_000));
    expect(out).toEqual([500, 1_000, 1_500]);
    expect(buffer.size).toBe(2);
  });

  it('flushes a quiet stream one window after the LAST push, with a single timer', async () => {
    const { clock, out, buffer } = setup(2_000);
    buffer.push(item(10));
    for (let i = 0; i < 10; i++) {
      await clock.advance(500);
      buffer.push(item(20 + i));
      // One timer however many events arrive (no per-event re-arming).
      expect(clock.pending).toBe(1);
    }
    // The last push was at 5 000 ms of clock time: nothing goes out before 7 000 ms.
    await clock.advance(1_999);
    expect(out).toEqual([]);
    await clock.advance(1);
    expect(out).toEqual([10, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(buffer.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('keeps order across many releases and compactions', () => {
    // A 3 s window over events 3 ms apart holds ~1 000 of them: the released head gets compacted.
    const { out, buffer } = setup(3_000);
    const times = Array.from({ length: 5_000 }, (_, i) => i * 3 + ((i * 7919) % 5));
    for (const t of times) buffer.push(item(t));
    buffer.flush();
    expect(out).toHaveLength(times.length);
    for (let i = 1; i < out.length; i++) expect(out[i]!).toBeGreaterThanOrEqual(out[i - 1]!);
  });
});
