/**
 * Scenario fixtures: one function (`makeWorld`) builds a node (XNode + SimMedia) and N controllers
 * either on a `MemoryBroker` with a `VirtualClock` (fast, deterministic) or on a real `nats-server`
 * with the real clock, so each end-to-end scenario runs unchanged on both. Plus wire-level helpers:
 * `Tap` (collects decoded JSON-RPC messages on a subject and awaits the one you want) and `rawRequest`.
 *
 * On NATS nothing sleeps: waits are for messages, guarded by a real-time limit that only fails a
 * broken test instead of hanging it.
 */
import { NatsBus } from '../../src/bus/nats-bus.js';
import type { Bus, BusMsg, Subscription } from '../../src/bus/index.js';
import { MemoryBroker } from '../../src/bus/index.js';
import { type Clock, RealClock, VirtualClock } from '../../src/clock/index.js';
import { Controller, type ControllerOptions } from '../../src/ctrl/index.js';
import type { DestinationBehaviour, InboundOffer } from '../../src/node/media.js';
import { XNode, type XNodeOptions } from '../../src/node/index.js';
import { SimMedia, type SimMediaOptions } from '../../src/node/sim/index.js';
import { type Subjects, subjects } from '../../src/protocol/subjects.js';
import { type NatsServerHandle, startNatsServer } from './nats-server.js';

export type Transport = 'memory' | 'nats';

/** Both transports, for `describe.each`. */
export const BOTH: Transport[] = ['memory', 'nats'];
export const MEMORY_ONLY: Transport[] = ['memory'];

/** Real-time guard for waits on NATS (a broken test fails after this instead of hanging). */
export const NATS_WAIT_MS = 5_000;

export interface WorldOptions {
  /** Number of controllers (default 1). 0 = wire-level tests drive the node by hand. */
  ctrls?: number;
  /** Simulated destinations for Dial/Bridge (SimMedia `directory`). */
  directory?: Record<string, DestinationBehaviour>;
  /** Extra SimMedia options. */
  media?: Partial<SimMediaOptions>;
  /** Extra XNode options (bus, clock, media are set by the fixture). */
  node?: Partial<XNodeOptions>;
  /** Extra options for every controller (bus, clock are set by the fixture). */
  ctrl?: Partial<ControllerOptions>;
  /** Largest payload the bus carries: nats-server `max_payload`, or the MemoryBroker's `maxPayload`. */
  maxPayload?: number;
}

export interface World {
  readonly transport: Transport;
  readonly clock: Clock;
  /** The virtual clock on `memory`; undefined on `nats`. */
  readonly virtual: VirtualClock | undefined;
  /** The broker on `memory` (stats for leak checks). */
  readonly broker: MemoryBroker | undefined;
  readonly server: NatsServerHandle | undefined;
  readonly node: XNode;
  readonly media: SimMedia;
  readonly nodeBus: Bus;
  readonly ctrls: Controller[];
  readonly ctrlBuses: Bus[];
  /** A spare connection for raw wire access (taps, raw requests). */
  readonly probe: Bus;
  readonly subjects: Subjects;
  /** Opens another connection to the same bus. */
  connect(name: string): Promise<Bus>;
  /** Injects an inbound simulated call on the node; returns its uuid. */
  inject(offer: Partial<InboundOffer>): string;
  /**
   * Lets time pass: `memory` advances the virtual clock; `nats` only yields to I/O (real time passes by
   * itself — scenarios that need a long wait are memory-only).
   */
  advance(ms: number): Promise<void>;
  /** Lets in-flight messages settle (memory: microtasks; nats: a flush round trip). */
  settle(): Promise<void>;
  /**
   * Awaits `promise`, moving time as needed: on `memory` the virtual clock advances in `stepMs` steps
   * (at most `budgetMs` of virtual time, then it fails); on `nats` it waits up to `waitMs` real ms.
   */
  drive<T>(promise: Promise<T>, options?: { budgetMs?: number; stepMs?: number }): Promise<T>;
  /** Guard for message waits: real ms on NATS; on memory a generous real-time guard too. */
  readonly waitMs: number;
  /** Watches `subject` on the probe connection; the tap closes with the world. */
  tap(subject: string): Tap;
  /** Closes taps, controllers, node, buses and the server (in that order). */
  close(): Promise<void>;
}

let offerSeq = 0;

/** Builds node + controllers on the chosen transport. */
export async function makeWorld(transport: Transport, options: WorldOptions = {}): Promise<World> {
  const virtual = transport === 'memory' ? new VirtualClock() : undefined;
  const clock: Clock = virtual ?? new RealClock();
  let broker: MemoryBroker | undefined;
  let server: NatsServerHandle | undefined;
  const buses: Bus[] = [];

  const connect = async (name: string): Promise<Bus> => {
    let bus: Bus;
    if (broker) bus = broker.connect(name);
    else if (server) bus = await NatsBus.connect({ servers: server.url, name });
    else throw new Error('world has no transport');
    buses.push(bus);
    return bus;
  };

  if (transport === 'memory') {
    broker = new MemoryBroker(
      options.maxPayload === undefined ? { clock } : { clock, maxPayload: options.maxPayload },
    );
  } else
    server = await startNatsServer(
      options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload },
    );

  const nodeBus = await connect('node');
  const media = new SimMedia({ clock, directory: options.directory ?? {}, ...options.media });
  const node = new XNode({ bus: nodeBus, clock, media, ...options.node });
  await node.start();

  const ctrls: Controller[] = [];
  const ctrlBuses: Bus[] = [];
  for (let i = 0; i < (options.ctrls ?? 1); i++) {
    const bus = await connect(`ctrl-${i}`);
    const ctrl = new Controller({ bus, clock, ...options.ctrl });
    await ctrl.start();
    ctrls.push(ctrl);
    ctrlBuses.push(bus);
  }
  const probe = await connect('probe');
  const taps: Tap[] = [];
  const subs = subjects(options.node?.subjectOptions);

  const settle = async (): Promise<void> => {
    if (virtual) {
      await virtual.tick();
      return;
    }
    for (const bus of buses) await bus.flush();
  };

  const drive = async <T>(
    promise: Promise<T>,
    opts: { budgetMs?: number; stepMs?: number } = {},
  ): Promise<T> => {
    let settled = false;
    promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    if (virtual) {
      const budget = opts.budgetMs ?? 120_000;
      const step = opts.stepMs ?? 50;
      await virtual.tick();
      for (let t = 0; !settled && t < budget; t += step) {
        await virtual.advance(step);
        // Real I/O (the simulator writes WAV files) needs a real event-loop turn now and then, or
        // virtual time would race ahead of it.
        if (!settled) await new Promise<void>((resolve) => setTimeout(resolve, 0));
      }
      if (!settled) throw new Error(`not settled within ${budget} ms of virtual time`);
      return promise;
    }
    return withTimeout(promise, opts.budgetMs ?? NATS_WAIT_MS);
  };

  return {
    transport,
    clock,
    virtual,
    broker,
    server,
    node,
    media,
    nodeBus,
    ctrls,
    ctrlBuses,
    probe,
    subjects: subs,
    connect,
    inject: (offer) =>
      node.inject({
        cid_name: 'Caller',
        cid_number: `1${String(++offerSeq).padStart(9, '0')}`,
        dest_number: '1000',
        ...offer,
      }),
    advance: async (ms) => {
      if (virtual) await virtual.advance(ms);
      else await settle();
    },
    settle,
    drive,
    waitMs: transport === 'nats' ? NATS_WAIT_MS : 10_000,
    tap: (subject) => {
      const t = new Tap(probe, subject);
      taps.push(t);
      return t;
    },
    close: async () => {
      for (const t of taps.splice(0)) t.close();
      // On memory, closing may need virtual time (e.g. a Stop sent to the node by a cancelled flow
      // waits for its answer), so it is driven like any other wait.
      const closeAll = async (): Promise<void> => {
        for (const ctrl of ctrls) await ctrl.close();
        await node.stop();
        await media.stop();
        for (const bus of buses) await bus.close();
      };
      try {
        // Bounded: a close that hangs is a bug to report, not a reason to hang the suite.
        await drive(closeAll(), { budgetMs: virtual ? 120_000 : 15_000, stepMs: 1000 });
      } finally {
        await server?.stop();
      }
    },
  };
}

export interface WireWorld {
  w: World;
  /** Every xswitch subject. */
  all: Tap;
  /** The raw controller's own subject. */
  mine: Tap;
  /** The node's own subject, where channel requests go. */
  nodeSubject: string;
}

/**
 * A world without SDK controllers, for wire-level tests that speak raw JSON-RPC as controller `ctrl`:
 * taps on every xswitch subject and on `ctrl`'s own subject (closed with the world).
 */
export async function openWireWorld(
  transport: Transport,
  ctrl: string,
  options: WorldOptions = {},
): Promise<WireWorld> {
  const w = await makeWorld(transport, { ctrls: 0, ...options });
  const all = w.tap(w.subjects.all);
  const mine = w.tap(w.subjects.ctrlOf(ctrl));
  await w.settle();
  return { w, all, mine, nodeSubject: w.subjects.nodeOf(w.node.uuid) };
}

/** Rejects if `promise` does not settle within `ms` real milliseconds (a guard, not a sleep). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** A promise with its resolve/reject exposed (for results handed out of a call flow). */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs `fn` and captures its outcome (value or error) without throwing: for asserting error classes. */
export async function outcome<T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A decoded message seen on a tapped subject. */
export interface Seen {
  subject: string;
  reply: string | undefined;
  /** The parsed JSON, or undefined when the payload was not JSON. */
  json: Record<string, unknown> | undefined;
  raw: Uint8Array;
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

function parse(data: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(textDecoder.decode(data));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Collects every message on a subject (wildcards allowed) and lets a test await the next one that
 * matches, without sleeping.
 */
export class Tap {
  readonly seen: Seen[] = [];
  readonly #sub: Subscription;
  readonly #consumed = new Set<number>();
  #waiters: { pred: (s: Seen) => boolean; resolve: (s: Seen, index: number) => void }[] = [];

  constructor(
    bus: Bus,
    readonly subject: string,
    options: { queue?: string } = {},
  ) {
    this.#sub = bus.subscribe(subject, {
      ...options,
      callback: (msg: BusMsg) => {
        const seen: Seen = { subject: msg.subject, reply: msg.reply, json: parse(msg.data), raw: msg.data };
        this.seen.push(seen);
        const index = this.seen.length - 1;
        // The first waiter that matches takes the message.
        const w = this.#waiters.find((x) => x.pred(seen));
        if (w) {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          w.resolve(seen, index);
        }
      },
    });
  }

  /** Events (`method` set, no id) seen so far, optionally only those of one channel uuid. */
  events(method?: string, uuid?: string): Record<string, unknown>[] {
    return this.seen
      .map((s) => s.json)
      .filter((j): j is Record<string, unknown> => j !== undefined && typeof j.method === 'string')
      .filter((j) => method === undefined || j.method === method)
      .filter((j) => uuid === undefined || paramsOf(j).uuid === uuid);
  }

  /** States of `Event.Channel` for one uuid, in arrival order. */
  states(uuid: string): string[] {
    return this.events('Event.Channel', uuid).map((j) => String(paramsOf(j).state));
  }

  /**
   * Resolves with the first message (seen before or later) that matches and that no previous `next`
   * call of this tap returned; rejects after `timeoutMs` real ms.
   */
  next(pred: (s: Seen) => boolean, timeoutMs = 10_000): Promise<Seen> {
    for (let i = 0; i < this.seen.length; i++) {
      const s = this.seen[i] as Seen;
      if (!this.#consumed.has(i) && pred(s)) {
        this.#consumed.add(i);
        return Promise.resolve(s);
      }
    }
    return new Promise<Seen>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`tap ${this.subject}: no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        pred,
        resolve: (s: Seen, index: number) => {
          clearTimeout(timer);
          this.#consumed.add(index);
          resolve(s);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Waits for `Event.Channel` with `state` for `uuid`. */
  channelState(uuid: string, state: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.next((s) => isChannelEvent(s.json, uuid, state), timeoutMs).then((s) => paramsOf(s.json));
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}

/** `params` of a JSON-RPC message (empty object if absent). */
export function paramsOf(json: Record<string, unknown> | undefined): Record<string, unknown> {
  const p = json?.params;
  return typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : {};
}

export function isChannelEvent(
  json: Record<string, unknown> | undefined,
  uuid: string,
  state?: string,
): boolean {
  if (json?.method !== 'Event.Channel') return false;
  const p = paramsOf(json);
  return p.uuid === uuid && (state === undefined || p.state === state);
}

let rawSeq = 0;

/** Sends a raw JSON-RPC request with an inbox and returns the parsed response. */
export async function rawRequest(
  bus: Bus,
  subject: string,
  method: string,
  params: Record<string, unknown>,
  timeoutMs = 5_000,
): Promise<Record<string, unknown>> {
  const id = `raw-${++rawSeq}`;
  const msg = await bus.request(subject, encodeJson({ jsonrpc: '2.0', id, method, params }), { timeoutMs });
  const json = parse(msg.data);
  if (json === undefined) throw new Error(`non-JSON reply to ${method}`);
  return json;
}

/** `result` of a raw response, or throws with the JSON-RPC error. */
export function resultOf(response: Record<string, unknown>): Record<string, unknown> {
  const r = response.result;
  if (typeof r !== 'object' || r === null) throw new Error(`no result: ${JSON.stringify(response)}`);
  return r as Record<string, unknown>;
}

export function encodeJson(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}
