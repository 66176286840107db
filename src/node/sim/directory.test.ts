import { describe, expect, it } from 'vitest';
import { lookupDestination, numberOfDialString } from './directory.js';

describe('dial strings resolve to their number part', () => {
  it.each([
    ['1000', '1000'],
    ['user/1000', '1000'],
    ['user/1000@example.com', '1000'],
    ['sofia/gateway/gw/1000', '1000'],
    ['sofia/gateway/gw/+8613800000000', '+8613800000000'],
    ['sofia/public/1000@10.0.0.1:5060;transport=tcp', '1000'],
    ['sofia/internal/sip:1000@host', '1000'],
    ['xrtc/profile/alice@domain', 'alice'],
    ['{origination_caller_id_number=1}[leg_timeout=5]user/1000', '1000'],
    ['user/1000,user/1001', '1000'],
    ['user/1000|user/1001', '1000'],
    ['{unclosed=1 user/1000', ''],
    ['', ''],
  ])('%s → %s', (dial, number) => {
    expect(numberOfDialString(dial)).toBe(number);
  });
});

describe('destination lookup: exact, then *, then default', () => {
  const dir = { '1000': { busy: true }, '*': { no_answer: true } };
  it.each([
    ['1000', dir, undefined, 'exact'],
    ['2000', dir, undefined, 'wildcard'],
    ['2000', { '1000': {} }, { answer_after_ms: 1 }, 'default'],
    ['2000', { '1000': {} }, undefined, 'none'],
    ['', dir, { answer_after_ms: 1 }, 'none'],
    ['constructor', { '1000': {} }, undefined, 'none'],
  ])('%s', (number, directory, fallback, kind) => {
    expect(lookupDestination(number, directory, fallback).kind).toBe(kind);
  });
});
