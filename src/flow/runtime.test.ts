/**
 * The flow runtime without a node: flows, sessions, child tasks, the mailbox, undo order, and
 * ownership errors. Scenario tests with a simulated node are in flow-scenarios.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import type { Controller } from '../ctrl/index.js';
import { FlowCancelledError, MailboxClosedError, NotOwnerError } from './errors.js';
import { UserManager } from './user-manager.js';

describe('flow runtime', () => {
  let clock: VirtualClock;
  let m: UserManager;

  beforeEach(() => {
    clock = new VirtualClock();
    // These flows never call out: no controller is needed.
    m = new UserManager({ controller: {} as Controller, clock });
  });

  afterEach(async () => {
    await m.close();
    expect(clock.pending).toBe(0);
    expect(m.leaks().flows).toBe(0);
  });

  it('cancelling a flow that already ended is a harmless no-op (seed item 8, the kill bug)', async () => {
    const flow = m.start(async () => 42, { name: 'quick' });
    const outcome = await flow.done;
    expect(outcome).toMatchObject({ status: 'completed', value: 42 });
    await flow.cancel('late');
    await flow.cancel('later');
    expect(await flow.result).toBe(42);
    expect(flow.ended).toBe(true);
  });

  it('twenty sleeps at once in one flow (a group call dialling twenty users) raise no listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    try {
      const flow = m.start(async (s) => {
        await Promise.all(Array.from({ length: 20 }, () => s.sleep(1000)));
        return 'all done';
      });
      await clock.advance(1000);
      expect(await flow.result).toBe('all done');
      // Node emits the warning on the next tick.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(warnings.filter((name) => name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('child tasks never outlive their flow, and the flow ends only after they finished', async () => {
    const log: string[] = [];
    const flow = m.start(async (s) => {
      s.spawn(async (signal) => {
        try {
          await clock.sleep(60_000, signal);
          log.push('child slept to the end');
        } finally {
          log.push('child stopped');
        }
      });
      await s.sleep(1000);
      log.push('body done');
    });
    await clock.advance(1000);
    const outcome = await flow.done;
    expect(outcome.status).toBe('completed');
    expect(log).toEqual(['body done', 'child stopped']);
    expect(clock.pending).toBe(0);
  });

  it('a failing child task fails the flow and runs its compensations newest first', async () => {
    const log: string[] = [];
    const flow = m.start(async (s) => {
      s.compensate(() => {
        log.push('undo 1');
      });
      s.defer(() => {
        log.push('cleanup 2');
      });
      s.compensate(() => {
        log.push('undo 3');
      });
      s.spawn(async () => {
        throw new Error('boom');
      });
      await s.sleep(10_000);
    });
    const outcome = await flow.done;
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && (outcome.error as Error).message).toBe('boom');
    expect(log).toEqual(['undo 3', 'cleanup 2', 'undo 1']);
    await expect(flow.result).rejects.toThrow('boom');
  });

  it('compensations are skipped after a normal end, cleanup always runs', async () => {
    const log: string[] = [];
    const flow = m.start(async (s) => {
      s.compensate(() => {
        log.push('undo');
      });
      s.defer(() => {
        log.push('cleanup');
      });
    });
    expect((await flow.done).undo.ran).toEqual(['defer-2']);
    expect(log).toEqual(['cleanup']);
  });

  it('a flow receives commands through its mailbox and answers requests inside the flow (seed item 5)', async () => {
    type Msg = { type: 'add'; n: number } | { type: 'total' } | { type: 'stop' };
    const flow = m.start<number, { sum: number }, Msg, number>(
      async (s) => {
        for (;;) {
          const letter = await s.receive();
          switch (letter.message.type) {
            case 'add':
              s.data.sum += letter.message.n;
              break;
            case 'total':
              letter.reply(s.data.sum);
              break;
            case 'stop':
              return s.data.sum;
          }
        }
      },
      { name: 'adder', data: { sum: 0 } },
    );
    flow.post({ type: 'add', n: 2 });
    flow.post({ type: 'add', n: 3 });
    expect(await flow.request({ type: 'total' })).toBe(5);
    flow.post({ type: 'stop' });
    expect(await flow.result).toBe(5);
    expect(() => flow.post({ type: 'add', n: 1 })).toThrow(MailboxClosedError);
    await expect(flow.request({ type: 'total' })).rejects.toBeInstanceOf(MailboxClosedError);
  });

  it('a request the flow never answers is rejected when the flow ends, and can time out on the clock', async () => {
    const flow = m.start<void, undefined, string, string>(async (s) => {
      await s.receive();
      await s.sleep(5000);
    });
    const timed = expect(flow.request('hello?', { timeoutMs: 1000 })).rejects.toThrow(
      'no reply within 1000 ms',
    );
    await clock.advance(1000);
    await timed;
    const pending = expect(flow.request('still there?')).rejects.toBeInstanceOf(MailboxClosedError);
    await clock.advance(5000);
    await pending;
    expect((await flow.done).status).toBe('completed');
  });

  it('cancellation reaches the body as the flow cancellation and the outcome says cancelled', async () => {
    const flow = m.start(async (s) => {
      await s.receive();
    });
    await clock.tick();
    await flow.cancel('operator said so');
    const outcome = await flow.done;
    expect(outcome.status).toBe('cancelled');
    expect(outcome.status === 'cancelled' && outcome.reason).toBeInstanceOf(FlowCancelledError);
  });

  it('a flow may not operate on a user it does not own (seed item 5: the lock)', async () => {
    const user = m.user('1001');
    const flow = m.start(async (s) => {
      await s.play(user, 'hello.wav');
    });
    const outcome = await flow.done;
    expect(outcome.status === 'failed' && outcome.error).toBeInstanceOf(NotOwnerError);
  });
});
