import { describe, expect, it } from 'vitest';
import { describe as describeBody, formatLine, summarize } from './pretty.js';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

describe('pretty: one line per wire message', () => {
  it.each([
    [
      'event with state',
      {
        jsonrpc: '2.0',
        method: 'Event.Channel',
        params: { uuid: 'u1', state: 'DESTROY', cause: 'NORMAL_CLEARING' },
      },
      { kind: 'event', method: 'Event.Channel', state: 'DESTROY', uuid: 'u1' },
    ],
    [
      'request',
      { jsonrpc: '2.0', id: 'r1', method: 'XNode.Play', params: { uuid: 'u1', media: { data: 'hi' } } },
      { kind: 'request', method: 'XNode.Play', uuid: 'u1', id: 'r1' },
    ],
    [
      'response',
      { jsonrpc: '2.0', id: 'r1', result: { code: 200, message: 'OK', uuid: 'u1', dtmf: '1' } },
      { kind: 'response', code: 200, uuid: 'u1', id: 'r1' },
    ],
    [
      'error response',
      { jsonrpc: '2.0', id: null, error: { code: -32601, message: 'method not found' } },
      { kind: 'error', code: -32601 },
    ],
    [
      'bridge peer',
      { jsonrpc: '2.0', method: 'Event.Channel', params: { uuid: 'a', peer_uuid: 'b', state: 'BRIDGE' } },
      { peerUuid: 'b' },
    ],
    ['batch', [{}, {}], { kind: 'batch', detail: 'batch of 2' }],
    ['no method', { jsonrpc: '2.0', params: {} }, { kind: 'invalid' }],
    ['not an object', 42, { kind: 'invalid' }],
  ])('classifies %s', (_name, message, expected) => {
    expect(summarize(enc(message))).toMatchObject(expected);
  });

  it('never throws on bytes that are not JSON', () => {
    expect(summarize('{"oops')).toMatchObject({
      kind: 'invalid',
      detail: expect.stringMatching(/^not JSON/),
    });
  });

  it('hides noisy keys, shows scalars and clips long values', () => {
    const detail = describeBody({
      uuid: 'x',
      node_uuid: 'n',
      ctrl_uuid: 'c',
      cause: 'USER_BUSY',
      media: { data: 'y'.repeat(100) },
    });
    expect(detail).toMatch(/^cause=USER_BUSY media=\{"data":"y+…$/);
    expect(detail).not.toMatch(/node_uuid|ctrl_uuid|uuid=x/);
  });

  it('formats time, subject, headline, uuid and details on one line', () => {
    const at = new Date(2026, 0, 1, 12, 0, 1, 250).getTime();
    const line = formatLine(
      'cn.xswitch.ctrl',
      enc({
        jsonrpc: '2.0',
        method: 'Event.Channel',
        params: { uuid: 'u1', state: 'START', cid_number: '1000' },
      }),
      at,
    );
    expect(line).toBe('12:00:01.250 cn.xswitch.ctrl  Event.Channel START  u1  cid_number=1000');
    expect(line).not.toContain('\n');
  });
});
