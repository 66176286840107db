/**
 * ctrl — the controller SDK: connect to the bus, receive calls (queue group), drive them through typed
 * `Call` handles whose methods map onto XCC methods, dial out, and watch nodes. Every blocking method
 * is cancellable; cancelling tells the node to stop, then rejects with `CancelledError`
 * (`isCancellation(err)`); cleanup registered with `call.defer()` always runs, newest first.
 *
 * @example
 * import { Controller } from 'openxcc/ctrl';
 *
 * const ctrl = new Controller({ bus, clock: new RealClock() });
 * ctrl.onCall(async (call) => {
 *   await call.answer();
 *   const { digits } = await call.readDtmf({ prompt: 'menu.wav', max: 1, terminators: '#' });
 *   if (digits === '1') {
 *     const agent = await ctrl.dial({ to: 'user/1000', signal: call.signal });
 *     await call.channelBridge(agent);
 *   } else {
 *     await call.play('bye.wav');
 *   }
 * });
 * await ctrl.start();
 */
export { cancellationOf, type LinkedSignal, linkSignals } from './abort.js';
export { AsyncQueue } from './async-queue.js';
export { Call } from './call.js';
export type * from './call-options.js';
export { CleanupStack, type CleanupStep } from './cleanup-stack.js';
export {
  type CallHandler,
  Controller,
  type ControllerLeaks,
  type ControllerOptions,
  type ControllerStats,
  type DialOptions,
} from './controller.js';
export { toCallParams } from './destination.js';
export { type CancelReason, ControllerStateError, FlowCancelledError } from './errors.js';
export { type NodeChange, type NodeChangeListener, type NodeEntry, NodeRegistry } from './node-registry.js';
// The error classes a flow meets, re-exported so that code built on the SDK (the flow runtime, apps)
// needs no import of `protocol` to recognise them.
export {
  BadRequestError,
  CallFailedError,
  CallGoneError,
  CancelledError,
  ConflictError,
  InternalError,
  isCancellation,
  JsonRpcError,
  NodeUnavailableError,
  NoRespondersError,
  NotFoundError,
  NotImplementedError,
  RpcTimeoutError,
  XccError,
} from '../protocol/errors.js';
export {
  type ControllerLivenessOptions,
  DEFAULT_CTRL_HEARTBEAT_MS,
  isResumed,
} from './ctrl-heartbeat.js';
