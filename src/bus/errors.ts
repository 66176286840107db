/** Bus failures, one class each. */
export class BusError extends Error {
  override readonly name: string = 'BusError';
}
export class BusTimeoutError extends BusError {
  override readonly name = 'BusTimeoutError';
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`request to ${subject} timed out after ${timeoutMs} ms`);
  }
}
export class BusNoRespondersError extends BusError {
  override readonly name = 'BusNoRespondersError';
  constructor(readonly subject: string) {
    super(`no responders on ${subject}`);
  }
}
export class BusClosedError extends BusError {
  override readonly name = 'BusClosedError';
  constructor() {
    super('bus is closed');
  }
}
export class PayloadTooLargeError extends BusError {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    super(`payload of ${size} bytes exceeds the bus maximum of ${max}`);
  }
}
export class InvalidSubjectError extends BusError {
  override readonly name = 'InvalidSubjectError';
  constructor(readonly subject: string) {
    super(`invalid subject ${JSON.stringify(subject)}`);
  }
}
