/**
 * The graph example, embedded: a simulated node and the app of `app.json` (billing, report, metrics,
 * the IVR router and the per-call pipeline) on an in-memory bus, with a clock running `--speed` times
 * faster than real time. It sends `--calls` callers of the `xcc demo` cast, waits until they ended,
 * closes the app (router first, billing last) and prints billing and metrics.
 *
 *   node --import tsx examples/graph/main.ts [--calls 6] [--speed 20]
 *
 * Report lines (one JSON line per ended call) go to stdout, as `xcc ctrl examples/graph/app.json` does.
 */
import { parseArgs } from 'node:util';
import { ScaledClock } from '../../src/cli/scaled-clock.js';
import { DEMO_CALLERS, DEMO_DEST_NUMBER } from '../../src/cli/demo/callers.js';
import { describeFailures } from '../../src/cli/app/index.js';
import { startExample } from './harness.js';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '6' }, speed: { type: 'string', default: '20' } },
});
const calls = Number(values.calls);
const speed = Number(values.speed);
if (!Number.isInteger(calls) || calls < 1 || !Number.isFinite(speed) || speed <= 0) {
  process.stderr.write('usage: main.ts [--calls N>0] [--speed X>0]\n');
  process.exit(2);
}

const clock = new ScaledClock(speed);
// The clock's timers are unref'd and the in-memory bus holds no handle: keep the process alive.
const keepAlive = setInterval(() => {}, 1 << 30);
let reported = 0;
const ex = await startExample({
  clock,
  out: (line) => {
    if (line.startsWith('{')) reported++;
    process.stdout.write(`${line}\n`);
  },
});
process.stdout.write(`app started: ${ex.graph.extensionNames.join(', ')}\n`);
for (let i = 0; i < calls; i++) {
  const caller = DEMO_CALLERS[i % DEMO_CALLERS.length]!;
  ex.node.inject({
    cid_name: 'Caller',
    cid_number: caller.from,
    dest_number: DEMO_DEST_NUMBER,
    script: caller.script,
  });
  await clock.sleep(2000);
}
// Every call ends within two minutes of clock time (the longest caller is the voicemail one).
for (let waited = 0; reported < calls && waited < 120_000; waited += 500) await clock.sleep(500);
const billing = await ex.graph.sendCmd('billing', 'billing');
const metrics = await ex.graph.sendCmd('observability', 'metrics');
const report = await ex.graph.close('example done');
process.stdout.write(`billing: ${JSON.stringify(billing.status === 'ok' ? billing.detail : billing)}\n`);
process.stdout.write(`metrics: ${JSON.stringify(metrics.status === 'ok' ? metrics.detail : metrics)}\n`);
for (const line of describeFailures(report)) process.stderr.write(`failure: ${line}\n`);
await ex.stop();
clearInterval(keepAlive);
process.exit(reported === calls && report.failures.length === 0 ? 0 : 1);
