import { describe, expect, it } from 'vitest';
import { hasWildcard, isValidPattern, isValidSubject, matchSubject } from './subject-match.js';

describe('subject syntax', () => {
  it.each([
    ['cn.xswitch.ctrl', true, true],
    ['a', true, true],
    ['_INBOX.abc.1', true, true],
    ['a-b_c.d', true, true],
    ['a*.b>', true, true], // wildcard chars inside a longer token are literal in NATS
    ['cn.*', false, true],
    ['cn.>', false, true],
    ['>', false, true],
    ['*', false, true],
    ['*.*.x', false, true],
    ['cn.>.x', false, false], // `>` not last
    ['>.x', false, false],
    ['', false, false], // empty subject
    ['.a', false, false], // empty first token
    ['a.', false, false], // empty last token
    ['a..b', false, false], // empty middle token
    ['a b', false, false], // space
    ['a\tb', false, false], // tab
    ['a.b\n', false, false], // newline
    ['a.\r', false, false],
  ])('%j: publishable=%s, subscribable=%s', (subject, publish, pattern) => {
    expect(isValidSubject(subject)).toBe(publish);
    expect(isValidPattern(subject)).toBe(pattern);
  });

  it('hasWildcard sees only whole-token wildcards', () => {
    expect(hasWildcard('a.*')).toBe(true);
    expect(hasWildcard('a.>')).toBe(true);
    expect(hasWildcard('a*.b')).toBe(false);
    expect(hasWildcard('a.b')).toBe(false);
  });
});

describe('matchSubject', () => {
  it.each([
    ['a.b.c', 'a.b.c', true],
    ['a.b.c', 'a.b', false],
    ['a.b', 'a.b.c', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.d', false],
    ['a.*', 'a', false],
    ['a.*', 'a.b.c', false],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['*.*', 'a.b', true],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c.d', true],
    ['a.>', 'a', false], // `>` needs at least one token
    ['>', 'a', true],
    ['>', 'a.b.c', true],
    ['*.b.>', 'a.b.c', true],
    ['*.b.>', 'a.x.c', false],
    ['cn.xswitch.ctrl', 'cn.xswitch.ctrl.x', false],
    ['a*', 'ab', false], // literal
    ['a*', 'a*', true],
  ])('%s matches %s: %s', (pattern, subject, expected) => {
    expect(matchSubject(pattern, subject)).toBe(expected);
  });
});
