import { describe, expect, it } from 'vitest';
import { RpcErrorCode } from './codes.js';
import { decode, encode, request } from './envelope.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('JSON-RPC envelope decode', () => {
  it('classifies requests, notifications and responses (seed 002: no id means an event)', () => {
    expect(
      decode(bytes('{"jsonrpc":"2.0","id":"1","method":"XNode.Answer","params":{"uuid":"u"}}')).kind,
    ).toBe('request');
    expect(decode(bytes('{"jsonrpc":"2.0","method":"Event.Channel","params":{"state":"START"}}')).kind).toBe(
      'notification',
    );
    expect(decode(bytes('{"jsonrpc":"2.0","id":"1","result":{"code":200,"message":"OK"}}')).kind).toBe(
      'response',
    );
    expect(decode(bytes('{"jsonrpc":"2.0","id":"1","error":{"code":-32601,"message":"x"}}')).kind).toBe(
      'response',
    );
  });

  it('round-trips what encode produces', () => {
    const msg = request('XNode.Play', { uuid: 'u', media: { type: 'FILE', data: 'a.wav' } }, 'id-1');
    const d = decode(encode(msg));
    expect(d).toEqual({ kind: 'request', message: msg });
  });

  it.each([
    ['not JSON', 'hello', RpcErrorCode.ParseError],
    ['truncated JSON', '{"jsonrpc":"2.0","id":"1"', RpcErrorCode.ParseError],
    ['invalid UTF-8', '\u00ff', RpcErrorCode.ParseError],
    ['a JSON string', '"x"', RpcErrorCode.InvalidRequest],
    ['null', 'null', RpcErrorCode.InvalidRequest],
    ['missing jsonrpc', '{"id":"1","method":"XNode.Answer"}', RpcErrorCode.InvalidRequest],
    [
      'wrong jsonrpc version',
      '{"jsonrpc":"1.0","id":"1","method":"XNode.Answer"}',
      RpcErrorCode.InvalidRequest,
    ],
    [
      'numeric id (XCC uses strings only)',
      '{"jsonrpc":"2.0","id":1,"method":"XNode.Answer"}',
      RpcErrorCode.InvalidRequest,
    ],
    ['method not a string', '{"jsonrpc":"2.0","id":"1","method":7}', RpcErrorCode.InvalidRequest],
    ['empty method', '{"jsonrpc":"2.0","id":"1","method":""}', RpcErrorCode.InvalidRequest],
    [
      'params an array',
      '{"jsonrpc":"2.0","id":"1","method":"XNode.Answer","params":[1]}',
      RpcErrorCode.InvalidParams,
    ],
    ['result not an object', '{"jsonrpc":"2.0","id":"1","result":5}', RpcErrorCode.InvalidRequest],
    ['error without code', '{"jsonrpc":"2.0","id":"1","error":{"message":"x"}}', RpcErrorCode.InvalidRequest],
    ['empty batch', '[]', RpcErrorCode.InvalidRequest],
  ])('rejects %s with a JSON-RPC error', (_name, text, code) => {
    const d = decode(text === '\u00ff' ? new Uint8Array([0xff, 0xfe]) : bytes(text));
    expect(d.kind).toBe('invalid');
    if (d.kind === 'invalid') expect(d.error.code).toBe(code);
  });

  it('keeps the id of an invalid request so the error can be correlated', () => {
    const d = decode(bytes('{"jsonrpc":"1.0","id":"abc","method":"X"}'));
    expect(d).toMatchObject({ kind: 'invalid', id: 'abc' });
  });

  it('refuses a message above the size limit before parsing it', () => {
    const big = new Uint8Array(2 * 1024 * 1024).fill(0x20);
    const d = decode(big);
    expect(d).toMatchObject({ kind: 'invalid', error: { code: RpcErrorCode.InvalidRequest } });
  });

  it('decodes a batch item by item', () => {
    const d = decode(bytes('[{"jsonrpc":"2.0","id":"1","method":"A"},{"jsonrpc":"2.0","method":"B"},5]'));
    expect(d.kind).toBe('batch');
    if (d.kind === 'batch')
      expect(d.items.map((i) => i.kind)).toEqual(['request', 'notification', 'invalid']);
  });
});
