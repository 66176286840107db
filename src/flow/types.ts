/**
 * Small shared types of the flow runtime: end policies, preemption events and handlers, the logger
 * shape (structural, so any pino-like logger fits without importing protocol).
 */
import type { User } from './user.js';

/**
 * What happens to a user the flow still owns when the flow ends (seed item 6).
 * - `hangup` (default): tear it down — hang up if on a call, stop the call-out if still ringing.
 * - `keep`: keep the call up for an operator; the garbage collector leaves it alone until a flow takes it.
 * - `gc`: let go; the garbage collector hangs it up after the idle period unless a flow takes it or it is
 *   in a call with someone (bridged or in a meet).
 */
export type EndPolicy = 'hangup' | 'keep' | 'gc';

/** Why a flow's preemption handler runs. */
export interface PreemptionEvent {
  /** The user that was taken. */
  readonly user: User;
  /** Name of the flow that took it; undefined when the runtime tore the user down. */
  readonly by: string | undefined;
}

/** Runs in the old flow (as one of its child tasks) after the user was handed over. */
export type PreemptionHandler = (event: PreemptionEvent) => void | Promise<void>;

/** The logger shape the runtime uses (pino-compatible). */
export interface FlowLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** Logs nothing. */
export const silentFlowLogger: FlowLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
