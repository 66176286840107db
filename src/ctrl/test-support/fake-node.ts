/**
 * A fake XNode made of raw bus subscriptions, for controller tests that must not depend on the real
 * node: it records every JSON-RPC request, answers with per-method handlers (or lets the test answer
 * later), and publishes raw events. Default handlers behave like a tiny, well-behaved node: Accept,
 * Answer and every other method answer 200; Dial emits CALLING/RINGING/READY for the first leg and
 * answers 200; Hangup answers 200 and emits DESTROY.
 */
import type { Bus, BusMsg, Subscription } from '../../bus/index.js';
import {
  decode,
  encode,
  QueueGroup,
  request as rpcRequest,
  resultResponse,
  type Subjects,
  subjects as makeSubjects,
} from '../../protocol/index.js';

/** One request the fake node received. */
export interface FakeRequest {
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly id: string | undefined;
  readonly subject: string;
  /** Sends the final result (to the inbox, or to the ctrl subject for async calls). Once only. */
  respond(result: Record<string, unknown> & { code: number }): void;
  readonly responded: boolean;
}

/** Returns a result to answer at once, or `undefined` to hold the request (answer later via `respond`). */
export type FakeHandler = (
  req: FakeRequest,
  node: FakeNode,
) => (Record<string, unknown> & { code: number }) | undefined;

export interface FakeNodeOptions {
  uuid?: string;
  subjects?: Subjects;
}

export class FakeNode {
  readonly uuid: string;
  readonly subjects: Subjects;
  readonly requests: FakeRequest[] = [];
  readonly #bus: Bus;
  #subs: Subscription[] = [];
  #handlers = new Map<string, FakeHandler>();
  #waiters: { method: string; resolve: (r: FakeRequest) => void }[] = [];
  #seq = 0;
  #handedOut = new WeakSet<FakeRequest>();

  constructor(bus: Bus, options: FakeNodeOptions = {}) {
    this.#bus = bus;
    this.uuid = options.uuid ?? 'node-1';
    this.subjects = options.subjects ?? makeSubjects();
  }

  start(): this {
    const callback = (msg: BusMsg): void => this.#onMessage(msg);
    this.#subs.push(this.#bus.subscribe(this.subjects.node, { queue: QueueGroup.node, callback }));
    this.#subs.push(this.#bus.subscribe(this.subjects.nodeOf(this.uuid), { callback }));
    return this;
  }

  stop(): void {
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
  }

  /** Replaces the handler of `method`. */
  handle(method: string, handler: FakeHandler): this {
    this.#handlers.set(method, handler);
    return this;
  }

  /** Holds every `method` request until the test responds. */
  hold(method: string): this {
    return this.handle(method, () => undefined);
  }

  /** Requests of `method` received so far. */
  received(method: string): FakeRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  /** The next request of `method` not yet handed out by `next` (already received or future). */
  next(method: string): Promise<FakeRequest> {
    const ready = this.requests.find((r) => r.method === method && !this.#handedOut.has(r));
    if (ready) {
      this.#handedOut.add(ready);
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => this.#waiters.push({ method, resolve }));
  }

  /** Publishes an inbound call's START to the ctrl queue subject; returns its uuid. */
  offer(fields: Record<string, unknown> = {}): string {
    const uuid = typeof fields.uuid === 'string' ? fields.uuid : `in-${++this.#seq}`;
    this.publish(this.subjects.ctrl, 'Event.Channel', {
      node_uuid: this.uuid,
      uuid,
      direction: 'inbound',
      state: 'START',
      cid_number: '1000',
      cid_name: 'Alice',
      dest_number: '800',
      params: { create_epoch: '1767225600' },
      ...fields,
    });
    return uuid;
  }

  /** Publishes `Event.Channel` for `uuid` to the controller's own subject. */
  channel(ctrlUuid: string, uuid: string, state: string, fields: Record<string, unknown> = {}): void {
    this.publish(this.subjects.ctrlOf(ctrlUuid), 'Event.Channel', {
      node_uuid: this.uuid,
      uuid,
      state,
      ...fields,
    });
  }

  /** Publishes a status event (NodeRegister / NodeUpdate / NodeUnregister). */
  status(
    method: 'Event.NodeRegister' | 'Event.NodeUpdate' | 'Event.NodeUnregister',
    fields: Record<string, unknown> = {},
  ): void {
    this.publish(this.subjects.status, method, { uuid: this.uuid, name: 'fake', ...fields });
  }

  /** Publishes a raw JSON-RPC notification. */
  publish(subject: string, method: string, params: Record<string, unknown>): void {
    this.#bus.publish(subject, encode(rpcRequest(method, params)));
  }

  #onMessage(msg: BusMsg): void {
    const decoded = decode(msg.data);
    if (decoded.kind !== 'request' && decoded.kind !== 'notification') return;
    const { method, params = {} } = decoded.message;
    const id = decoded.kind === 'request' ? decoded.message.id : undefined;
    let responded = false;
    const req: FakeRequest = {
      method,
      params,
      id,
      subject: msg.subject,
      get responded() {
        return responded;
      },
      respond: (result) => {
        if (responded || id === undefined) return;
        responded = true;
        const data = encode(resultResponse(id, { node_uuid: this.uuid, message: 'OK', ...result }));
        if (msg.reply !== undefined) msg.respond(data);
        else if (typeof params.ctrl_uuid === 'string')
          this.#bus.publish(this.subjects.ctrlOf(params.ctrl_uuid), data);
      },
    };
    this.requests.push(req);
    const i = this.#waiters.findIndex((w) => w.method === method);
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      this.#handedOut.add(req);
      w?.resolve(req);
    }
    const handler = this.#handlers.get(method) ?? defaultHandler;
    const result = handler(req, this);
    if (result) req.respond(result);
  }
}

const defaultHandler: FakeHandler = (req, node) => {
  const ctrl = typeof req.params.ctrl_uuid === 'string' ? req.params.ctrl_uuid : undefined;
  const uuid = typeof req.params.uuid === 'string' ? req.params.uuid : undefined;
  switch (req.method) {
    case 'XNode.Dial': {
      const destination = req.params.destination as { call_params?: { uuid?: string }[] } | undefined;
      const leg = destination?.call_params?.[0]?.uuid ?? 'out-x';
      if (ctrl) {
        for (const state of ['CALLING', 'RINGING', 'MEDIA', 'READY']) {
          node.channel(ctrl, leg, state, { direction: 'outbound' });
        }
      }
      return { code: 200, cause: 'SUCCESS', uuid: leg };
    }
    case 'XNode.Hangup':
      if (ctrl && uuid) {
        node.channel(ctrl, uuid, 'DESTROY', {
          cause: req.params.cause ?? 'NORMAL_CLEARING',
          duration: '3',
          billsec: '2',
        });
      }
      return { code: 200, uuid };
    case 'XNode.CtrlStartUp':
      return { code: 200 };
    default:
      return uuid === undefined ? { code: 200 } : { code: 200, uuid };
  }
};
