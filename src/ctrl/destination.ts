/**
 * Turning the SDK's `to` shorthand into wire CallParams. A string containing `/` is a FreeSWITCH dial
 * string (`user/1000`, `sofia/gateway/gw/123`); any other string is a destination number.
 */
import type { CallParamInput } from '../protocol/index.js';

/** `'user/1000'` → `[{dial_string:'user/1000'}]`; `'1000'` → `[{dest_number:'1000'}]`; arrays are copied. */
export function toCallParams(to: string | CallParamInput[]): CallParamInput[] {
  if (typeof to === 'string') return [to.includes('/') ? { dial_string: to } : { dest_number: to }];
  return to.map((p) => ({ ...p }));
}
