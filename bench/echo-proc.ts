/**
 * Baseline responder: answers every request on `bench.echo` with its own payload, using the official
 * NATS client and nothing of ours. Run as a separate process (`node dist/bench/echo-proc.js URL`) so
 * the baseline crosses the same process boundary as the e2e run. Prints `ready` once subscribed.
 */
import { connect } from '@nats-io/transport-node';
import { ECHO_SUBJECT } from './constants.js';

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error('usage: echo-proc.js NATS_URL');
  const nc = await connect({ servers: url, name: 'bench-echo' });
  nc.subscribe(ECHO_SUBJECT, {
    callback: (err, msg) => {
      if (err) return;
      msg.respond(msg.data);
    },
  });
  await nc.flush();
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    nc.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`echo-proc: ${String(err)}\n`);
  process.exit(1);
});
