/**
 * Heap per held call: `node --expose-gc dist/bench/heap-proc.js MODE N` holds N answered, idle calls in
 * ONE process on MemoryBus (VirtualClock: nothing times out while we measure) and prints one JSON line
 * `{mode, calls, heapBeforeBytes, heapAfterBytes, bytesPerCall}`.
 * MODE `both`: node + Controller (its flow answers and waits for the end of the call).
 * MODE `node`: node only; a raw subscription answers each new call (holds nothing per call), so the
 * difference between the two runs is the controller's share.
 */
import { writeHeapSnapshot } from 'node:v8';
import { MemoryBroker } from '../src/bus/index.js';
import { VirtualClock } from '../src/clock/index.js';
import { Controller } from '../src/ctrl/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) g();
}

async function main(): Promise<void> {
  process.stdout.write('ready\n');
  const mode = process.argv[2] === 'node' ? 'node' : 'both';
  const total = Number(process.argv[3] ?? 10_000);
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const media = new SimMedia({ clock });
  const node = new XNode({ bus: broker.connect('node'), clock, media });
  await node.start();
  let answered = 0;
  let ctrl: Controller | undefined;
  const ctrlBus = broker.connect('ctrl');
  if (mode === 'both') {
    ctrl = new Controller({ bus: ctrlBus, clock });
    ctrl.onCall(async (call) => {
      await call.answer();
      answered++;
      // Idle until the flow is cancelled (DESTROY, reap, close). Not `await call.ended`: a flow waiting
      // on that blocks Controller.close() (reported bug).
      await new Promise<void>((resolve) =>
        call.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    });
    await ctrl.start();
  } else {
    // Raw controller: answers every START with XNode.Answer and keeps nothing per call.
    let id = 0;
    ctrlBus.subscribe('cn.xswitch.ctrl', {
      queue: 'xctrl',
      callback: (msg) => {
        const ev = JSON.parse(decoder.decode(msg.data)) as { params?: { uuid?: string; node_uuid?: string } };
        const { uuid, node_uuid: nodeUuid } = ev.params ?? {};
        if (!uuid || !nodeUuid) return;
        const req = {
          jsonrpc: '2.0',
          id: `h${++id}`,
          method: 'XNode.Answer',
          params: { ctrl_uuid: 'heap-raw', uuid },
        };
        ctrlBus
          .request(`cn.xswitch.node.${nodeUuid}`, encoder.encode(JSON.stringify(req)), { timeoutMs: 60_000 })
          .then(
            () => {
              answered++;
            },
            () => {},
          );
      },
    });
  }
  // Warm up one call so lazily created structures are not charged to the measured calls.
  node.inject({ cid_name: 'warm', cid_number: '1', dest_number: '1' });
  while (answered < 1) await clock.tick();
  answered = 0;
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < total; i++) {
    node.inject({ cid_name: 'Caller', cid_number: String(1_000_000 + i), dest_number: '8000' });
    if (i % 500 === 499) await clock.tick();
  }
  let spins = 0;
  while (answered < total && spins++ < 10_000) await clock.tick();
  gc();
  const after = process.memoryUsage().heapUsed;
  const result = {
    mode,
    calls: total,
    answered,
    nodeChannels: node.channelCount,
    heapBeforeBytes: before,
    heapAfterBytes: after,
    bytesPerCall: Math.round((after - before) / total),
  };
  // BENCH_HEAP_SNAPSHOT=<file>: also write a heap snapshot of the held state (to see what a call holds).
  const snapshot = process.env.BENCH_HEAP_SNAPSHOT;
  if (snapshot) writeHeapSnapshot(`${snapshot}.${mode}.heapsnapshot`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await ctrl?.close();
  await node.stop();
  await media.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`heap-proc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
