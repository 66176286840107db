/**
 * A CLI-less runner: wires the dispatch console on a MemoryBus with a simulated node (XNode + SimMedia),
 * a controller and the flow runtime, then plays a short operator session over the bus and prints each
 * command and its reply. Run it with `node --import tsx examples/dispatch/main.ts` (real time, a few
 * seconds); the tests run the same `runDemo` in virtual time.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { MemoryBroker } from '../../src/bus/index.js';
import { type Clock, RealClock } from '../../src/clock/index.js';
import { Controller } from '../../src/ctrl/index.js';
import { UserManager } from '../../src/flow/index.js';
import { XNode } from '../../src/node/index.js';
import { SimMedia } from '../../src/node/sim/index.js';
import type { Reply } from './commands.js';
import { startDispatch } from './dispatch.js';

export interface DemoOptions {
  /** Default: the real clock. */
  clock?: Clock;
  /** Receives each printed line (default: stdout). */
  log?: (line: string) => void;
}

/** Who answers and how fast (operators 2000/2001, users 1001–1005). */
const DIRECTORY = Object.fromEntries(
  ['2000', '2001', '1001', '1002', '1003', '1004', '1005'].map((n) => [n, { answer_after_ms: 300 }]),
);

const SUBJECT = 'dispatch.cmd';

/** Runs the demo session; resolves with every reply, in order, after everything was closed. */
export async function runDemo(options: DemoOptions = {}): Promise<Reply[]> {
  const clock = options.clock ?? new RealClock();
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const broker = new MemoryBroker({ clock });
  const media = new SimMedia({ clock, directory: DIRECTORY });
  const nodeBus = broker.connect('node');
  const node = new XNode({ bus: nodeBus, clock, media, nodeUuid: 'sim-node' });
  await node.start();
  const ctrlBus = broker.connect('ctrl');
  const controller = new Controller({ bus: ctrlBus, clock, ctrlUuid: 'dispatch-ctrl' });
  await controller.start();
  const userManager = new UserManager({ controller, clock, gcIdleMs: 10_000 });
  const dispatchBus = broker.connect('dispatch');
  const dispatch = startDispatch({ bus: dispatchBus, clock, controller, userManager, subject: SUBJECT });
  const console_ = broker.connect('console');
  const replies: Reply[] = [];
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let seq = 0;

  const send = async (cmd: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const body = { id: ++seq, ...cmd };
    log(`> ${JSON.stringify(body)}`);
    const msg = await console_.request(SUBJECT, encoder.encode(JSON.stringify(body)), { timeoutMs: 60_000 });
    const reply = JSON.parse(decoder.decode(msg.data)) as Reply;
    log(`< ${JSON.stringify(reply)}`);
    replies.push(reply);
    return reply.ok ? reply.result : {};
  };

  try {
    const group = await send({
      cmd: 'group',
      users: ['1001', '1002', '1003'],
      operator: '2000',
      room: 'demo',
    });
    const call = await send({ cmd: 'call', operator: '2001', user: '1003' }); // 1003 leaves the group call
    await send({ cmd: 'status', users: ['1003', '1001'] });
    await send({ cmd: 'end', session: call.session }); // 1003 goes back to the group call
    await send({ cmd: 'call', operator: '2001', user: '1004' }); // ended by the insert, which takes both
    const insert = await send({ cmd: 'insert', operator: '2000', user: '1004' }); // 2001 on hold
    await send({ cmd: 'end', session: insert.session }); // 1004 and 2001 talk again
    const monitor = await send({ cmd: 'monitor', operator: '2000', user: '1001' });
    await send({ cmd: 'end', session: monitor.session });
    const transfer = await send({ cmd: 'transfer', operator: '2001', user: '1004', to: '1005' });
    await send({ cmd: 'complete', session: transfer.session }); // 1004 talks to 1005, 2001 dropped
    await send({ cmd: 'nonsense' });
    await send({ cmd: 'release', user: '1004' });
    await send({ cmd: 'release', user: '1005' });
    await send({ cmd: 'end', session: group.session });
    await send({ cmd: 'status' });
  } finally {
    await dispatch.close();
    await userManager.close();
    await controller.close();
    await node.stop();
    await media.stop();
    for (const bus of [console_, dispatchBus, ctrlBus, nodeBus]) await bus.close();
  }
  return replies;
}

/** True when this file is the script node was started with. */
function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) {
  // The real clock's timers do not keep the process alive (they are unref'd): this does, until the end.
  const keepAlive = setInterval(() => {}, 1000);
  runDemo()
    .finally(() => clearInterval(keepAlive))
    .then(
      (replies) => {
        const failed = replies.filter((r) => !r.ok).length;
        process.stdout.write(
          `${replies.length} commands, ${failed} answered with an error (one on purpose)\n`,
        );
      },
      (err: unknown) => {
        process.stderr.write(`dispatch demo failed: ${String(err)}\n`);
        process.exitCode = 1;
      },
    );
}
