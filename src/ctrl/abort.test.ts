import { describe, expect, it } from 'vitest';
import { CancelledError, isCancellation } from '../protocol/index.js';
import { cancellationOf, linkSignals } from './abort.js';
import { AsyncQueue } from './async-queue.js';
import { FlowCancelledError } from './errors.js';

describe('linkSignals', () => {
  it('aborts with the first parent reason and detaches from the parents', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals(a.signal, undefined, b.signal);
    const reason = new FlowCancelledError('destroyed');
    b.abort(reason);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe(reason);
    a.abort(new Error('later'));
    expect(linked.signal.reason).toBe(reason);
  });

  it('is aborted at once when a parent already is', () => {
    const a = new AbortController();
    a.abort('x');
    expect(linkSignals(a.signal).signal.aborted).toBe(true);
  });

  it('cancellationOf keeps CancelledError reasons and wraps others', () => {
    const a = new AbortController();
    const reason = new FlowCancelledError('node-lost');
    a.abort(reason);
    expect(cancellationOf(a.signal)).toBe(reason);
    const b = new AbortController();
    b.abort(new Error('x'));
    const c = cancellationOf(b.signal, 'XNode.Play');
    expect(c).toBeInstanceOf(CancelledError);
    expect(isCancellation(c)).toBe(true);
    expect(c.method).toBe('XNode.Play');
  });
});

describe('AsyncQueue', () => {
  it('delivers pushed items in order, ends after the buffer drains, and reports dropped items on early return', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.push(2);
    q.end();
    q.push(3);
    const got: number[] = [];
    for await (const n of q) got.push(n);
    expect(got).toEqual([1, 2]);

    let dropped: number[] | undefined;
    const q2 = new AsyncQueue<number>((d) => {
      dropped = d;
    });
    q2.push(1);
    q2.push(2);
    for await (const n of q2) {
      expect(n).toBe(1);
      break;
    }
    expect(dropped).toEqual([2]);
  });
});
