import { describe, expect, it } from 'vitest';
import { urlDecode } from './url-decode.js';

describe('urlDecode', () => {
  it('decodes percent-encoded UTF-8 and keeps + literal', () => {
    expect(urlDecode('Helmut%20Kuper')).toBe('Helmut Kuper');
    expect(urlDecode('M%C3%BCller')).toBe('Müller');
    expect(urlDecode('a+b')).toBe('a+b');
    expect(urlDecode('plain-value')).toBe('plain-value');
  });

  it('never throws on bad escapes: keeps what cannot be decoded', () => {
    expect(urlDecode('100%')).toBe('100%');
    expect(urlDecode('%zz%20x')).toBe('%zz x');
    expect(urlDecode('%C3')).toBe('%C3'); // truncated UTF-8 sequence
    expect(urlDecode('%FF%41%20')).toBe('%FFA '); // invalid lead byte, then good escapes
    expect(urlDecode('M%C3%BC%C3ller')).toBe('Mü%C3ller');
  });
});

describe('urlDecode ASCII fast path', () => {
  it('decodes ASCII escapes in any position and case like decodeURIComponent', () => {
    for (const v of [
      '%2B4930',
      'a%40b.de',
      '%3a%3A1',
      'x%20',
      '%25%25',
      'sofia/internal/8000%40sip.example.net',
    ]) {
      expect(urlDecode(v)).toBe(decodeURIComponent(v));
    }
  });
});
