/**
 * `xcc call`: injects one simulated inbound call into a running sim node (`XNode.SimCall`) and follows
 * it on the wire until it ends: its channel states, DTMF, the requests controllers send for it and their
 * results, its bridged legs, and the CDR. Exit 0 when the call ends; 1 with one clear line when no node
 * answers or the call does not end within `--timeout`.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import {
  type Bus,
  BusNoRespondersError,
  BusTimeoutError,
  type BusMsg,
  type Subscription,
} from '../../bus/index.js';
import type { CallerStep } from '../../node/media.js';
import { decode, encode, request, subjects } from '../../protocol/index.js';
import { loadScript } from '../config-file.js';
import { CliError, ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { addNatsFlags, connectNats, type NatsFlags } from '../nats.js';
import { positiveNumber, subjectToken } from '../option-parsers.js';
import { formatLine, summarize } from '../pretty.js';
import type { GlobalFlags, RunAction } from '../program.js';

export interface CallOptions extends NatsFlags {
  from: string;
  to: string;
  cidName?: string;
  script?: string;
  nodeUuid?: string;
  /** Seconds to wait for the call to end. Default 60. */
  timeout: number;
}

/** How long the node may take to answer XNode.SimCall. */
const SIMCALL_TIMEOUT_MS = 5000;

export function registerCall(program: Command, run: RunAction, _globals: () => GlobalFlags): void {
  addNatsFlags(
    program
      .command('call')
      .description(
        'inject a simulated inbound call (XNode.SimCall) and print what happens to it until it ends',
      )
      .requiredOption('--from <number>', 'caller id number')
      .requiredOption('--to <number>', 'destination number')
      .option('--cid-name <name>', 'caller id name')
      .option('--script <file>', 'caller script (YAML or JSON list of wait/dtmf/say/hangup steps)')
      .option('--node-uuid <id>', 'send to this node (default: any node, queue group)', subjectToken)
      .option(
        '--timeout <seconds>',
        'give up when the call has not ended after this long',
        positiveNumber,
        60,
      ),
  ).action(async (opts: CallOptions) => {
    await run((io) => runCall(opts, io));
  });
}

export async function runCall(opts: CallOptions, io: CliIo): Promise<number> {
  const script = opts.script === undefined ? undefined : await loadScript(opts.script);
  const bus = await connectNats(opts, 'xcc-call');
  try {
    return await follow(bus, opts, script, io);
  } finally {
    await bus.close();
  }
}

async function follow(
  bus: Bus,
  opts: CallOptions,
  script: CallerStep[] | undefined,
  io: CliIo,
): Promise<number> {
  const subs = subjects(opts.tenant === undefined ? {} : { tenant: opts.tenant });
  const tracker = new CallTracker(io);
  const listen = (subject: string): Subscription =>
    bus.subscribe(subject, { callback: (msg) => tracker.onMessage(msg) });
  const target = opts.nodeUuid === undefined ? subs.node : subs.nodeOf(opts.nodeUuid);
  // Subscribe before injecting: START is published before the SimCall answer can reach us. Not to
  // cn.xswitch.> as a whole: our own interest in the SimCall's subject would hide "no responders".
  const listeners: Subscription[] = [listen(subs.ctrl), listen(`${subs.ctrl}.>`), listen(subs.cdr)];
  // Requests controllers send to nodes (cn.xswitch.node.<uuid>); with --node-uuid that pattern covers
  // the SimCall's own subject, so it is added only once the node has answered.
  const nodeRequests = `${subs.node}.*`;
  if (opts.nodeUuid === undefined) listeners.push(listen(nodeRequests));
  try {
    await bus.flush();
    const params: Record<string, unknown> = {
      ctrl_uuid: `xcc-call-${randomUUID()}`,
      cid_number: opts.from,
      dest_number: opts.to,
    };
    if (opts.cidName !== undefined) params.cid_name = opts.cidName;
    if (script !== undefined) params.script = script;
    const result = await simCall(bus, target, params);
    if (opts.nodeUuid !== undefined) listeners.push(listen(nodeRequests));
    // Results of synchronous requests travel on reply inboxes, not on cn.xswitch.>. Added only now: an
    // `_INBOX.>` subscription suppresses the server's no-responders status for our own request.
    listeners.push(listen('_INBOX.>'));
    const uuid = result.uuid;
    io.out(`call ${uuid} from ${opts.from} to ${opts.to} on node ${String(result.node_uuid ?? '?')}`);
    const end = tracker.follow(uuid);
    const outcome = await Promise.race([
      end.then((info) => ({ kind: 'ended' as const, info })),
      deadline(opts.timeout * 1000, io.stop),
    ]);
    switch (outcome.kind) {
      case 'ended':
        io.out(
          `call ${uuid} ended: ${outcome.info.cause ?? 'unknown cause'}` +
            (outcome.info.duration === undefined ? '' : ` after ${outcome.info.duration} s`) +
            (outcome.info.cdr ? '' : ' (no CDR seen)'),
        );
        return ExitCode.OK;
      case 'timeout':
        throw new CliError(`call ${uuid} did not end within ${opts.timeout} s`);
      case 'interrupted':
        io.err(`xcc call: interrupted; call ${uuid} may still be running`);
        return ExitCode.Failed;
    }
    return ExitCode.Failed;
  } finally {
    for (const sub of listeners) sub.unsubscribe();
    tracker.dispose();
  }
}

/** Sends XNode.SimCall and returns its 200 result, or throws a one-line `CliError`. */
async function simCall(
  bus: Bus,
  subject: string,
  params: Record<string, unknown>,
): Promise<{ uuid: string; node_uuid?: unknown }> {
  let reply: BusMsg;
  try {
    reply = await bus.request(subject, encode(request('XNode.SimCall', params, randomUUID())), {
      timeoutMs: SIMCALL_TIMEOUT_MS,
    });
  } catch (err) {
    if (err instanceof BusNoRespondersError) {
      throw new CliError(`no node answered XNode.SimCall on ${subject} (is \`xcc node\` running?)`);
    }
    if (err instanceof BusTimeoutError) {
      throw new CliError(`no answer to XNode.SimCall on ${subject} within ${SIMCALL_TIMEOUT_MS} ms`);
    }
    throw err;
  }
  const decoded = decode(reply.data);
  if (decoded.kind !== 'response') throw new CliError(`XNode.SimCall: unexpected reply from ${subject}`);
  const message = decoded.message;
  if ('error' in message) {
    throw new CliError(`XNode.SimCall rejected: ${message.error.code} ${message.error.message}`);
  }
  const result = message.result;
  if (result.code !== 200 || typeof result.uuid !== 'string') {
    throw new CliError(
      `the node refused the call: ${String(result.code)} ${String(result.message ?? '')}`.trim(),
    );
  }
  return { uuid: result.uuid, node_uuid: result.node_uuid };
}

interface EndInfo {
  cause: string | undefined;
  duration: string | undefined;
  cdr: boolean;
}

type Outcome = { kind: 'ended'; info: EndInfo } | { kind: 'timeout' } | { kind: 'interrupted' };

function deadline(ms: number, stop: AbortSignal): Promise<Outcome> {
  return new Promise((resolve) => {
    if (stop.aborted) {
      resolve({ kind: 'interrupted' });
      return;
    }
    // Real time on purpose: this is a command-line deadline, not protocol time.
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
    timer.unref();
    stop.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve({ kind: 'interrupted' });
      },
      { once: true },
    );
  });
}

/**
 * Collects messages until the call's uuid is known (the SimCall answer), then prints the ones about
 * the call and its bridged legs, and resolves when the call's DESTROY arrives.
 */
class CallTracker {
  readonly #io: CliIo;
  #backlog: { subject: string; data: Uint8Array; at: number }[] = [];
  readonly #uuids = new Set<string>();
  #main: string | undefined;
  #cdr = false;
  #resolve: ((info: EndInfo) => void) | undefined;

  constructor(io: CliIo) {
    this.#io = io;
  }

  onMessage(msg: BusMsg): void {
    const at = Date.now();
    if (this.#main === undefined) {
      this.#backlog.push({ subject: msg.subject, data: msg.data, at });
      return;
    }
    this.#consider(msg.subject, msg.data, at);
  }

  follow(uuid: string): Promise<EndInfo> {
    this.#main = uuid;
    this.#uuids.add(uuid);
    const ended = new Promise<EndInfo>((resolve) => {
      this.#resolve = resolve;
    });
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const m of backlog) this.#consider(m.subject, m.data, m.at);
    return ended;
  }

  dispose(): void {
    this.#backlog = [];
    this.#resolve = undefined;
  }

  #consider(subject: string, data: Uint8Array, at: number): void {
    const s = summarize(data);
    const body = s.body ?? {};
    let mine = s.uuid !== undefined && this.#uuids.has(s.uuid);
    // Legs the controller creates for this call (Bridge pre-assigns their uuids in call_params).
    if (mine && s.kind === 'request') for (const leg of legUuids(body)) this.#uuids.add(leg);
    if (mine && s.peerUuid !== undefined) this.#uuids.add(s.peerUuid);
    if (!mine && s.peerUuid !== undefined && this.#uuids.has(s.peerUuid)) {
      mine = true;
      if (s.uuid !== undefined) this.#uuids.add(s.uuid);
    }
    if (!mine) return;
    this.#io.out(formatLine(subject, data, at));
    if (s.kind === 'event' && s.method === 'Event.CDR' && s.uuid === this.#main) this.#cdr = true;
    if (s.kind === 'event' && s.state === 'DESTROY' && s.uuid === this.#main) {
      this.#resolve?.({
        cause: typeof body.cause === 'string' ? body.cause : undefined,
        duration: typeof body.duration === 'string' ? body.duration : undefined,
        cdr: this.#cdr,
      });
    }
  }
}

function legUuids(params: Record<string, unknown>): string[] {
  const dest = params.destination;
  if (typeof dest !== 'object' || dest === null) return [];
  const callParams = (dest as { call_params?: unknown }).call_params;
  if (!Array.isArray(callParams)) return [];
  return callParams
    .map((p) => (typeof p === 'object' && p !== null ? (p as { uuid?: unknown }).uuid : undefined))
    .filter((u): u is string => typeof u === 'string');
}
