import { describe, expect, it } from 'vitest';
import { Code } from './codes.js';
import {
  CallFailedError,
  CallGoneError,
  CancelledError,
  ConflictError,
  errorForResult,
  isCancellation,
  NodeUnavailableError,
  NotFoundError,
} from './errors.js';
import { subjects } from './subjects.js';

describe('subjects (reference §2)', () => {
  it('builds the XCC subjects', () => {
    const s = subjects();
    expect([s.node, s.nodeOf('n1'), s.ctrl, s.ctrlOf('c1'), s.status, s.cdr]).toEqual([
      'cn.xswitch.node',
      'cn.xswitch.node.n1',
      'cn.xswitch.ctrl',
      'cn.xswitch.ctrl.c1',
      'cn.xswitch.status.node',
      'cn.xswitch.cdr',
    ]);
  });
  it('puts the tenant prefix before cn.xswitch', () => {
    const s = subjects({ tenant: 'cherry' });
    expect(s.ctrl).toBe('cherry.cn.xswitch.ctrl');
    expect(s.nodeOf('n1')).toBe('cherry.cn.xswitch.node.n1');
  });
  it('refuses tokens that would break subject routing', () => {
    expect(() => subjects({ tenant: 'a.b' })).toThrow(/tenant/);
    expect(() => subjects().ctrlOf('x y')).toThrow(/ctrl_uuid/);
    expect(() => subjects().nodeOf('>')).toThrow(/node_uuid/);
  });
});

describe('errorForResult (one class per code)', () => {
  it.each([
    [Code.NotFound, NotFoundError],
    [Code.Gone, CallGoneError],
    [Code.Conflict, ConflictError],
    [Code.ShuttingDown, NodeUnavailableError],
    [480, CallFailedError],
  ])('maps %i to its class with the wire code', (code, cls) => {
    const err = errorForResult('XNode.Play', { code, message: 'x', uuid: 'u1', cause: 'USER_BUSY' });
    expect(err).toBeInstanceOf(cls);
    expect(err?.code).toBe(code);
    expect(err?.uuid).toBe('u1');
  });
  it('is undefined for success and provisional codes', () => {
    expect(errorForResult('XNode.Play', { code: 200, message: 'OK' })).toBeUndefined();
    expect(errorForResult('XNode.Dial', { code: 202, message: 'Accepted' })).toBeUndefined();
  });
  it('CallFailedError exposes the hangup cause', () => {
    const err = errorForResult('XNode.Dial', { code: 480, message: 'x', cause: 'NO_ANSWER' });
    expect((err as CallFailedError).hangupCause).toBe('NO_ANSWER');
  });
  it('isCancellation recognises CancelledError and AbortError only', () => {
    expect(isCancellation(new CancelledError())).toBe(true);
    const ac = new AbortController();
    ac.abort();
    expect(isCancellation(ac.signal.reason)).toBe(true);
    expect(isCancellation(new Error('x'))).toBe(false);
  });
});
