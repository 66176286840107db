/**
 * Wire-level test harness for the node: a VirtualClock, a MemoryBroker, a SimMedia-backed XNode and a
 * "controller" connection that sends raw JSON-RPC and records every event the node publishes.
 * Used by src/node/*.test.ts; exported for scenario tests elsewhere.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import { MemoryBroker } from '../bus/memory-bus.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { encode, request } from '../protocol/envelope.js';
import { subjects } from '../protocol/subjects.js';
import type { DestinationBehaviour, InboundOffer } from './media.js';
import { XNode, type XNodeOptions } from './node.js';
import { SimMedia } from './sim/index.js';

/** One message the node published, decoded. */
export interface WireMsg {
  subject: string;
  method: string | undefined;
  id: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: test inspection of arbitrary wire JSON
  params: Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: test inspection of arbitrary wire JSON
  result: Record<string, any> | undefined;
}

export interface HarnessOptions {
  directory?: Record<string, DestinationBehaviour>;
  defaultBehaviour?: DestinationBehaviour | null;
  node?: Partial<XNodeOptions>;
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

let seq = 0;

export async function startHarness(options: HarnessOptions = {}) {
  const clock = new VirtualClock();
  const broker = new MemoryBroker({ clock });
  const nodeBus: Bus = broker.connect('node');
  const ctrlBus: Bus = broker.connect('ctrl');
  const media = new SimMedia({
    clock,
    directory: options.directory ?? { '*': { answer_after_ms: 1000 } },
    ...(options.defaultBehaviour !== undefined ? { defaultBehaviour: options.defaultBehaviour } : {}),
    recordRoot: mkdtempSync(join(tmpdir(), 'openxcc-node-test-')),
  });
  let n = 0;
  const node = new XNode({
    bus: nodeBus,
    clock,
    media,
    nodeUuid: 'node1',
    newUuid: () => `ch${++n}`,
    ...options.node,
  });
  const s = subjects(options.node?.subjectOptions);
  const log: WireMsg[] = [];
  const record = (msg: { subject: string; data: Uint8Array }): void => {
    const m = JSON.parse(new TextDecoder().decode(msg.data));
    log.push({ subject: msg.subject, method: m.method, id: m.id, params: m.params ?? {}, result: m.result });
  };
  const subs = [
    ctrlBus.subscribe(s.ctrl, { callback: record }),
    ctrlBus.subscribe(`${s.ctrl}.>`, { callback: record }),
    ctrlBus.subscribe(s.cdr, { callback: record }),
    ctrlBus.subscribe(s.status, { callback: record }),
  ];
  await node.start();
  const baseline = { timers: clock.pending, subscriptions: nodeBus.subscriptionCount };

  /** Sends a request to the node's own subject; resolves with the decoded response. */
  // biome-ignore lint/suspicious/noExplicitAny: raw wire JSON
  const send = async (method: string, params: Record<string, unknown>, ctrl = 'c1'): Promise<any> => {
    const body = encode(request(method, { ctrl_uuid: ctrl, ...params }, `r${++seq}`));
    const reply = await ctrlBus.request(s.nodeOf(node.uuid), body, { timeoutMs: 24 * 3_600_000 });
    return JSON.parse(new TextDecoder().decode(reply.data));
  };

  return {
    clock,
    broker,
    node,
    media,
    log,
    ctrlBus,
    subjects: s,
    baseline,
    send,
    /** Sends and returns `result` (throws on a JSON-RPC error). */
    // biome-ignore lint/suspicious/noExplicitAny: raw wire JSON
    async call(method: string, params: Record<string, unknown>, ctrl = 'c1'): Promise<any> {
      const res = await send(method, params, ctrl);
      if (res.error) throw new Error(`${method}: JSON-RPC error ${res.error.code} ${res.error.message}`);
      return res.result;
    },
    /** Lets deliveries and promise chains settle without moving time. */
    async tick(): Promise<void> {
      await clock.tick();
      await clock.tick();
    },
    inject(offer: Partial<InboundOffer> = {}): string {
      return node.inject({
        cid_name: 'Alice',
        cid_number: '1000',
        dest_number: '9196',
        domain: 'test.local',
        ...offer,
      });
    },
    /** Event.Channel messages, optionally for one channel. */
    channelEvents(uuid?: string): WireMsg[] {
      return log.filter(
        (m) => m.method === 'Event.Channel' && (uuid === undefined || m.params.uuid === uuid),
      );
    },
    states(uuid: string): string[] {
      return log
        .filter((m) => m.method === 'Event.Channel' && m.params.uuid === uuid)
        .map((m) => m.params.state as string);
    },
    events(method: string): WireMsg[] {
      return log.filter((m) => m.method === method);
    },
    async close(): Promise<void> {
      await node.stop();
      for (const sub of subs) sub.unsubscribe();
      await ctrlBus.close();
      await nodeBus.close();
    },
  };
}
