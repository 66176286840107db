/**
 * `startDispatch`: the operator console server. It subscribes to a command subject on the bus, decodes
 * and validates each command (`commands.ts`), runs it — as a new flow (call, group, insert, transfer,
 * monitor), as a message into a running flow's mailbox (add, remove, complete), as a cancellation
 * (end), or as the runtime's tear-down (release) — and answers on the request's reply inbox.
 */
import type { Bus, BusMsg, Subscription } from '../../src/bus/index.js';
import type { Clock } from '../../src/clock/index.js';
import type { Controller } from '../../src/ctrl/index.js';
import { describeCallInfo, type FlowLogger, silentFlowLogger, UserManager } from '../../src/flow/index.js';
import { startCall } from './call-flow.js';
import { type Command, type CommandOf, decodeCommand, type Reply, requestIdOf } from './commands.js';
import { DispatchError, toReplyError } from './errors.js';
import { startGroup } from './group-flow.js';
import { startInsert } from './insert-flow.js';
import { startMonitor } from './monitor-flow.js';
import type { SessionKind } from './priorities.js';
import type { SessionMessage, StartedSession } from './session-kit.js';
import { startTransfer } from './transfer-flow.js';

/** Default command subject. */
export const DEFAULT_DISPATCH_SUBJECT = 'dispatch.cmd';

export interface DispatchOptions {
  bus: Bus;
  clock: Clock;
  controller: Controller;
  /**
   * The flow runtime the sessions run on (default: a new one on `controller` and `clock`, closed by
   * `close()`). A given one must use the same controller; it is left open by `close()`.
   */
  userManager?: UserManager;
  /** Command subject (default `dispatch.cmd`). */
  subject?: string;
  /** Queue group, for several console servers sharing one subject (default: none). */
  queue?: string;
  /** How long `add`/`remove`/`complete` wait for the session's answer (default 60 000 ms). */
  sessionTimeoutMs?: number;
  /** Default: silent. */
  logger?: FlowLogger;
}

/** A running session as `status` reports it. */
export interface SessionSummary {
  session: string;
  kind: SessionKind;
  /** Numbers of the users the session owns now. */
  users: string[];
}

/** A running console server. */
export interface Dispatch {
  readonly subject: string;
  readonly userManager: UserManager;
  /** Sessions running now. */
  sessions(): SessionSummary[];
  /** Runs one command in process (what a bus message does, without the bus). Never rejects. */
  execute(command: Command): Promise<Reply>;
  /** Stops taking commands, ends every session (their endings run) and waits for commands in flight. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/**
 * Starts the console server.
 *
 * @example
 * const dispatch = startDispatch({ bus, clock, controller, userManager, subject: 'dispatch.cmd' });
 * const reply = await bus.request('dispatch.cmd', encode({ id: 1, cmd: 'call', operator: '2000', user: '1001' }), { timeoutMs: 60_000 });
 * // { id: 1, ok: true, result: { session: 'call#1', operator: '2000', user: '1001', uuids: [...] } }
 * await dispatch.close();
 */
export function startDispatch(options: DispatchOptions): Dispatch {
  const { bus, controller } = options;
  if (options.userManager !== undefined && options.userManager.controller !== controller) {
    throw new TypeError('startDispatch: userManager must use the given controller');
  }
  const ownManager = options.userManager === undefined;
  const manager = options.userManager ?? new UserManager({ controller, clock: options.clock });
  const subject = options.subject ?? DEFAULT_DISPATCH_SUBJECT;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 60_000;
  const logger = options.logger ?? silentFlowLogger;
  const sessions = new Map<string, StartedSession>();
  const inflight = new Set<Promise<void>>();
  let closed = false;

  const track = (started: StartedSession): Record<string, unknown> | Promise<Record<string, unknown>> => {
    const id = started.handle.id;
    sessions.set(id, started);
    void started.handle.done.then((outcome) => {
      sessions.delete(id);
      logger.info({ session: id, status: outcome.status, undo: outcome.undo }, 'dispatch session ended');
    });
    return started.established;
  };

  const sessionOf = (id: string, kind: SessionKind, cmd: string): StartedSession => {
    const started = sessions.get(id);
    if (started === undefined) throw new DispatchError('not-found', `no running session ${id}`);
    if (started.kind !== kind) {
      throw new DispatchError('unsupported', `${cmd} needs a ${kind} session; ${id} is a ${started.kind}`);
    }
    return started;
  };

  const ask = (started: StartedSession, message: SessionMessage): Promise<Record<string, unknown>> =>
    started.handle.request(message, { timeoutMs: sessionTimeoutMs });

  const run = async (cmd: Command): Promise<Record<string, unknown>> => {
    if (closed) throw new DispatchError('closed', 'the dispatch console is closed');
    switch (cmd.cmd) {
      case 'call':
        return track(startCall(manager, cmd));
      case 'group':
        return track(startGroup(manager, cmd));
      case 'insert':
        return track(startInsert(manager, cmd));
      case 'transfer':
        return track(startTransfer(manager, cmd));
      case 'monitor':
        return track(startMonitor(manager, cmd));
      case 'add':
      case 'remove':
        return ask(sessionOf(cmd.session, 'group', cmd.cmd), { type: cmd.cmd, user: cmd.user });
      case 'complete':
        return ask(sessionOf(cmd.session, 'transfer', cmd.cmd), { type: 'complete' });
      case 'end':
        return end(cmd);
      case 'release':
        return release(cmd);
      case 'status':
        return status(cmd);
    }
  };

  const end = async (cmd: CommandOf<'end'>): Promise<Record<string, unknown>> => {
    const started = sessions.get(cmd.session);
    if (started === undefined) throw new DispatchError('not-found', `no running session ${cmd.session}`);
    await started.handle.cancel('ended by the operator');
    const outcome = await started.handle.done;
    const result: Record<string, unknown> = {
      session: cmd.session,
      status: outcome.status,
      undo: { ran: outcome.undo.ran, skipped: outcome.undo.skipped },
    };
    if (outcome.status === 'failed') result.error = toReplyError(outcome.error);
    return result;
  };

  const release = async (cmd: CommandOf<'release'>): Promise<Record<string, unknown>> => {
    const user = manager.user(cmd.user);
    const was = { state: user.state, owner: user.owner?.id };
    // The runtime's tear-down outranks every flow: preempt the user out of its flow, then hang up (or
    // stop the ringing call-out).
    await manager.tearDown(user, { cause: 'NORMAL_CLEARING' });
    return { user: user.number, was: was.state, from: was.owner };
  };

  const status = (cmd: CommandOf<'status'>): Record<string, unknown> => {
    const users = cmd.users === undefined ? manager.users() : cmd.users.map((n) => manager.user(n));
    return {
      users: users.map((u) => ({
        user: u.number,
        state: u.state,
        owner: u.owner?.id,
        info: describeCallInfo(u.callInfo),
      })),
      sessions: summaries(),
    };
  };

  const summaries = (): SessionSummary[] =>
    [...sessions.values()].map((s) => ({
      session: s.handle.id,
      kind: s.kind,
      users: [...s.handle.session.users].map((u) => u.number).sort(),
    }));

  const execute = async (cmd: Command): Promise<Reply> => {
    try {
      return withId(cmd.id, { ok: true, result: await run(cmd) });
    } catch (err) {
      logger.info({ cmd: cmd.cmd, err }, 'dispatch command failed');
      return withId(cmd.id, { ok: false, error: toReplyError(err) });
    }
  };

  const onMessage = async (msg: BusMsg): Promise<void> => {
    let reply: Reply;
    try {
      reply = await execute(decodeCommand(msg.data));
    } catch (err) {
      // Only decoding throws here: `execute` never rejects.
      reply = withId(requestIdOf(msg.data), { ok: false, error: toReplyError(err) });
    }
    try {
      msg.respond(encoder.encode(JSON.stringify(reply)));
    } catch (err) {
      logger.warn({ err }, 'dispatch: could not send the reply');
    }
  };

  const subscription: Subscription = bus.subscribe(subject, {
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    callback: (msg) => {
      // Commands run concurrently; each is tracked so `close()` waits for it.
      const p = onMessage(msg);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
  });

  return {
    subject,
    userManager: manager,
    sessions: summaries,
    execute,
    close: async () => {
      if (closed) return;
      closed = true;
      subscription.unsubscribe();
      await Promise.all([...sessions.values()].map((s) => s.handle.cancel('dispatch console closed')));
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      if (ownManager) await manager.close();
    },
  };
}

/** The reply with the request's id first (omitted when the request had none). */
function withId(id: string | number | undefined, reply: Reply): Reply {
  return id === undefined ? reply : { id, ...reply };
}
