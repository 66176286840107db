/**
 * Benchmark controller process: `node dist/bench/ctrl-proc.js NATS_URL` runs one Controller over NATS
 * with the benchmark IVR flow: Answer → Play `silence_stream://0` → ReadDTMF (the caller pre-pressed a
 * digit) → Hangup. Prints `ready` once serving. Answers `bench.ctrl.stats` with its counters (calls,
 * failures, messages sent to node subjects) so the driver can compute RPCs per call.
 */
import { NatsBus } from '../src/bus/index.js';
import { RealClock } from '../src/clock/index.js';
import { Controller } from '../src/ctrl/index.js';
import { CTRL_STATS_SUBJECT } from './constants.js';
import { CountingBus } from './counting-bus.js';

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error('usage: ctrl-proc.js NATS_URL');
  const clock = new RealClock();
  const nats = await NatsBus.connect({ servers: url, name: 'bench-ctrl' });
  const bus = new CountingBus(nats, 'cn.xswitch.node');
  const ctrl = new Controller({ bus, clock });
  let calls = 0;
  let failures = 0;
  let firstError: string | undefined;
  ctrl.onCall(async (call) => {
    try {
      await call.answer();
      await call.play('silence_stream://0');
      const input = await call.readDtmf({ min: 1, max: 1, timeoutMs: 5000 });
      if (input.digits !== '1') throw new Error(`expected digit 1, got ${JSON.stringify(input)}`);
      await call.hangup();
      calls++;
    } catch (err) {
      failures++;
      firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw err;
    }
  });
  await ctrl.start();
  nats.subscribe(CTRL_STATS_SUBJECT, {
    callback: (msg) => {
      const stats = { calls, failures, firstError, sentToNode: bus.sentToPrefix };
      msg.respond(new TextEncoder().encode(JSON.stringify(stats)));
    },
  });
  await nats.flush();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    const stop = async (): Promise<void> => {
      await ctrl.close();
      await nats.close();
    };
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`ctrl-proc stop: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`ctrl-proc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
