/**
 * `xcc node`: a simulated switch node (XNode + SimMedia) on a real NATS server, until SIGINT/SIGTERM.
 * The first signal shuts down gracefully (Shutdown semantics: new calls get 603, existing calls finish
 * within `--grace`), a second one stops at once (remaining calls hung up with SYSTEM_SHUTDOWN), and the
 * node unregisters before the process exits.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DurableStreamError, ensureCdrStream, KvClaimStore, type NatsBus } from '../../bus/index.js';
import { RealClock } from '../../clock/index.js';
import type { DestinationBehaviour } from '../../node/media.js';
import { XNode } from '../../node/index.js';
import { SimMedia } from '../../node/sim/index.js';
import { subjects } from '../../protocol/index.js';
import {
  type ClaimStore,
  DEFAULT_CLAIM_MAX_RUN_MS,
  DEFAULT_REPLY_CACHE_TTL_MS,
  type ResponderReliability,
} from '../../rpc/index.js';
import { loadDirectory } from '../config-file.js';
import { DEMO_CALLERS, DEMO_DEST_NUMBER, DEMO_DIRECTORY } from '../demo/callers.js';
import { ExitCode, oneLine } from '../errors.js';
import { type CliIo, untilAborted } from '../io.js';
import { createLogger } from '../logger.js';
import { addNatsFlags, connectNats, type NatsFlags } from '../nats.js';
import { positiveInt, positiveNumber, subjectToken } from '../option-parsers.js';
import type { GlobalFlags, RunAction } from '../program.js';

export interface NodeOptions extends NatsFlags {
  nodeUuid?: string;
  name?: string;
  directory?: string;
  /** Inject a demo caller every this many ms. */
  trickleMs?: number;
  recordDir?: string;
  mediaDir?: string;
  /** Seconds existing calls may take to finish after the first SIGINT/SIGTERM. */
  grace: number;
  /** Re-announce the calls of controllers that stop heartbeating (docs/protocol.md, "Controller liveness"). */
  ctrlLiveness?: boolean;
  /** Seed-004 reply cache: resends answered from it, never executed twice (docs/reliability.md). */
  reliable?: boolean;
  /** Seed-004 transaction sender: answers and acks to one controller packed into batches (implies `reliable`). */
  batching?: boolean;
  /** Event.NodeUpdate interval in ms (the liveness signal controllers expire nodes by). Default 20 000. */
  heartbeatMs?: number;
  /** JetStream stream to create (or update) so it stores every Event.CDR this node publishes. */
  cdrStream?: string;
  /** JetStream KV bucket shared by the nodes of the queue group: a resend never runs on two nodes. */
  claimBucket?: string;
}

export function registerNode(program: Command, run: RunAction, globals: () => GlobalFlags): void {
  addNatsFlags(
    program
      .command('node')
      .description('run a simulated switch node (XNode + simulated media) on NATS until Ctrl-C')
      .option('--node-uuid <id>', 'node uuid (default: random)', subjectToken)
      .option('--name <name>', 'node name shown in status events')
      .option('--directory <file>', 'simulated destinations (YAML/JSON: number → behaviour)')
      .option('--trickle-ms <ms>', 'also inject a demo caller every MS ms', positiveInt)
      .option('--record-dir <dir>', 'where Record writes files (default: <tmp>/xcc-recordings)')
      .option('--media-dir <dir>', 'where relative FILE media are looked up (default: current directory)')
      .option(
        '--ctrl-liveness',
        're-announce calls of controllers that stop heartbeating, for a peer to take over',
      )
      .option('--reliable', 'answer resent requests from a reply cache instead of running them again')
      .option(
        '--batching',
        'pack answers and acks to one controller into JSON-RPC batch arrays (implies --reliable)',
      )
      .option(
        '--claim-bucket <name>',
        'share claims in this JetStream KV bucket so a resend landing on another node is not run twice (implies --reliable)',
        subjectToken,
      )
      .option('--heartbeat-ms <ms>', 'Event.NodeUpdate interval (default 20000)', positiveInt)
      .option(
        '--cdr-stream <name>',
        'make sure this JetStream stream stores the Event.CDR records (for xcc cdr listen --durable)',
        subjectToken,
      )
      .option(
        '--grace <seconds>',
        'graceful shutdown: how long calls may take to finish',
        positiveNumber,
        600,
      ),
  ).action(async (opts: NodeOptions) => {
    await run((io) => runNode(opts, io, globals()));
  });
}

export async function runNode(opts: NodeOptions, io: CliIo, globals: GlobalFlags): Promise<number> {
  const logger = createLogger(globals.logLevel, 'xcc-node');
  const directory: Record<string, DestinationBehaviour> =
    opts.directory === undefined ? { ...DEMO_DIRECTORY } : await loadDirectory(opts.directory);
  const nodeUuid = opts.nodeUuid ?? randomUUID();
  const bus = await connectNats(opts, `xcc-node-${nodeUuid}`, logger);
  let claims: KvClaimStore | undefined;
  if (opts.claimBucket !== undefined) {
    try {
      claims = await KvClaimStore.onBus(bus, {
        bucket: opts.claimBucket,
        // what the node's claims need: the reply cache TTL plus the longest run (both defaults here)
        minTtlMs: DEFAULT_REPLY_CACHE_TTL_MS + DEFAULT_CLAIM_MAX_RUN_MS,
      });
    } catch (err) {
      io.err(`xcc node: --claim-bucket ${opts.claimBucket}: ${oneLine(err)}`);
      await bus.drain().catch(() => bus.close());
      return ExitCode.Failed;
    }
  }
  const clock = new RealClock();
  const media = new SimMedia({
    clock,
    directory,
    recordRoot: resolve(opts.recordDir ?? join(tmpdir(), 'xcc-recordings')),
    mediaRoot: resolve(opts.mediaDir ?? '.'),
    logger,
    ...(opts.trickleMs === undefined
      ? {}
      : {
          trickle: {
            everyMs: opts.trickleMs,
            scripts: DEMO_CALLERS.map((c) => c.script),
            to: DEMO_DEST_NUMBER,
          },
        }),
  });
  const node = new XNode({
    bus,
    clock,
    media,
    nodeUuid,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    subjectOptions: opts.tenant === undefined ? {} : { tenant: opts.tenant },
    ctrlLiveness: opts.ctrlLiveness === true,
    reliability: nodeReliability(opts, claims),
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
    logger,
  });
  try {
    if (opts.cdrStream !== undefined) await ensureStream(bus, opts.cdrStream, opts.tenant, io);
    await node.start();
    io.out(`xcc node ${node.uuid} up on ${opts.nats} (simulated media; Ctrl-C to stop)`);
    const lost = await Promise.race([untilAborted(io.stop).then(() => false), bus.closed.then(() => true)]);
    if (lost) {
      io.err(`xcc node: connection to NATS at ${opts.nats} lost`);
      await node.stop();
      return ExitCode.Failed;
    }
    io.out(
      `xcc node: shutting down (${node.channelCount} calls in progress, up to ${opts.grace} s; Ctrl-C again to stop now)`,
    );
    await Promise.race([node.shutdown(opts.grace * 1000), untilAborted(io.force)]);
    // After a forced stop (or when shutdown already stopped the node) this is quick and idempotent.
    await node.stop();
    io.out(`xcc node ${node.uuid} stopped`);
    return ExitCode.OK;
  } finally {
    await bus.drain().catch(() => bus.close());
  }
}

/**
 * `--cdr-stream`: the stream that keeps Event.CDR for durable listeners. Without JetStream the node
 * still runs (records go out as core publishes, as always) and says so on stderr.
 */
async function ensureStream(
  bus: NatsBus,
  name: string,
  tenant: string | undefined,
  io: CliIo,
): Promise<void> {
  const cdr = subjects(tenant === undefined ? {} : { tenant }).cdr;
  try {
    const state = await ensureCdrStream(bus, { name, subjects: [cdr] });
    const what = state.created ? 'created' : state.updated ? 'updated' : 'ready';
    io.err(`xcc node: JetStream stream ${name} ${what}: it stores ${cdr} (${state.messages} records now)`);
  } catch (err) {
    if (!(err instanceof DurableStreamError)) throw err;
    io.err(`xcc node: --cdr-stream ${name}: ${oneLine(err)}; call records go out without being stored`);
  }
}

/**
 * `XNodeOptions.reliability` from the flags: `--claim-bucket` and `--batching` each imply `--reliable`
 * and add their part (claims in the shared bucket, the transaction sender with its defaults).
 */
export function nodeReliability(
  opts: Pick<NodeOptions, 'reliable' | 'batching'>,
  claims: ClaimStore | undefined,
): boolean | ResponderReliability {
  if (claims === undefined && opts.batching !== true) return opts.reliable === true;
  return {
    ...(claims === undefined ? {} : { claims: { store: claims } }),
    ...(opts.batching === true ? { batching: {} } : {}),
  };
}
