import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  keyValue,
  natsUrl,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  subjectToken,
} from './option-parsers.js';

describe('flag parsers reject bad values with InvalidArgumentError (exit 2)', () => {
  it.each([
    [positiveNumber, '2.5', 2.5],
    [positiveInt, '3', 3],
    [nonNegativeInt, '0', 0],
    [subjectToken, 'node-1_a', 'node-1_a'],
    [natsUrl, 'nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    [natsUrl, 'nats://a:4222,nats://b:4222', 'nats://a:4222,nats://b:4222'],
    [natsUrl, 'tls://host', 'tls://host'],
  ] as const)('%o accepts %s', (parse, input, expected) => {
    expect((parse as (v: string) => unknown)(input)).toEqual(expected);
  });

  it.each([
    [positiveNumber, ['', '0', '-1', 'x', 'Infinity']],
    [positiveInt, ['0', '1.5', '-2', 'x', ' ']],
    [nonNegativeInt, ['-1', '1.5', 'x']],
    [subjectToken, ['a.b', 'a b', '*', '']],
    [natsUrl, ['bogus', 'http://x:1', 'nats://', 'nats://a b']],
  ] as const)('%o rejects %j', (parse, inputs) => {
    for (const input of inputs)
      expect(() => (parse as (v: string) => unknown)(input)).toThrow(InvalidArgumentError);
  });

  it('keyValue collects repeated key=value pairs, values may contain "="', () => {
    expect(keyValue('b=x=y', keyValue('a=1'))).toEqual({ a: '1', b: 'x=y' });
    expect(() => keyValue('=1')).toThrow(InvalidArgumentError);
    expect(() => keyValue('novalue')).toThrow(InvalidArgumentError);
  });
});
