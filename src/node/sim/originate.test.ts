import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/index.js';
import type { DestinationBehaviour, OriginateProgress } from '../media.js';
import { planOriginate, runOriginate } from './originate.js';
import { SimMedia } from './sim-media.js';

type Seen = [number, string];
const label = (p: OriginateProgress): string => (p.kind === 'failed' ? `failed:${p.cause}` : p.kind);

/** Iterates an attempt on a VirtualClock, returning [ms since start, item] pairs. */
async function drive(
  clock: VirtualClock,
  attempt: AsyncIterable<OriginateProgress>,
  untilMs = 120_000,
): Promise<{ seen: Seen[]; ended: boolean }> {
  const t0 = clock.now();
  const seen: Seen[] = [];
  let ended = false;
  const done = (async () => {
    for await (const p of attempt) seen.push([clock.now() - t0, label(p)]);
    ended = true;
  })();
  await clock.advance(untilMs);
  if (ended) await done;
  else void done.catch(() => {}); // still waiting (e.g. never answers): the test aborts it itself
  return { seen, ended };
}

describe('planOriginate: behaviour → timed progress', () => {
  it.each<[string, DestinationBehaviour | undefined, number, Seen[]]>([
    ['unknown number', undefined, 30_000, [[0, 'failed:NO_ROUTE_DESTINATION']]],
    [
      'default answer after 1000',
      {},
      30_000,
      [
        [0, 'ringing'],
        [1000, 'answered'],
      ],
    ],
    [
      'answer after 2500',
      { answer_after_ms: 2500 },
      30_000,
      [
        [0, 'ringing'],
        [2500, 'answered'],
      ],
    ],
    [
      'answer after the timeout → NO_ANSWER at timeout',
      { answer_after_ms: 40_000 },
      30_000,
      [
        [0, 'ringing'],
        [30_000, 'failed:NO_ANSWER'],
      ],
    ],
    [
      'no_answer → NO_ANSWER at timeout',
      { no_answer: true },
      20_000,
      [
        [0, 'ringing'],
        [20_000, 'failed:NO_ANSWER'],
      ],
    ],
    ['busy at once, no ringing', { busy: true }, 30_000, [[0, 'failed:USER_BUSY']]],
    [
      'busy after ring_ms',
      { busy: true, ring_ms: 3000 },
      30_000,
      [
        [0, 'ringing'],
        [3000, 'failed:USER_BUSY'],
      ],
    ],
    ['reject at once', { reject: 'CALL_REJECTED' }, 30_000, [[0, 'failed:CALL_REJECTED']]],
    [
      'reject with own cause after ring',
      { reject: 'UNALLOCATED_NUMBER', ring_ms: 500 },
      30_000,
      [
        [0, 'ringing'],
        [500, 'failed:UNALLOCATED_NUMBER'],
      ],
    ],
    [
      'reject ring longer than timeout',
      { reject: 'CALL_REJECTED', ring_ms: 9000 },
      5000,
      [
        [0, 'ringing'],
        [5000, 'failed:NO_ANSWER'],
      ],
    ],
    [
      'early media at once',
      { early_media: true, answer_after_ms: 2000 },
      30_000,
      [
        [0, 'ringing'],
        [0, 'early_media'],
        [2000, 'answered'],
      ],
    ],
    [
      'early media after 800',
      { early_media: 800, answer_after_ms: 2000 },
      30_000,
      [
        [0, 'ringing'],
        [800, 'early_media'],
        [2000, 'answered'],
      ],
    ],
    [
      'early media after the answer is dropped',
      { early_media: 3000, answer_after_ms: 2000 },
      30_000,
      [
        [0, 'ringing'],
        [2000, 'answered'],
      ],
    ],
    [
      'early media then no answer',
      { early_media: 100, no_answer: true },
      1000,
      [
        [0, 'ringing'],
        [100, 'early_media'],
        [1000, 'failed:NO_ANSWER'],
      ],
    ],
    [
      'early_media false',
      { early_media: false, answer_after_ms: 5 },
      30_000,
      [
        [0, 'ringing'],
        [5, 'answered'],
      ],
    ],
  ])('%s', (_name, behaviour, timeoutMs, expected) => {
    expect(planOriginate(behaviour, timeoutMs).map((p) => [p.atMs, label(p.progress)])).toEqual(expected);
  });

  it('no ring timeout (0) and no answer waits forever', () => {
    expect(planOriginate({ no_answer: true }, 0).map((p) => p.atMs)).toEqual([0, Number.POSITIVE_INFINITY]);
  });
});

describe('runOriginate plays the plan on the clock', () => {
  it('yields each item at its time and ends after the terminal item', async () => {
    const clock = new VirtualClock();
    const plan = planOriginate({ early_media: 300, answer_after_ms: 1200 }, 30_000);
    const { seen, ended } = await drive(
      clock,
      runOriginate(clock, plan, new AbortController().signal, undefined),
    );
    expect(seen).toEqual([
      [0, 'ringing'],
      [300, 'early_media'],
      [1200, 'answered'],
    ]);
    expect(ended).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('aborting stops the attempt, ends the iterator and releases the timer', async () => {
    const clock = new VirtualClock();
    const ctl = new AbortController();
    const seen: string[] = [];
    const it = runOriginate(clock, planOriginate({ answer_after_ms: 5000 }, 30_000), ctl.signal, undefined);
    const done = (async () => {
      for await (const p of it) seen.push(label(p));
    })();
    await clock.advance(1000);
    expect(clock.pending).toBe(1);
    ctl.abort(new Error('cancelled'));
    await done;
    expect(seen).toEqual(['ringing']);
    expect(clock.pending).toBe(0);
  });

  it('an endless attempt ends on abort without any timer', async () => {
    const clock = new VirtualClock();
    const ctl = new AbortController();
    const it = runOriginate(clock, planOriginate({ no_answer: true }, 0), ctl.signal, undefined);
    const seen: string[] = [];
    const done = (async () => {
      for await (const p of it) seen.push(label(p));
    })();
    await clock.advance(3_600_000);
    expect(clock.pending).toBe(0);
    ctl.abort(new Error('cancelled'));
    await done;
    expect(seen).toEqual(['ringing']);
  });
});

describe('SimMedia.originate resolves the destination', () => {
  const directory = {
    '1000': { answer_after_ms: 2000, script: [{ say: 'hello' }] },
    '1001': { busy: true },
    '1002': { reject: 'CALL_REJECTED', ring_ms: 100 },
  };
  it.each<[string, { dest_number: string; dial_string?: string }, Seen[]]>([
    [
      'exact number',
      { dest_number: '1000' },
      [
        [0, 'ringing'],
        [2000, 'answered'],
      ],
    ],
    ['user/ dial string', { dest_number: 'x', dial_string: 'user/1001' }, [[0, 'failed:USER_BUSY']]],
    [
      'gateway dial string',
      { dest_number: '', dial_string: 'sofia/gateway/gw/1002' },
      [
        [0, 'ringing'],
        [100, 'failed:CALL_REJECTED'],
      ],
    ],
    [
      'public dial string',
      { dest_number: '', dial_string: 'sofia/public/1000@10.1.1.1:5080' },
      [
        [0, 'ringing'],
        [2000, 'answered'],
      ],
    ],
    ['unknown number', { dest_number: '5555' }, [[0, 'failed:NO_ROUTE_DESTINATION']]],
  ])('%s', async (_name, req, expected) => {
    const clock = new VirtualClock();
    const media = new SimMedia({ clock, directory });
    const { seen } = await drive(
      clock,
      media.originate({ ...req, timeoutMs: 30_000, variables: {} }, new AbortController().signal),
    );
    expect(seen).toEqual(expected);
    expect(clock.pending).toBe(0);
    expect(media.attemptCount).toBe(0);
  });

  it('exposes the destination script for the node to open after answer', () => {
    const media = new SimMedia({ clock: new VirtualClock(), directory });
    const attempt = media.originate(
      { dest_number: '1000', timeoutMs: 1, variables: {} },
      new AbortController().signal,
    );
    expect(attempt.script).toEqual([{ say: 'hello' }]);
    expect(
      media.originate({ dest_number: '1001', timeoutMs: 1, variables: {} }, new AbortController().signal)
        .script,
    ).toBe(undefined);
  });

  it('without a directory every number answers after 1000 ms; `*` and defaultBehaviour apply; null disables', async () => {
    const clock = new VirtualClock();
    const req = { dest_number: '42', timeoutMs: 30_000, variables: {} };
    const sig = new AbortController().signal;
    expect((await drive(clock, new SimMedia({ clock }).originate(req, sig))).seen).toEqual([
      [0, 'ringing'],
      [1000, 'answered'],
    ]);
    expect(
      (await drive(clock, new SimMedia({ clock, directory: { '*': { busy: true } } }).originate(req, sig)))
        .seen,
    ).toEqual([[0, 'failed:USER_BUSY']]);
    const withDefault = new SimMedia({
      clock,
      directory: { '1': {} },
      defaultBehaviour: { answer_after_ms: 7 },
    });
    expect((await drive(clock, withDefault.originate(req, sig))).seen).toEqual([
      [0, 'ringing'],
      [7, 'answered'],
    ]);
    expect(
      (await drive(clock, new SimMedia({ clock, defaultBehaviour: null }).originate(req, sig))).seen,
    ).toEqual([[0, 'failed:NO_ROUTE_DESTINATION']]);
  });

  it('a signal aborted before iterating yields nothing', async () => {
    const clock = new VirtualClock();
    const ctl = new AbortController();
    ctl.abort(new Error('gone'));
    const { seen, ended } = await drive(
      clock,
      new SimMedia({ clock }).originate({ dest_number: '1', timeoutMs: 1, variables: {} }, ctl.signal),
    );
    expect(seen).toEqual([]);
    expect(ended).toBe(true);
  });

  it('stop() ends attempts in progress and releases their timers', async () => {
    const clock = new VirtualClock();
    const media = new SimMedia({ clock });
    const seen: string[] = [];
    const done = (async () => {
      for await (const p of media.originate(
        { dest_number: '1', timeoutMs: 30_000, variables: {} },
        new AbortController().signal,
      )) {
        seen.push(label(p));
      }
    })();
    await clock.advance(10);
    expect(media.attemptCount).toBe(1);
    await media.stop();
    await done;
    expect(seen).toEqual(['ringing']);
    expect(clock.pending).toBe(0);
    expect(media.attemptCount).toBe(0);
  });
});
