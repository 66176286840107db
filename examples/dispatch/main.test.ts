/**
 * The runner's demo session (`runDemo`) in virtual time: every step answers as the script expects, and
 * the one bad command gets its clear error.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock/index.js';
import { runDemo } from './main.js';

describe('examples/dispatch/main.ts', () => {
  it('the demo session runs every command over the bus and closes cleanly', async () => {
    const clock = new VirtualClock();
    const lines: string[] = [];
    let settled = false;
    const demo = runDemo({ clock, log: (line) => lines.push(line) });
    void demo.finally(() => {
      settled = true;
    });
    for (let t = 0; !settled && t < 600_000; t += 100) {
      await clock.advance(100);
      if (!settled) await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    const replies = await demo;
    expect(replies).toHaveLength(16);
    const failed = replies.filter((r) => !r.ok);
    expect(failed).toEqual([
      {
        id: 12,
        ok: false,
        error: {
          code: 'unknown-command',
          message:
            'unknown command "nonsense"; known: call, group, add, remove, insert, release, transfer, complete, monitor, end, status',
        },
      },
    ]);
    const status = replies[2];
    expect(status?.ok && status.result.users).toEqual([
      { user: '1003', state: 'talking', owner: 'call#2', info: 'p2p:2001' },
      { user: '1001', state: 'talking', owner: 'group#1', info: 'meet:demo' },
    ]);
    const last = replies[15];
    expect(last?.ok && last.result.sessions).toEqual([]);
    expect(clock.pending).toBe(0);
    expect(lines).toHaveLength(32);
  });
});
