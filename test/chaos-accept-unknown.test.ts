/**
 * Found by the chaos soak (bench/chaos-soak.ts, 5 % loss): an Accept the node executed but whose every
 * answer was lost. The controller sees `RpcTimeoutError` (outcome unknown) and drops the call; the node
 * has the channel owned by that controller, so its 10 s takeover rule no longer applies, and a caller
 * who never hangs up stays on the node forever. The controller must hang such a call up (a Hangup from a
 * controller that does not own the channel is refused by the node, so this is safe either way).
 *
 * MemoryBus + VirtualClock, real XNode + SimMedia and Controller; the node's bus loses exactly the
 * answers to `XNode.Accept` (plain mode: the `respond()`; reliable mode: the publish to the ctrl subject).
 */
import { describe, expect, it } from 'vitest';
import type { Bus, BusMsg, SubscribeOptions } from '../src/bus/index.js';
import { MemoryBroker } from '../src/bus/index.js';
import { VirtualClock } from '../src/clock/index.js';
import { Controller } from '../src/ctrl/index.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';

const decoder = new TextDecoder();

function parse(data: Uint8Array): { id?: unknown; method?: unknown } {
  try {
    return JSON.parse(decoder.decode(data)) as { id?: unknown; method?: unknown };
  } catch {
    return {};
  }
}

/** Makes `bus` lose every answer to an `XNode.Accept` request it receives; counts what it lost. */
function loseAcceptAnswers(bus: Bus): { lost: number } {
  const counter = { lost: 0 };
  const acceptIds = new Set<unknown>();
  const subscribe = bus.subscribe.bind(bus);
  const publish = bus.publish.bind(bus);
  bus.subscribe = (subject: string, options: SubscribeOptions = {}) => {
    const callback = options.callback;
    if (!callback) return subscribe(subject, options);
    return subscribe(subject, {
      ...options,
      callback: (msg: BusMsg) => {
        const req = parse(msg.data);
        if (req.method !== 'XNode.Accept') return callback(msg);
        acceptIds.add(req.id);
        callback({
          ...msg,
          respond: () => {
            counter.lost++;
            return true;
          },
        });
      },
    });
  };
  bus.publish = (subject: string, data: Uint8Array, options?: { reply?: string }) => {
    const id = parse(data).id;
    if (id !== undefined && acceptIds.has(id)) {
      counter.lost++;
      return;
    }
    publish(subject, data, options);
  };
  return counter;
}

describe('an Accept with an unknown outcome (every answer lost) does not leave the call on the node', () => {
  it.each([
    ['plain', false],
    ['reliable', true],
  ])(
    '%s: the controller hangs the call up; node and controller hold nothing afterwards',
    async (_, reliable) => {
      const clock = new VirtualClock();
      const broker = new MemoryBroker({ clock });
      const nodeBus = broker.connect('node');
      const lost = loseAcceptAnswers(nodeBus);
      const media = new SimMedia({ clock });
      const node = new XNode({ bus: nodeBus, clock, media, reliability: reliable });
      await node.start();
      const ctrl = new Controller({ bus: broker.connect('ctrl'), clock, reliability: reliable });
      let flows = 0;
      ctrl.onCall(async () => {
        flows++;
      });
      await ctrl.start();

      const started = clock.now();
      node.inject({ cid_name: 'Lost', cid_number: '1000', dest_number: '2000' });
      // The node ran the Accept (the channel is owned: the 10 s takeover rule is off) but the answers are gone.
      for (let t = 0; t < 60_000 && node.channelCount > 0; t += 500) await clock.advance(500);

      expect(lost.lost).toBeGreaterThan(0);
      expect(flows).toBe(0);
      expect(ctrl.stats()).toMatchObject({ offered: 1, accepted: 0 });
      expect(node.channelCount).toBe(0);
      // Hung up by the controller well before any sweep: within the Accept's timeout plus one hangup.
      expect(clock.now() - started).toBeLessThan(20_000);
      expect(ctrl.leaks()).toMatchObject({ calls: 0, flows: 0, tasks: 0, rpcPending: 0 });

      const closing = (async () => {
        await ctrl.close();
        await node.stop();
        await media.stop();
      })();
      for (let i = 0; i < 120; i++) await clock.advance(1_000);
      await closing;
    },
  );
});
