/**
 * `xcc cdr`: the call-story engine from the command line.
 *
 * - `replay FILE [--format F] [--db ADDR] [--ndjson]`: runs a recorded event stream through the engine
 *   (virtual time, so a day of events takes seconds) and prints the stories as a JSON array.
 * - `listen (--esl HOST:PORT --password P | --nats URL) [--db ADDR] [--publish] [--quiet]`: runs the
 *   engine live on a FreeSWITCH ESL stream or on XCC `Event.Channel`/`Event.CDR` from NATS, printing
 *   each story as one JSON line, saving and publishing it, until Ctrl-C. With `--durable NAME
 *   [--stream S]` it reads `Event.CDR` from a JetStream stream instead (records sent while it was down
 *   are delivered when it returns; each acked once its story is stored; cdr-durable.ts). SIGHUP
 *   rereads the `--directory` file without dropping open calls.
 * - `list [--db ADDR] [filters]` and `show ID [--db ADDR]`: query a store.
 * - `prune --older-than SPAN [--db ADDR] [--dry-run]`: retention (listen does it hourly with --retention).
 */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { DEFAULT_CDR_STREAM, DurableStreamError } from '../../bus/index.js';
import { RealClock, VirtualClock } from '../../clock/index.js';
import {
  EslClient,
  type ReplayFormat,
  type ReplayFormatError,
  readEvents,
  replayFormatFromName,
  type SwitchEvent,
} from '../../cdr/index.js';
import {
  openStore,
  parseStoreAddress,
  redactStoreAddress,
  type Store,
  StoreUnavailableError,
  StoryPublisher,
  type StoryFilter,
} from '../../cdr/store/index.js';
import type { CallStory } from '../../cdr/story.js';
import { subjects } from '../../protocol/index.js';
import { type FileDirectory, loadCdrDirectory } from '../cdr-directory.js';
import { type DurableCdr, StoryAcks, startDurableCdr } from '../cdr-durable.js';
import { type EngineHandle, startStoryEngine } from '../cdr-engine.js';
import { storyLine } from '../cdr-format.js';
import {
  CDR_DB_ENV,
  DEFAULT_CDR_DB,
  dispositionList,
  type EslEndpoint,
  eslEndpoint,
  parseTimeMicros,
  replayFormat,
  storeAddress,
} from '../cdr-options.js';
import { pruneStories, RetentionPruner, retentionSpan } from '../cdr-retention.js';
import { StorySink } from '../cdr-sink.js';
import { XccEventConverter } from '../cdr-xcc-input.js';
import { CliError, ExitCode, oneLine, usageError } from '../errors.js';
import { tcpEslConnect } from '../esl-transport.js';
import { type CliIo, untilAborted } from '../io.js';
import { addNatsFlags, connectNats, type NatsFlags } from '../nats.js';
import { nonNegativeInt, positiveInt, positiveNumber, subjectToken } from '../option-parsers.js';
import type { GlobalFlags, RunAction } from '../program.js';

/** Environment variable holding the ESL password. */
export const ESL_PASSWORD_ENV = 'XCC_ESL_PASSWORD';

export interface CdrReplayOptions {
  format?: ReplayFormat;
  db?: string;
  ndjson?: boolean;
  /** Skip malformed entries (reported on stderr) instead of failing. */
  skipBad?: boolean;
  /** Enrichment directory file (YAML/JSON: number/login → {kind, person, department, extension}). */
  directory?: string;
}

export interface CdrListenOptions extends NatsFlags {
  esl?: EslEndpoint;
  password?: string;
  eslUser?: string;
  eslFormat: 'plain' | 'json';
  db?: string;
  publish?: boolean;
  quiet?: boolean;
  /** Seconds of quiet after a call's last leg ended before its story is final (default 30). */
  finalizeAfter?: number;
  /** Whether `--nats` was given on the command line (not from the environment or the default). */
  natsGiven: boolean;
  /** Enrichment directory file (YAML/JSON: number/login → {kind, person, department, extension}). */
  directory?: string;
  /** Delete stories older than this (ms) from `--db`, at start and then hourly. */
  retention?: number;
  /** Read `Event.CDR` from the JetStream stream through this durable consumer (docs/reliability.md). */
  durable?: string;
  /** The stream `--durable` reads (default XCC_CDR; created if missing). */
  stream?: string;
}

export interface CdrPruneOptions {
  db: string;
  /** Stories that started longer ago than this (ms) are deleted. */
  olderThan: number;
  /** Only count what would be deleted. */
  dryRun?: boolean;
}

export interface CdrListOptions {
  db: string;
  from?: number;
  to?: number;
  number?: string;
  disposition?: string[];
  limit: number;
  offset: number;
  json?: boolean;
}

export interface CdrShowOptions {
  db: string;
}

const dbOption = (required: boolean): Option => {
  const option = new Option('--db <address>', 'story store: sqlite:FILE or postgres://user@host/db')
    .env(CDR_DB_ENV)
    .argParser(storeAddress);
  return required ? option.default(DEFAULT_CDR_DB) : option;
};

export function registerCdr(program: Command, run: RunAction, _globals: () => GlobalFlags): void {
  const cdr = program
    .command('cdr')
    .description('call stories: replay event files, listen to a live switch, query the story store');

  cdr
    .command('replay')
    .description('run a recorded event file through the story engine and print the stories as JSON')
    .argument('<file>', 'event file: ESL capture (plain or json), NDJSON, or a YAML/JSON list of header maps')
    .addOption(
      new Option('--format <format>', 'file format (default: from the extension)').argParser(replayFormat),
    )
    .addOption(new Option('--db <address>', 'also save the stories in this store').argParser(storeAddress))
    .option('--ndjson', 'print one story per line instead of a JSON array')
    .option('--skip-bad', 'skip malformed entries (reported on stderr) instead of failing')
    .option(
      '--directory <file>',
      'enrich parties from this YAML/JSON map (number → kind, person, department)',
    )
    .action(async (file: string, opts: CdrReplayOptions) => {
      await run((io) => runCdrReplay(file, opts, io));
    });

  addNatsFlags(
    cdr
      .command('listen')
      .description('run the story engine live on FreeSWITCH ESL (--esl) or XCC events on NATS, until Ctrl-C')
      .addOption(new Option('--esl <host:port>', 'FreeSWITCH event socket to read').argParser(eslEndpoint))
      .addOption(new Option('--password <password>', 'ESL password').env(ESL_PASSWORD_ENV))
      .option('--esl-user <user@domain>', 'ESL login user (userauth) instead of the plain password')
      .addOption(
        new Option('--esl-format <format>', 'event encoding asked of FreeSWITCH')
          .choices(['plain', 'json'])
          .default('plain'),
      )
      .addOption(dbOption(false).argParser(storeAddress))
      .option('--publish', 'publish each story on NATS (<tenant.>cn.xswitch.cdr.story)')
      .option('--quiet', 'do not print stories on stdout')
      .option(
        '--durable <name>',
        'read Event.CDR from the JetStream stream with this durable consumer: records sent while down are not lost',
        subjectToken,
      )
      .option(
        '--stream <name>',
        `JetStream stream for --durable (default ${DEFAULT_CDR_STREAM})`,
        subjectToken,
      )
      .option(
        '--directory <file>',
        'enrich parties from this YAML/JSON map (number → kind, person, department)',
      )
      .addOption(
        new Option(
          '--retention <span>',
          'delete stories older than this from --db (e.g. 90d), at start and hourly',
        ).argParser(retentionSpan),
      )
      .addOption(
        new Option(
          '--finalize-after <seconds>',
          'quiet time after a call ended before its story is final (default 30)',
        ).argParser(positiveNumber),
      ),
  ).action(async (opts: Omit<CdrListenOptions, 'natsGiven'>, command: Command) => {
    // Only a --nats typed on the command line conflicts with --esl; XCC_NATS_URL in the environment does not.
    const natsGiven = command.getOptionValueSource('nats') === 'cli';
    await run((io) => runCdrListen({ ...opts, natsGiven }, io));
  });

  cdr
    .command('list')
    .description('list stored stories, newest first')
    .addOption(dbOption(true))
    .addOption(
      new Option(
        '--from <time>',
        'started at or after (ISO date/time, or a span ago: 30m, 2h, 7d)',
      ).argParser((v: string) => parseTimeMicros(v, Date.now())),
    )
    .addOption(
      new Option('--to <time>', 'started before (ISO date/time, or a span ago)').argParser((v: string) =>
        parseTimeMicros(v, Date.now()),
      ),
    )
    .option('--number <number>', 'some party has exactly this number')
    .addOption(
      new Option(
        '--disposition <list>',
        'answered, abandoned, busy, no_answer, failed, voicemail, fax (comma-separated)',
      ).argParser(dispositionList),
    )
    .addOption(new Option('--limit <n>', 'at most this many').argParser(positiveInt).default(20))
    .addOption(new Option('--offset <n>', 'skip this many first').argParser(nonNegativeInt).default(0))
    .option('--json', 'one story per line as JSON instead of a summary line')
    .action(async (opts: CdrListOptions) => {
      await run((io) => runCdrList(opts, io));
    });

  cdr
    .command('show')
    .description('print one stored story as JSON')
    .argument('<id>', 'story id (the first leg uuid)')
    .addOption(dbOption(true))
    .action(async (id: string, opts: CdrShowOptions) => {
      await run((io) => runCdrShow(id, opts, io));
    });

  cdr
    .command('prune')
    .description('delete stored stories that started longer ago than a span (retention)')
    .requiredOption('--older-than <span>', 'e.g. 90d, 12w, 36h', retentionSpan)
    .addOption(dbOption(true))
    .option('--dry-run', 'only count the stories that would be deleted')
    .action(async (opts: CdrPruneOptions) => {
      await run((io) => runCdrPrune(opts, io));
    });

  for (const command of cdr.commands) {
    command.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
  }
}

/** Opens a store for the CLI: an unusable address or database is a usage error (exit 2). */
async function openCliStore(address: string, readonly: boolean): Promise<Store> {
  try {
    return await openStore(address, { readonly });
  } catch (err) {
    const hint =
      readonly && err instanceof StoreUnavailableError && parseStoreAddress(address).kind === 'sqlite'
        ? ` (no stories yet? run xcc cdr listen/replay with --db ${address})`
        : '';
    throw usageError(`--db ${redactStoreAddress(address)}: ${oneLine(err)}${hint}`, err);
  }
}

/** `xcc cdr replay`. Exit 0 when every event was read and every story saved; 1 when a save failed. */
export async function runCdrReplay(file: string, opts: CdrReplayOptions, io: CliIo): Promise<number> {
  const format = opts.format ?? replayFormatFromName(file);
  if (format === undefined)
    throw usageError(
      `${file}: cannot tell the format from the name; give --format esl-plain|esl-json|ndjson|yaml|json`,
    );
  const directory = opts.directory === undefined ? undefined : await loadCdrDirectory(opts.directory);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${file}: ${oneLine(err)}`, err);
  }
  let skipped = 0;
  let events: SwitchEvent[];
  try {
    events = readEvents(
      text,
      format,
      opts.skipBad
        ? {
            onError: (e: ReplayFormatError) => {
              skipped++;
              io.err(`xcc cdr replay: skipped: ${oneLine(e)}`);
            },
          }
        : {},
    );
  } catch (err) {
    throw usageError(`${file}: ${oneLine(err)} (--skip-bad skips bad entries)`, err);
  }

  const store = opts.db === undefined ? undefined : await openCliStore(opts.db, false);
  const stories: CallStory[] = [];
  const sink = new StorySink({ io, print: opts.ndjson ?? false, ...(store === undefined ? {} : { store }) });
  try {
    // Replay runs on virtual time that follows the events, so reorder windows and finalisation
    // timeouts behave as they would live, without waiting for them.
    const clock = new VirtualClock(firstTimestampMs(events));
    const engine = startStoryEngine({
      clock,
      onStory: (story) => {
        stories.push(story);
        sink.accept(story);
      },
      onError: (error, id) => io.err(`xcc cdr replay: story ${id} skipped: ${oneLine(error)}`),
      ...(directory === undefined ? {} : { directory }),
    });
    try {
      for (const event of events) {
        const ms = event.timestamp === undefined ? undefined : Math.floor(event.timestamp / 1000);
        if (ms !== undefined && ms > clock.now()) await clock.advance(ms - clock.now());
        engine.ingest(event);
      }
      await engine.finish();
    } finally {
      await engine.close();
    }
    await sink.drained();
  } finally {
    await store?.close();
  }
  if (!(opts.ndjson ?? false)) io.out(JSON.stringify(stories, null, 2));
  io.err(
    `xcc cdr replay: ${events.length} events → ${stories.length} stories` +
      (skipped > 0 ? `, ${skipped} entries skipped` : '') +
      (store === undefined ? '' : `, ${sink.stats.saved} saved in ${store.description}`),
  );
  return sink.stats.failures > 0 ? ExitCode.Failed : ExitCode.OK;
}

function firstTimestampMs(events: readonly SwitchEvent[]): number {
  for (const event of events) if (event.timestamp !== undefined) return Math.floor(event.timestamp / 1000);
  return 0;
}

/** `xcc cdr listen`. Runs until Ctrl-C (exit 0) or until the source is gone for good (exit 1). */
export async function runCdrListen(opts: CdrListenOptions, io: CliIo): Promise<number> {
  if (opts.esl !== undefined && opts.natsGiven && !(opts.publish ?? false))
    throw usageError('--esl and --nats: choose one event source (with --esl, --nats only serves --publish)');
  if (opts.esl !== undefined && (opts.password === undefined || opts.password.length === 0))
    throw usageError(`--esl needs --password (or ${ESL_PASSWORD_ENV})`);
  if (opts.esl === undefined && opts.eslUser !== undefined)
    throw usageError('--esl-user goes with --esl HOST:PORT');
  if (opts.durable !== undefined && opts.esl !== undefined)
    throw usageError('--durable reads the CDR stream on NATS: it does not go with --esl');
  if (opts.stream !== undefined && opts.durable === undefined)
    throw usageError('--stream goes with --durable NAME');
  if (opts.retention !== undefined && opts.db === undefined)
    throw usageError(`--retention needs a store: give --db (or ${CDR_DB_ENV})`);
  const directory = opts.directory === undefined ? undefined : await loadCdrDirectory(opts.directory);
  const reloads = reloadOnRequest(directory, io);
  try {
    return await listenWith(opts, directory, io);
  } finally {
    await reloads.stop();
  }
}

/**
 * SIGHUP while listen runs (`io.onReload`): rereads the `--directory` file, one stderr line either way;
 * open calls are not touched. Without a directory the request is still taken, and ignored, so Node's
 * default action (exit) cannot end the listener. `stop()` lets go and waits for a reload in progress.
 */
function reloadOnRequest(directory: FileDirectory | undefined, io: CliIo): { stop(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  const off = io.onReload?.(() => {
    if (directory === undefined) return;
    const done = directory.reload().then(
      (entries) => io.err(`xcc cdr listen: directory ${directory.path} reloaded: ${entries} entries`),
      (error: unknown) =>
        io.err(`xcc cdr listen: directory reload failed, keeping the old one: ${oneLine(error)}`),
    );
    pending.add(done);
    // Removal is the promise's own continuation; `stop()` awaits what is still pending.
    void done.finally(() => pending.delete(done));
  });
  return {
    stop: async () => {
      off?.();
      await Promise.all([...pending]);
    },
  };
}

/** `xcc cdr listen` once its flags were checked and its directory read: runs until Ctrl-C or a lost source. */
async function listenWith(
  opts: CdrListenOptions,
  directory: FileDirectory | undefined,
  io: CliIo,
): Promise<number> {
  const needsNats = opts.esl === undefined || (opts.publish ?? false);
  const bus = needsNats ? await connectNats(opts, 'xcc-cdr') : undefined;
  let store: Store | undefined;
  try {
    store = opts.db === undefined ? undefined : await openCliStore(opts.db, false);
    const publisher =
      bus !== undefined && (opts.publish ?? false)
        ? new StoryPublisher({
            publish: (subject, data) => bus.publish(subject, data),
            ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
          })
        : undefined;
    const acks = new StoryAcks();
    const sink = new StorySink({
      io,
      print: !(opts.quiet ?? false),
      ...(store === undefined ? {} : { store }),
      ...(publisher === undefined ? {} : { publisher }),
      onHandled: acks.handled,
    });
    const clock = new RealClock();
    const pruner =
      store === undefined || opts.retention === undefined
        ? undefined
        : new RetentionPruner({
            store,
            clock,
            olderThanMs: opts.retention,
            onPruned: (n) =>
              io.err(`xcc cdr listen: retention: ${n} stories deleted from ${store!.description}`),
            onError: (error) => io.err(`xcc cdr listen: retention: prune failed: ${oneLine(error)}`),
          });
    const engine = startStoryEngine({
      clock,
      onStory: (story) => sink.accept(story),
      onError: (error, id) => {
        io.err(`xcc cdr listen: story ${id} skipped: ${oneLine(error)}`);
        acks.failed(error, id);
      },
      ...(opts.finalizeAfter === undefined ? {} : { finalizeAfterMs: opts.finalizeAfter * 1000 }),
      ...(directory === undefined ? {} : { directory }),
    });
    let lost: string | undefined;
    try {
      if (opts.esl !== undefined) {
        lost = await listenEsl(opts.esl, opts, clock, engine.ingest, io);
      } else if (opts.durable !== undefined) {
        lost = await listenDurable(bus!, opts, opts.durable, { engine, sink, acks }, io);
      } else {
        lost = await listenNats(bus!, opts, engine.ingest, io);
      }
    } finally {
      // Calls still open when we stop are not finalised: a restarted engine (or the switch's own
      // CDR) sees their end; a half story saved now would be wrong.
      await engine.close();
      await sink.drained();
      await pruner?.stop();
    }
    io.err(
      `xcc cdr listen: ${sink.stats.stories} stories` +
        (store === undefined ? '' : `, ${sink.stats.saved} saved`) +
        (pruner === undefined ? '' : `, ${pruner.stats.deleted} pruned`) +
        (publisher === undefined ? '' : `, ${sink.stats.published} published on ${publisher.subject}`) +
        (sink.stats.failures > 0 ? `, ${sink.stats.failures} failures` : ''),
    );
    if (lost !== undefined) {
      io.err(`xcc cdr listen: ${lost}`);
      return ExitCode.Failed;
    }
    return ExitCode.OK;
  } finally {
    await store?.close();
    await bus?.close();
  }
}

/** Reads ESL events until Ctrl-C; returns why the stream ended otherwise. */
async function listenEsl(
  endpoint: EslEndpoint,
  opts: CdrListenOptions,
  clock: RealClock,
  ingest: (event: SwitchEvent) => void,
  io: CliIo,
): Promise<string | undefined> {
  const where = `${endpoint.host}:${endpoint.port}`;
  const client = new EslClient({
    connect: tcpEslConnect(endpoint),
    password: opts.password!,
    ...(opts.eslUser === undefined ? {} : { user: opts.eslUser }),
    clock,
    format: opts.eslFormat,
    onStatus: (status) => {
      switch (status.state) {
        case 'connected':
          io.err(`xcc cdr listen: reading ESL events from ${where} (Ctrl-C to stop)`);
          break;
        case 'disconnected':
          io.err(
            `xcc cdr listen: ESL ${where}: ${status.reason === undefined ? 'disconnected' : oneLine(status.reason)}; retrying in ${status.retryInMs} ms`,
          );
          break;
        case 'connecting':
        case 'closed':
          break;
      }
    },
    onParseError: (error) => io.err(`xcc cdr listen: skipped a malformed ESL frame: ${oneLine(error)}`),
  });
  const onStop = (): void => {
    // close() ends the iteration below; its promise settles on its own.
    client.close().catch(() => undefined);
  };
  io.stop.addEventListener('abort', onStop, { once: true });
  try {
    for await (const event of client.events()) ingest(event);
    return undefined;
  } catch (err) {
    // Refused login or subscription: retrying cannot help.
    throw new CliError(`ESL ${where}: ${oneLine(err)}`, ExitCode.Usage, { cause: err });
  } finally {
    io.stop.removeEventListener('abort', onStop);
    await client.close();
  }
}

/**
 * Reads `Event.CDR` from the JetStream stream through the durable consumer until Ctrl-C; each record
 * is acked once its story was stored. Returns why it ended otherwise.
 */
async function listenDurable(
  bus: Awaited<ReturnType<typeof connectNats>>,
  opts: CdrListenOptions,
  durable: string,
  parts: { engine: EngineHandle; sink: StorySink; acks: StoryAcks },
  io: CliIo,
): Promise<string | undefined> {
  const subs = subjects(opts.tenant === undefined ? {} : { tenant: opts.tenant });
  const stream = opts.stream ?? DEFAULT_CDR_STREAM;
  let listener: DurableCdr;
  try {
    listener = await startDurableCdr({
      bus,
      stream,
      durable,
      cdrSubject: subs.cdr,
      ...parts,
      ...(opts.finalizeAfter === undefined ? {} : { finalizeAfterMs: opts.finalizeAfter * 1000 }),
      report: (line) => io.err(`xcc cdr listen: ${line}`),
    });
  } catch (err) {
    if (err instanceof DurableStreamError)
      throw new CliError(`--durable ${durable}: ${oneLine(err)}`, ExitCode.Failed, { cause: err });
    throw err;
  }
  io.err(
    `xcc cdr listen: reading ${subs.cdr} from JetStream stream ${stream} as durable consumer ${durable} at ${opts.nats} (Ctrl-C to stop)`,
  );
  let lost = false;
  await Promise.race([
    untilAborted(io.stop),
    bus.closed.then(() => {
      lost = !io.stop.aborted;
    }),
  ]);
  await listener.close();
  const stats = listener.consumer.stats;
  io.err(
    `xcc cdr listen: ${listener.counts.records} records, ${stats.acked} acked, ${stats.released} given back for the next run` +
      (listener.counts.skipped > 0 ? `, ${listener.counts.skipped} skipped` : ''),
  );
  return lost ? `connection to NATS at ${opts.nats} lost` : undefined;
}

/** Reads XCC events from NATS until Ctrl-C; returns why it ended otherwise. */
async function listenNats(
  bus: Awaited<ReturnType<typeof connectNats>>,
  opts: CdrListenOptions,
  ingest: (event: SwitchEvent) => void,
  io: CliIo,
): Promise<string | undefined> {
  const subs = subjects(opts.tenant === undefined ? {} : { tenant: opts.tenant });
  const converter = new XccEventConverter();
  // Plain subscriptions (no queue group): the engine sees a copy and takes no call from a controller.
  const patterns = [subs.ctrl, `${subs.ctrl}.>`, subs.cdr];
  const subscriptions = patterns.map((subject) =>
    bus.subscribe(subject, {
      callback: (msg) => {
        const event = converter.convert(msg.data, Date.now() * 1000);
        if (event !== undefined) ingest(event);
      },
    }),
  );
  io.err(`xcc cdr listen: reading XCC events on ${patterns.join(', ')} at ${opts.nats} (Ctrl-C to stop)`);
  let lost = false;
  await Promise.race([
    untilAborted(io.stop),
    bus.closed.then(() => {
      lost = !io.stop.aborted;
    }),
  ]);
  for (const sub of subscriptions) sub.unsubscribe();
  return lost ? `connection to NATS at ${opts.nats} lost` : undefined;
}

/** `xcc cdr list`. */
export async function runCdrList(opts: CdrListOptions, io: CliIo): Promise<number> {
  const store = await openCliStore(opts.db, true);
  try {
    const filter: StoryFilter = {
      ...(opts.from === undefined ? {} : { from: opts.from }),
      ...(opts.to === undefined ? {} : { to: opts.to }),
      ...(opts.number === undefined ? {} : { number: opts.number }),
      ...(opts.disposition === undefined ? {} : { disposition: opts.disposition }),
    };
    if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to)
      throw usageError('--from is after --to');
    const stories = await store.list(filter, { limit: opts.limit, offset: opts.offset });
    const total = await store.count(filter);
    for (const story of stories) io.out(opts.json ? JSON.stringify(story) : storyLine(story));
    io.err(
      stories.length === 0
        ? `xcc cdr list: no stories match (${total} in all with these filters)`
        : `xcc cdr list: ${opts.offset + 1}–${opts.offset + stories.length} of ${total}`,
    );
    return ExitCode.OK;
  } finally {
    await store.close();
  }
}

/** `xcc cdr prune --older-than SPAN`. Exit 1 when the store refused the delete. */
export async function runCdrPrune(opts: CdrPruneOptions, io: CliIo): Promise<number> {
  const store = await openCliStore(opts.db, opts.dryRun ?? false);
  try {
    const now = Date.now();
    const cutoff = new Date(now - opts.olderThan).toISOString();
    if (opts.dryRun ?? false) {
      const n = await store.count({ to: (now - opts.olderThan) * 1000 });
      io.err(
        `xcc cdr prune: ${n} stories started before ${cutoff} would be deleted from ${store.description}`,
      );
      return ExitCode.OK;
    }
    let n: number;
    try {
      n = await pruneStories(store, opts.olderThan, now);
    } catch (err) {
      throw new CliError(`prune failed in ${store.description}: ${oneLine(err)}`, ExitCode.Failed, {
        cause: err,
      });
    }
    io.err(`xcc cdr prune: ${n} stories started before ${cutoff} deleted from ${store.description}`);
    return ExitCode.OK;
  } finally {
    await store.close();
  }
}

/** `xcc cdr show ID`. Exit 1 when there is no such story. */
export async function runCdrShow(id: string, opts: CdrShowOptions, io: CliIo): Promise<number> {
  const store = await openCliStore(opts.db, true);
  try {
    const story = await store.get(id);
    if (story === undefined) throw new CliError(`no story ${id} in ${store.description}`, ExitCode.Failed);
    io.out(JSON.stringify(story, null, 2));
    return ExitCode.OK;
  } finally {
    await store.close();
  }
}
