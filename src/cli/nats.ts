/**
 * The NATS connection flags every distributed command shares (`--nats --user --pass --token --creds
 * --tls-ca --tls-cert --tls-key --tenant`), their environment fallbacks (XCC_NATS_URL…), and the connect
 * step that turns an unreachable server into one clear line with exit code 2.
 */
import { type Command, Option } from 'commander';
import { NatsBus, type NatsBusOptions } from '../bus/index.js';
import type { Logger } from '../protocol/index.js';
import { usageError } from './errors.js';
import { natsUrl, subjectToken } from './option-parsers.js';

/** Default server when neither `--nats` nor `XCC_NATS_URL` is given. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** The parsed connection flags (commander's camel-cased names). */
export interface NatsFlags {
  nats: string;
  user?: string;
  pass?: string;
  token?: string;
  creds?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tenant?: string;
  connectTimeout?: number;
}

/** Flag → environment variable (documented in docs/cli.md). */
export const NATS_ENV = {
  nats: 'XCC_NATS_URL',
  user: 'XCC_NATS_USER',
  pass: 'XCC_NATS_PASS',
  token: 'XCC_NATS_TOKEN',
  creds: 'XCC_NATS_CREDS',
  tlsCa: 'XCC_NATS_TLS_CA',
  tlsCert: 'XCC_NATS_TLS_CERT',
  tlsKey: 'XCC_NATS_TLS_KEY',
  tenant: 'XCC_TENANT',
} as const;

/** Adds the connection flags to a command. */
export function addNatsFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--nats <url>', 'NATS server URL (comma-separated for a cluster)')
        .env(NATS_ENV.nats)
        .default(DEFAULT_NATS_URL)
        .argParser(natsUrl),
    )
    .addOption(new Option('--user <user>', 'NATS user (with --pass)').env(NATS_ENV.user))
    .addOption(new Option('--pass <password>', 'NATS password').env(NATS_ENV.pass))
    .addOption(new Option('--token <token>', 'NATS token').env(NATS_ENV.token))
    .addOption(new Option('--creds <file>', 'NATS .creds file (JWT + nkey)').env(NATS_ENV.creds))
    .addOption(new Option('--tls-ca <file>', 'CA bundle to verify the NATS server').env(NATS_ENV.tlsCa))
    .addOption(new Option('--tls-cert <file>', 'client certificate (mutual TLS)').env(NATS_ENV.tlsCert))
    .addOption(new Option('--tls-key <file>', 'client key (mutual TLS)').env(NATS_ENV.tlsKey))
    .addOption(
      new Option('--tenant <name>', 'tenant subject prefix (<tenant>.cn.xswitch.…)')
        .env(NATS_ENV.tenant)
        .argParser(subjectToken),
    );
}

/** Maps the flags onto `NatsBusOptions`, rejecting inconsistent combinations (exit 2). */
export function natsBusOptions(flags: NatsFlags, name: string, logger?: Logger): NatsBusOptions {
  if ((flags.user === undefined) !== (flags.pass === undefined)) {
    throw usageError('--user and --pass go together');
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw usageError('--tls-cert and --tls-key go together');
  }
  const options: NatsBusOptions = {
    servers: flags.nats.split(',').map((s) => s.trim()),
    name,
    // A CLI talking to a server that went away should say so rather than hang forever reconnecting.
    maxReconnectAttempts: 30,
    connectTimeoutMs: flags.connectTimeout ?? 3_000,
  };
  if (flags.user !== undefined) options.user = flags.user;
  if (flags.pass !== undefined) options.pass = flags.pass;
  if (flags.token !== undefined) options.token = flags.token;
  if (flags.creds !== undefined) options.credsFile = flags.creds;
  if (flags.tlsCa !== undefined || flags.tlsCert !== undefined) {
    options.tls = {};
    if (flags.tlsCa !== undefined) options.tls.caFile = flags.tlsCa;
    if (flags.tlsCert !== undefined) options.tls.certFile = flags.tlsCert;
    if (flags.tlsKey !== undefined) options.tls.keyFile = flags.tlsKey;
  }
  if (logger !== undefined) options.logger = logger;
  return options;
}

/** Connects, or throws a one-line `CliError` (exit 2) naming the URL and the reason. */
export async function connectNats(flags: NatsFlags, name: string, logger?: Logger): Promise<NatsBus> {
  const options = natsBusOptions(flags, name, logger);
  try {
    return await NatsBus.connect(options);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // NatsBus names the URL already; make sure the line does even for other failures.
    throw usageError(
      message.includes('NATS') ? message : `cannot connect to NATS at ${flags.nats}: ${message}`,
      err,
    );
  }
}
