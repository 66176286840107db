/**
 * `IGNORE`: what a method handler returns to answer nothing at all (Megaco `ignore_trans_request`,
 * §3.5 case 18). No response is sent and, in reliable mode, no reply-cache entry is kept, so a resend
 * of the same id runs the handler again.
 */

/**
 * @example
 * const handler: MethodHandler = async (params) => (isStale(params) ? IGNORE : { code: 200, message: 'OK' });
 */
export const IGNORE: unique symbol = Symbol('rpc.ignore');
