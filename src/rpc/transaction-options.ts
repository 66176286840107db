/**
 * Checks of the options added by the acks / batching / pending-timer / disconnect slice of the
 * seed-004 layer (`OriginatorReliability` and `ResponderReliability` fields). `reliability.ts` calls
 * these from its validators, so every problem is reported together in one `RpcConfigError`.
 */
import { isAckMode } from './acks.js';
import { DEFAULT_PENDING_TIMER } from './progress.js';
import type { OriginatorReliability, ResponderReliability } from './reliability.js';
import { TransSender, transSenderProblems } from './trans-sender.js';
import { DEFAULT_REQUEST_TIMER, timerProblems } from './timers.js';

/** Problems with the originator's `batching`, `onDisconnect` and `peerOf` options. */
export function originatorExtraProblems(options: OriginatorReliability): string[] {
  const problems: string[] = [];
  const { batching, onDisconnect } = options;
  if (batching !== undefined && !(batching instanceof TransSender))
    problems.push(...transSenderProblems('reliability.batching', batching));
  if (onDisconnect !== undefined && onDisconnect !== 'keep' && onDisconnect !== 'cancel')
    problems.push(`reliability.onDisconnect: expected 'keep' or 'cancel'`);
  return problems;
}

/**
 * Problems with the responder's `pendingTimer` (which must fire before the originator's first resend:
 * `pendingTimer.waitMs < originator.requestTimer.waitMs`), `ackMode`, `ackTimer` (finite: an ack that
 * never comes must end in `ackTimeout`) and `batching`.
 */
export function responderExtraProblems(options: ResponderReliability): string[] {
  const problems: string[] = [];
  const { pendingTimer, ackMode, ackTimer, batching } = options;
  if (pendingTimer !== undefined && pendingTimer !== false) {
    const timer = pendingTimer === true ? undefined : pendingTimer;
    if (timer) problems.push(...timerProblems('reliability.pendingTimer', timer));
    const wait = (timer ?? DEFAULT_PENDING_TIMER).waitMs;
    const request = options.originator?.requestTimer ?? DEFAULT_REQUEST_TIMER;
    if (!(wait < request.waitMs))
      problems.push(
        `reliability.pendingTimer.waitMs: ${wait} ms must be shorter than the originator's requestTimer.waitMs (${request.waitMs} ms)`,
      );
  }
  if (ackMode !== undefined) {
    if (typeof ackMode === 'string') {
      if (!isAckMode(ackMode))
        problems.push(`reliability.ackMode: expected 'discard', 'require' or 'ifProvisional'`);
    } else {
      for (const [method, mode] of Object.entries(ackMode))
        if (!isAckMode(mode))
          problems.push(`reliability.ackMode.${method}: expected 'discard', 'require' or 'ifProvisional'`);
    }
  }
  if (ackTimer !== undefined) {
    problems.push(...timerProblems('reliability.ackTimer', ackTimer));
    if (ackTimer.maxRetries === 'infinity')
      problems.push(`reliability.ackTimer.maxRetries: 'infinity' would never report ackTimeout`);
  }
  if (batching !== undefined && !(batching instanceof TransSender))
    problems.push(...transSenderProblems('reliability.batching', batching));
  return problems;
}
