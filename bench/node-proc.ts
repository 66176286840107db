/**
 * Benchmark node process: `node dist/bench/node-proc.js NATS_URL` runs one XNode with the simulated
 * media backend over NATS on the real clock. Prints `ready` once serving; SIGTERM stops it cleanly.
 */
import { NatsBus } from '../src/bus/index.js';
import { RealClock } from '../src/clock/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error('usage: node-proc.js NATS_URL');
  const clock = new RealClock();
  const bus = await NatsBus.connect({ servers: url, name: 'bench-node' });
  const media = new SimMedia({ clock });
  const node = new XNode({ bus, clock, media, name: 'bench-node' });
  await node.start();
  await bus.flush();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    const stop = async (): Promise<void> => {
      await node.stop();
      await media.stop();
      await bus.close();
    };
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`node-proc stop: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`node-proc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
