/**
 * play_and_get_digits input rules, shared by collectDigits and DetectSpeech's DTMF mode: terminators end
 * input (reported, not included), `maxDigits` ends input, `digitTimeoutMs` runs between digits, and the
 * first-digit timeout `timeoutMs` is armed by the caller once the prompt is over.
 */
import type { Timer } from '../../clock/index.js';
import { type CollectOptions, type CollectOutcome, MediaError } from '../media.js';
import type { OperationScope } from './operation.js';

/** Checks collect options; returns the MediaError describing the first bad field, if any. */
export function checkCollectOptions(o: CollectOptions, path = 'dtmf'): MediaError | undefined {
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!int(o.minDigits)) return new MediaError('invalid', `${path}.min_digits: expected an integer >= 0`);
  if (!int(o.maxDigits) || o.maxDigits < 1)
    return new MediaError('invalid', `${path}.max_digits: expected an integer >= 1`);
  if (o.minDigits > o.maxDigits)
    return new MediaError('invalid', `${path}.min_digits: larger than max_digits`);
  if (typeof o.timeoutMs !== 'number' || !(o.timeoutMs >= 0))
    return new MediaError('invalid', `${path}.timeout: expected ms >= 0`);
  if (typeof o.digitTimeoutMs !== 'number' || !(o.digitTimeoutMs >= 0)) {
    return new MediaError('invalid', `${path}.digit_timeout: expected ms >= 0`);
  }
  if (typeof o.terminators !== 'string')
    return new MediaError('invalid', `${path}.terminators: expected a string`);
  return undefined;
}

/** Collects digits into one outcome; calls `done` exactly once. */
export class DigitCollector {
  #digits = '';
  #timer: Timer | undefined;
  #finished = false;
  readonly #options: CollectOptions;
  readonly #scope: OperationScope;
  readonly #done: (outcome: CollectOutcome) => void;

  constructor(options: CollectOptions, scope: OperationScope, done: (outcome: CollectOutcome) => void) {
    this.#options = options;
    this.#scope = scope;
    this.#done = done;
  }

  get digits(): string {
    return this.#digits;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Takes one digit. */
  push(digit: string): void {
    if (this.#finished) return;
    if (this.#options.terminators.includes(digit)) {
      this.#finish(digit, 'ok');
      return;
    }
    this.#digits += digit;
    if (this.#digits.length >= this.#options.maxDigits) {
      this.#finish('', 'ok');
      return;
    }
    this.#arm(this.#options.digitTimeoutMs);
  }

  /** Starts the first-digit timeout (after the prompt); a no-op once a digit arrived. */
  armFirstDigit(): void {
    if (this.#finished || this.#digits.length > 0) return;
    this.#arm(this.#options.timeoutMs);
  }

  #arm(ms: number): void {
    this.#timer?.cancel();
    this.#timer = this.#scope.after(ms, () =>
      this.#finish(
        '',
        this.#digits.length >= this.#options.minDigits && this.#digits.length > 0 ? 'ok' : 'timeout',
      ),
    );
  }

  #finish(terminator: string, reason: CollectOutcome['reason']): void {
    this.#finished = true;
    this.#timer?.cancel();
    this.#done({ digits: this.#digits, terminator, reason });
  }
}
