import { describe, expect, it } from 'vitest';
import { parseCallerScript, parseDestinationBehaviour, parseDirectory } from './caller-script.js';
import { SimConfigError } from './errors.js';

describe('caller scripts are validated and normalised', () => {
  it.each([
    [[{ wait: 500 }], [{ wait: 500 }]],
    [[{ dtmf: '12#*ab' }], [{ dtmf: '12#*AB' }]],
    [[{ say: 'hello' }], [{ say: 'hello' }]],
    [[{ hangup: {} }], [{ hangup: {} }]],
    [[{ hangup: null }], [{ hangup: {} }]],
    [[{ hangup: 'USER_BUSY' }], [{ hangup: { cause: 'USER_BUSY' } }]],
    [[{ hangup: { cause: 'NORMAL_CLEARING' } }], [{ hangup: { cause: 'NORMAL_CLEARING' } }]],
    [[], []],
  ])('accepts %j', (input, expected) => {
    expect(parseCallerScript(input)).toEqual(expected);
  });

  it.each([
    ['not an array', { wait: 1 }, 'script'],
    ['a string step', ['wait'], 'script[0]'],
    ['two keys in a step', [{ wait: 1, dtmf: '1' }], 'script[0]'],
    ['an unknown step', [{ sleep: 1 }], 'script[0].sleep'],
    ['a negative wait', [{ wait: -1 }], 'script[0].wait'],
    ['a string wait', [{ wait: '100' }], 'script[0].wait'],
    ['an infinite wait', [{ wait: Number.POSITIVE_INFINITY }], 'script[0].wait'],
    ['bad digits', [{ wait: 1 }, { dtmf: '12x' }], 'script[1].dtmf'],
    ['empty digits', [{ dtmf: '' }], 'script[0].dtmf'],
    ['empty speech', [{ say: '  ' }], 'script[0].say'],
    ['a lower-case cause', [{ hangup: { cause: 'busy' } }], 'script[0].hangup.cause'],
    ['an extra hangup field', [{ hangup: { cause: 'USER_BUSY', x: 1 } }], 'script[0].hangup.x'],
    ['too many steps', Array.from({ length: 1001 }, () => ({ wait: 1 })), 'script'],
  ])('rejects %s naming the field', (_name, input, path) => {
    let caught: unknown;
    try {
      parseCallerScript(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SimConfigError);
    expect((caught as SimConfigError).path).toBe(path);
    expect((caught as SimConfigError).message.startsWith(`${path}: `)).toBe(true);
    expect((caught as SimConfigError).code).toBe(400);
  });
});

describe('destination behaviours are validated', () => {
  it('accepts every documented field', () => {
    const b = {
      answer_after_ms: 10,
      busy: false,
      no_answer: false,
      reject: 'CALL_REJECTED',
      early_media: 200,
      ring_ms: 5,
      script: [{ hangup: null }],
    };
    expect(parseDestinationBehaviour(b)).toEqual({ ...b, script: [{ hangup: {} }] });
    expect(parseDestinationBehaviour({ early_media: true })).toEqual({ early_media: true });
  });

  it.each([
    [{ answer_after: 10 }, 'behaviour.answer_after'],
    [{ busy: 'yes' }, 'behaviour.busy'],
    [{ reject: 'no' }, 'behaviour.reject'],
    [{ early_media: 'soon' }, 'behaviour.early_media'],
    [{ script: [{ wait: -5 }] }, 'behaviour.script[0].wait'],
    [null, 'behaviour'],
  ])('rejects %j at %s', (input, path) => {
    expect(() => parseDestinationBehaviour(input)).toThrow(`${path}: `);
  });

  it('validates every directory entry under its number', () => {
    expect(() => parseDirectory({ '1000': {}, '1001': { ring_ms: -1 } })).toThrow('directory.1001.ring_ms: ');
    expect(parseDirectory({ '*': { busy: true } })).toEqual({ '*': { busy: true } });
  });
});
