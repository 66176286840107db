import { describe, expect, it } from 'vitest';
import { cleanValue, partyIdOf, resolveParty } from './party-resolver.js';

describe('party resolver', () => {
  it('swaps a number written into the name field back', () => {
    expect(resolveParty({ number: 'Helmut Kuper', name: '8000' })).toEqual({
      number: '8000',
      name: 'Helmut Kuper',
      fixes: ['swapped'],
    });
  });

  it('keeps a login seen where a number should be as a login, using the device number when there is one', () => {
    expect(resolveParty({ number: 'alice.phone' })).toEqual({
      login: 'alice.phone',
      fixes: ['login-as-number'],
    });
    const withDevice = resolveParty({ number: 'alice.phone', channelName: 'sofia/internal/1030@pbx' });
    expect(withDevice.number).toBe('1030');
    expect(withDevice.login).toBe('alice.phone');
  });

  it('treats placeholders as missing and strips URI decoration and formatting', () => {
    expect(cleanValue('xml')).toBeUndefined();
    expect(cleanValue('_undef_')).toBeUndefined();
    expect(cleanValue('<sip:1031@pbx;user=phone>')).toBe('1031');
    expect(cleanValue('+49 (30) 1234-56')).toBe('+4930123456');
    expect(resolveParty({ number: '1001', name: '1001' }).name).toBeUndefined();
  });

  it('gives no party id to a party with neither number nor login', () => {
    expect(partyIdOf(resolveParty({ number: 'xml' }))).toBeUndefined();
    expect(partyIdOf(resolveParty({ number: '0' }))).toBeUndefined();
  });
});
