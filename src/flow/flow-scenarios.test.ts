/**
 * The eight scenario tests of issue 3, each named after the seed 000 item it proves, on a real XNode +
 * SimMedia + Controller over a MemoryBroker in virtual time. Assertions are on the wire (the order of
 * node commands), on users' ownership and call info, and on leak counters.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorld, type World, type WorldOptions } from '../../test/support/fixtures.js';
import { PreemptedError, PreemptionRefusedError, PreemptionSupersededError } from './errors.js';
import { Meet } from './meet.js';
import type { FlowSession } from './session.js';
import type { User } from './user.js';
import { type FlowHandle, UserManager } from './user-manager.js';

/** Simulated destinations by number. */
type Directory = NonNullable<WorldOptions['directory']>;

/** One JSON-RPC request seen on the wire. */
interface WireRequest {
  seq: number;
  method: string;
  uuid: string | undefined;
  params: Record<string, unknown>;
}

interface FlowWorld {
  world: World;
  manager: UserManager;
  wire: WireRequest[];
  /** Requests about one channel uuid, in order. */
  requestsFor(uuid: string | undefined): WireRequest[];
  /** Dial requests whose first leg dials `number`. */
  dialsTo(number: string): WireRequest[];
  /** Runs virtual time until `promise` settles. */
  drive<T>(promise: Promise<T>, budgetMs?: number): Promise<T>;
  /** Lets virtual time pass. */
  advance(ms: number): Promise<void>;
  /** Asserts the manager, controller, node and clock hold nothing beyond the baseline. */
  expectNoLeaks(): Promise<void>;
  close(): Promise<void>;
}

const decoder = new TextDecoder();

/** Builds the world. `directory` maps numbers to simulated destinations. */
async function makeFlowWorld(directory: Directory, options: { gcIdleMs?: number } = {}): Promise<FlowWorld> {
  const world = await makeWorld('memory', { directory });
  const ctrl = world.ctrls[0];
  if (!ctrl) throw new Error('no controller');
  const manager = new UserManager({
    controller: ctrl,
    clock: world.clock,
    gcIdleMs: options.gcIdleMs ?? 30_000,
  });
  const wire: WireRequest[] = [];
  let seq = 0;
  world.probe.subscribe('cn.xswitch.>', {
    callback: (msg) => {
      const json = JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>;
      if (typeof json.method !== 'string' || json.id === undefined) return;
      if (!json.method.startsWith('XNode.')) return;
      const params = (json.params as Record<string, unknown> | undefined) ?? {};
      wire.push({
        seq: ++seq,
        method: json.method,
        uuid: typeof params.uuid === 'string' ? params.uuid : undefined,
        params,
      });
    },
  });
  await world.advance(0);
  const baseline = {
    timers: world.clock.pending,
    subscriptions: world.broker?.stats().subscriptions,
  };
  const virtual = world.virtual;
  if (!virtual) throw new Error('memory world without a virtual clock');
  const drive = <T>(promise: Promise<T>, budgetMs = 300_000): Promise<T> =>
    world.drive(promise, { budgetMs, stepMs: 100 });
  return {
    world,
    manager,
    wire,
    requestsFor: (uuid) => wire.filter((r) => uuid !== undefined && r.uuid === uuid),
    dialsTo: (number) =>
      wire.filter((r) => {
        if (r.method !== 'XNode.Dial') return false;
        const dest = r.params.destination as { call_params?: { dest_number?: string }[] } | undefined;
        return dest?.call_params?.[0]?.dest_number === number;
      }),
    drive,
    advance: (ms) => virtual.advance(ms),
    expectNoLeaks: async () => {
      // Let the last hangups, DESTROY events and cleanup settle.
      for (let i = 0; i < 50 && (world.node.channelCount > 0 || ctrl.leaks().calls > 0); i++) {
        await virtual.advance(1000);
      }
      await virtual.advance(100);
      expect(world.node.channelCount).toBe(0);
      expect(manager.leaks()).toEqual({
        flows: 0,
        ownedUsers: 0,
        preemptions: 0,
        callOuts: 0,
        gcTimers: 0,
        runningOps: 0,
        tasks: 0,
        waiters: 0,
      });
      const leaks = ctrl.leaks();
      expect(leaks.calls).toBe(0);
      expect(leaks.flows).toBe(0);
      expect(leaks.tasks).toBe(0);
      expect(leaks.rpcPending).toBe(0);
      expect(world.clock.pending).toBe(baseline.timers);
      expect(world.broker?.stats().subscriptions).toBe(baseline.subscriptions);
    },
    close: async () => {
      await drive(manager.close());
      await world.close();
    },
  };
}

const LONG = 'silence_stream://600000';

const DIRECTORY: Directory = {
  '1001': { answer_after_ms: 1000 },
  '1002': { answer_after_ms: 1000 },
  '1003': { answer_after_ms: 10_000 },
  '1004': { answer_after_ms: 1000 },
  '1005': { answer_after_ms: 1000 },
  '1006': { answer_after_ms: 1000 },
  '2000': { answer_after_ms: 500 },
  '3000': { answer_after_ms: 1000, script: [{ wait: 5000 }, { hangup: {} }] },
};

describe('flow runtime scenarios (seed 000)', () => {
  let fw: FlowWorld;
  let m: UserManager;

  beforeEach(async () => {
    fw = await makeFlowWorld(DIRECTORY);
    m = fw.manager;
  });

  afterEach(async () => {
    await fw.close();
  });

  /** Hangs every user up through the manager (tear-down) so leak checks start from a quiet world. */
  async function tearDownAll(): Promise<void> {
    for (const u of m.users()) await fw.drive(m.tearDown(u));
  }

  /** Waits (in virtual time) until `pred` holds. */
  async function until(pred: () => boolean, budgetMs = 60_000): Promise<void> {
    for (let t = 0; t < budgetMs && !pred(); t += 100) await fw.advance(100);
    expect(pred()).toBe(true);
  }

  it('item 4: a user still ringing in a transfer is pulled into a higher-priority flow without re-dialling; the transfer completes for A and B', async () => {
    const [a, b, c] = [m.user('1001'), m.user('1002'), m.user('1003')];
    const log: string[] = [];
    const transfer = m.start(
      async (s) => {
        await s.call(a);
        await s.call(b);
        await s.link(a, b);
        // Consultation: B waits on hold while A's party C is called.
        await s.unbridge(a);
        await s.hold(b);
        s.onPreempted(c, (ev) => {
          log.push(`transfer: ${ev.user.number} left for ${ev.by}`);
        });
        try {
          await s.call(c);
        } catch (err) {
          if (!(err instanceof PreemptedError)) throw err;
          log.push('transfer: call to C interrupted');
          // C is gone: complete our part for A and B — they talk again.
          await s.hold(b, false);
          await s.link(a, b);
          return 'c-left';
        }
        return 'transferred';
      },
      { name: 'transfer', priority: 1, endPolicy: 'gc' },
    );
    await until(() => c.state === 'calling');
    await fw.advance(2000); // C rings
    expect(c.state).toBe('calling');

    const urgent = m.start(
      async (s) => {
        const call = await s.call(c);
        log.push('urgent: C answered');
        await s.play(c, 'silence_stream://2000');
        return call.uuid;
      },
      { name: 'urgent', priority: 5, endPolicy: 'gc' },
    );
    const [tOutcome, uOutcome] = await fw.drive(Promise.all([transfer.done, urgent.done]));
    expect(tOutcome.status).toBe('completed');
    expect(tOutcome.status === 'completed' && tOutcome.value).toBe('c-left');
    expect(uOutcome.status).toBe('completed');

    // One Dial to C only: the ringing call continued into the new flow.
    const dials = fw.dialsTo('1003');
    expect(dials).toHaveLength(1);
    const dest = dials[0]?.params.destination as { call_params: { uuid: string }[] };
    expect(uOutcome.status === 'completed' && uOutcome.value).toBe(dest.call_params[0]?.uuid);
    expect(c.call?.uuid).toBe(dest.call_params[0]?.uuid);
    // The transfer flow saw C leave (handler and the interrupted wait), before C answered in the new flow.
    expect(log).toEqual([
      'transfer: call to C interrupted',
      'transfer: 1003 left for urgent',
      'urgent: C answered',
    ]);
    // A and B talk again, B off hold.
    expect(a.callInfo).toEqual({ kind: 'p2p', peer: b, held: false });
    expect(b.callInfo).toEqual({ kind: 'p2p', peer: a, held: false });
    expect(b.call?.held).toBe(false);
    expect(b.call?.bridged).toBe(true);

    await tearDownAll();
    await fw.expectNoLeaks();
  });

  describe('item 5: force insert restores the held party, unless another flow took it', () => {
    /** A and B in a stable two-party call left behind by a finished flow. */
    async function talkingPair(): Promise<[User, User]> {
      const [a, b] = [m.user('1001'), m.user('1002')];
      const p2p = m.start(
        async (s) => {
          await Promise.all([s.call(a), s.call(b)]);
          await s.link(a, b);
        },
        { name: 'p2p', priority: 1, endPolicy: 'gc' },
      );
      expect((await fw.drive(p2p.done)).status).toBe('completed');
      expect(a.owner).toBeUndefined();
      expect(a.callInfo).toEqual({ kind: 'p2p', peer: b, held: false });
      return [a, b];
    }

    type Cmd = { type: 'end' };
    function forceInsert(a: User, b: User, operator: User): FlowHandle<void, undefined, Cmd> {
      return m.start<void, undefined, Cmd>(
        async (s) => {
          await s.acquire(a);
          await s.acquire(b);
          await s.unbridge(a);
          await s.hold(b);
          s.defer(
            async () => {
              await s.hold(b, false);
              await s.link(a, b);
            },
            { users: [a, b], name: 'restore A-B' },
          );
          await s.call(operator);
          s.setEndPolicy(operator, 'hangup');
          s.spawn(() => s.bridge(operator, a), { users: [operator, a], name: 'barge' });
          await s.receive(); // the operator's "end" command
        },
        { name: 'force-insert', priority: 5, endPolicy: 'gc' },
      );
    }

    it('when the barge ends, the held party is restored', async () => {
      const [a, b] = await talkingPair();
      const op = m.user('2000');
      const barge = forceInsert(a, b, op);
      await until(() => op.callInfo?.kind === 'p2p' && op.callInfo.peer === a);
      expect(b.callInfo).toEqual({ kind: 'p2p', peer: undefined, held: true });
      const holds = (): unknown[] =>
        fw
          .requestsFor(b.call?.uuid)
          .filter((r) => r.method === 'XNode.Hold')
          .map((r) => r.params.action);
      expect(holds()).toEqual(['ON']);

      barge.post({ type: 'end' });
      const outcome = await fw.drive(barge.done);
      expect(outcome.status).toBe('completed');
      expect(outcome.undo.ran).toEqual(['restore A-B']);
      expect(a.callInfo).toEqual({ kind: 'p2p', peer: b, held: false });
      expect(b.callInfo).toEqual({ kind: 'p2p', peer: a, held: false });
      expect(holds()).toEqual(['ON', 'OFF']);
      expect(op.state).toBe('idle'); // the operator's leg was hung up by the end policy

      await tearDownAll();
      await fw.expectNoLeaks();
    });

    it('when B was taken by another flow meanwhile, the restore is skipped and nothing else is touched', async () => {
      const [a, b] = await talkingPair();
      const op = m.user('2000');
      const barge = forceInsert(a, b, op);
      await until(() => op.callInfo?.kind === 'p2p' && op.callInfo.peer === a);

      const other = m.start(
        async (s) => {
          await s.acquire(b);
          await s.play(b, LONG);
        },
        { name: 'announcement', priority: 9, endPolicy: 'gc' },
      );
      await until(() => b.owner?.name === 'announcement');
      const bUuid = b.call?.uuid;
      const aUuid = a.call?.uuid;
      const opUuid = op.call?.uuid;
      const before = fw.wire.length;

      barge.post({ type: 'end' });
      const outcome = await fw.drive(barge.done);
      expect(outcome.status).toBe('completed');
      expect(outcome.undo.skipped).toEqual(['restore A-B']);
      expect(outcome.undo.ran).toEqual([]);
      const after = fw.wire.slice(before);
      // Nothing was sent about A or B; the operator's leg was unbridged and hung up.
      expect(after.filter((r) => r.uuid === bUuid)).toEqual([]);
      expect(after.filter((r) => r.uuid === aUuid)).toEqual([]);
      expect(after.filter((r) => r.uuid === opUuid).map((r) => r.method)).toEqual([
        'XNode.UnBridge',
        'XNode.Hangup',
      ]);
      expect(b.owner?.name).toBe('announcement');
      // B was cleared (taken off hold) when the announcement took it.
      const holds = fw
        .requestsFor(bUuid)
        .filter((r) => r.method === 'XNode.Hold')
        .map((r) => r.params.action);
      expect(holds).toEqual(['ON', 'OFF']);
      expect(b.callInfo).toEqual({ kind: 'p2p', peer: undefined, held: false });

      await other.cancel('test over');
      await tearDownAll();
      await fw.expectNoLeaks();
    });
  });

  it('item 3: a meet member preempted into a p2p call keeps the meet info right and returns when the p2p call ends', async () => {
    const members = ['1001', '1002', '1004', '1005'].map((n) => m.user(n));
    const meet = new Meet('dispatch-room');
    const [, u2] = members as [User, User];
    const x = m.user('3000'); // answers, talks 5 s, hangs up
    type Cmd = { type: 'end' };
    const join = (s: FlowSession<undefined, Cmd>, u: User): void => {
      s.spawn(() => s.joinMeet(u, meet), { users: [u], name: `member:${u.number}` });
      s.onPreempted(u, () => {
        // Take the member back as soon as the other flow lets go of it.
        s.spawn(async () => {
          await s.whenFree(u);
          if (u.state !== 'talking') return;
          await s.acquire(u);
          join(s, u);
        });
      });
    };
    const meetFlow = m.start<void, undefined, Cmd>(
      async (s) => {
        await Promise.all(members.map((u) => s.call(u)));
        for (const u of members) join(s, u);
        await s.receive();
      },
      { name: 'meet', priority: 1, endPolicy: 'hangup' },
    );
    await until(() => meet.members.size === 4);
    for (const u of members) expect(u.callInfo).toEqual({ kind: 'meet', meet });

    const p2p = m.start(
      async (s) => {
        await s.acquire(u2);
        await s.call(x);
        await s.bridge(u2, x); // until X hangs up
      },
      { name: 'p2p', priority: 5, endPolicy: 'gc' },
    );
    await until(() => x.callInfo?.kind === 'p2p' && x.callInfo.peer === u2);
    expect(meet.members.size).toBe(3);
    expect(meet.members.has(u2)).toBe(false);
    expect(u2.callInfo).toEqual({ kind: 'p2p', peer: x, held: false });
    for (const u of members.filter((v) => v !== u2)) expect(u.callInfo).toEqual({ kind: 'meet', meet });

    expect((await fw.drive(p2p.done)).status).toBe('completed');
    await until(() => meet.members.size === 4);
    expect(u2.callInfo).toEqual({ kind: 'meet', meet });
    expect(u2.owner?.name).toBe('meet');
    const conferences = fw.requestsFor(u2.call?.uuid).filter((r) => r.method === 'XNode.Conference');
    expect(conferences).toHaveLength(2);

    meetFlow.post({ type: 'end' });
    expect((await fw.drive(meetFlow.done)).status).toBe('completed');
    expect(meet.members.size).toBe(0);
    await tearDownAll();
    await fw.expectNoLeaks();
  });

  it('item 9: two flows preempting the same user at nearly the same time — the later wins, the earlier stops cleanly', async () => {
    const a = m.user('1001');
    const taken: string[] = [];
    const owner = m.start(
      async (s) => {
        await s.call(a);
        s.onPreempted(a, (ev) => {
          taken.push(ev.by ?? '-');
        });
        await s.play(a, LONG).catch((err: unknown) => {
          if (!(err instanceof PreemptedError)) throw err;
        });
        await s.sleep(1000);
      },
      { name: 'owner', priority: 1, endPolicy: 'gc' },
    );
    await until(() => fw.requestsFor(a.call?.uuid).some((r) => r.method === 'XNode.Play'));
    const contender = (name: string, priority: number) =>
      m.start(
        async (s) => {
          await s.acquire(a);
          await s.play(a, 'silence_stream://1000');
          return 'won';
        },
        { name, priority, endPolicy: 'gc' },
      );
    const first = contender('first', 5);
    const second = contender('second', 6);
    const [o1, o2, o0] = await fw.drive(Promise.all([first.done, second.done, owner.done]));
    expect(o1.status).toBe('failed');
    expect(o1.status === 'failed' && o1.error).toBeInstanceOf(PreemptionSupersededError);
    expect(o2.status === 'completed' && o2.value).toBe('won');
    expect(o0.status).toBe('completed');
    expect(taken).toEqual(['second']); // handed over once, to the later one
    const plays = fw.requestsFor(a.call?.uuid).filter((r) => r.method === 'XNode.Play');
    expect(plays).toHaveLength(2); // the owner's, then only the winner's
    await tearDownAll();
    await fw.expectNoLeaks();
  });

  describe('item 9: preempting a user stops the old operation on the node before the user is cleared', () => {
    type Op = 'play' | 'readDtmf' | 'bridge';
    const cases: [Op, string][] = [
      ['play', 'XNode.Stop'],
      ['readDtmf', 'XNode.Stop'],
      ['bridge', 'XNode.UnBridge'],
    ];
    it.each(cases)('in the middle of %s: %s, then the clearing, then the new flow', async (op, stop) => {
      const [a, b] = [m.user('1001'), m.user('1002')];
      const order: string[] = [];
      const old = m.start(
        async (s) => {
          await s.call(a);
          await s.startRecording(a, 'preempt.wav');
          s.onPreempted(a, () => {
            order.push(`handler@${fw.wire.length}`);
          });
          try {
            switch (op) {
              case 'play':
                await s.play(a, LONG);
                break;
              case 'readDtmf':
                await s.readDtmf(a, { max: 4, timeoutMs: 600_000, digitTimeoutMs: 600_000 });
                break;
              case 'bridge':
                await s.call(b);
                await s.bridge(a, b);
                break;
            }
          } catch (err) {
            if (!(err instanceof PreemptedError)) throw err;
            order.push('old op interrupted');
          }
        },
        { name: 'old', priority: 1, endPolicy: 'hangup' },
      );
      const method = { play: 'XNode.Play', readDtmf: 'XNode.ReadDTMF', bridge: 'XNode.ChannelBridge' }[op];
      await until(() => fw.requestsFor(a.call?.uuid).some((r) => r.method === method));
      await fw.advance(1000);
      const uuid = a.call?.uuid;
      const start = fw.wire.length;
      const next = m.start(
        async (s) => {
          await s.acquire(a);
          await s.play(a, 'silence_stream://500');
        },
        { name: 'new', priority: 5, endPolicy: 'hangup' },
      );
      await fw.drive(Promise.all([old.done, next.done]));
      const seen = fw.wire
        .slice(start)
        .filter((r) => r.uuid === uuid)
        .map((r) => (r.method === 'XNode.Record' ? `XNode.Record:${String(r.params.action)}` : r.method));
      // 1. the old operation is stopped, 2. the user is cleared (the background recording stopped),
      // 3. only then does the new flow operate on it.
      expect(seen.slice(0, 3)).toEqual([stop, 'XNode.Record:STOP', 'XNode.Play']);
      expect(order[0]).toBe('old op interrupted');
      const handlerAt = Number(order[1]?.split('@')[1]);
      const clearSeq = fw.wire.find((r) => r.uuid === uuid && r.params.action === 'STOP')?.seq ?? 0;
      expect(handlerAt).toBeGreaterThanOrEqual(clearSeq); // the handler ran after the hand-over
      await tearDownAll();
      await fw.expectNoLeaks();
    });
  });

  it('item 8 and the style guide: a flow cancelled at every await point in turn leaves no owned users, timers or subscriptions and runs all its compensations', async () => {
    const points = 7;
    for (let k = 0; k < points; k++) {
      const [a, b] = [m.user('1001'), m.user('1002')];
      const registered: string[] = [];
      let handle: FlowHandle<void, undefined, string, string> | undefined;
      const reach = (i: number): void => {
        // Cancel a moment after the await at point k started (in the middle of it).
        if (i === k) void fw.world.clock.sleep(1).then(() => handle?.cancel(`point ${k}`));
      };
      const comp = (s: FlowSession<undefined, string, string>, name: string, users: User[]): void => {
        registered.push(name);
        s.compensate(() => {}, { users, name });
      };
      handle = m.start<void, undefined, string, string>(
        async (s) => {
          reach(0);
          await s.call(a);
          comp(s, 'c0', [a]);
          reach(1);
          await s.play(a, 'silence_stream://3000');
          comp(s, 'c1', [a]);
          reach(2);
          await s.call(b);
          comp(s, 'c2', [a, b]);
          reach(3);
          s.spawn(() => s.bridge(a, b), { users: [a, b] });
          await s.sleep(3000);
          comp(s, 'c3', []);
          reach(4);
          await s.readDtmf(b, { max: 1, timeoutMs: 3000 });
          comp(s, 'c4', [b]);
          reach(5);
          const letter = await s.receive({ timeoutMs: 3000 }).catch(() => undefined);
          letter?.reply('ok');
          comp(s, 'c5', []);
          reach(6);
          await s.sleep(3000);
          comp(s, 'c6', []);
          reach(7);
        },
        { name: `cancel-at-${k}`, priority: 1, endPolicy: 'hangup' },
      );
      const outcome = await fw.drive(handle.done);
      expect(outcome.status === 'failed' ? String(outcome.error) : outcome.status, `point ${k}`).toBe(
        'cancelled',
      );
      expect(outcome.undo.ran, `point ${k}`).toEqual([...registered].reverse());
      expect(outcome.undo.skipped).toEqual([]);
      expect(a.owner).toBeUndefined();
      expect(b.owner).toBeUndefined();
      // Cancelling the ended flow again is a harmless no-op.
      await handle.cancel('again');
      await fw.expectNoLeaks();
    }
  });

  it('item 6: garbage collection hangs up an unowned idle user and only that one', async () => {
    const [idle, owned, kept, p, q] = ['1001', '1002', '1004', '1005', '1006'].map((n) => m.user(n)) as [
      User,
      User,
      User,
      User,
      User,
    ];
    const setup = m.start(
      async (s) => {
        await Promise.all([idle, kept, p, q].map((u) => s.call(u)));
        await s.link(p, q); // a call holds p and q
        s.setEndPolicy(kept, 'keep');
      },
      { name: 'setup', priority: 1, endPolicy: 'gc' },
    );
    expect((await fw.drive(setup.done)).status).toBe('completed');
    const holder = m.start(
      async (s) => {
        await s.call(owned);
        await s.sleep(600_000);
      },
      { name: 'holder', priority: 1, endPolicy: 'hangup' },
    );
    await until(() => owned.state === 'talking');
    const uuids = new Map([idle, owned, kept, p, q].map((u) => [u.call?.uuid, u.number]));
    const hangups = (): string[] =>
      fw.wire.filter((r) => r.method === 'XNode.Hangup').map((r) => uuids.get(r.uuid) ?? '?');

    await fw.advance(25_000);
    expect(hangups()).toEqual([]); // not idle long enough yet
    await fw.advance(10_000);
    expect(hangups()).toEqual(['1001']);
    expect(idle.state).toBe('idle');
    for (const u of [owned, kept, p, q]) expect(u.state).toBe('talking');
    expect(kept.parked).toBe(true);

    await holder.cancel();
    await tearDownAll();
    await fw.expectNoLeaks();
  });

  it('item 9: a lower-priority preemption attempt is refused and changes nothing', async () => {
    const a = m.user('1001');
    const high = m.start(
      async (s) => {
        await s.call(a);
        await s.play(a, 'silence_stream://20000');
        return 'played to the end';
      },
      { name: 'high', priority: 5, endPolicy: 'hangup' },
    );
    await until(() => fw.requestsFor(a.call?.uuid).some((r) => r.method === 'XNode.Play'));
    const before = fw.wire.length;
    const infoBefore = a.callInfo;
    for (const priority of [1, 5]) {
      const low = m.start(
        async (s) => {
          await s.acquire(a);
        },
        { name: `low-${priority}`, priority, endPolicy: 'hangup' },
      );
      const outcome = await fw.drive(low.done);
      expect(outcome.status).toBe('failed');
      expect(outcome.status === 'failed' && outcome.error).toBeInstanceOf(PreemptionRefusedError);
    }
    expect(fw.wire.length).toBe(before); // nothing sent to the node
    expect(a.owner?.name).toBe('high');
    expect(a.callInfo).toBe(infoBefore);
    expect(a.preempting).toBe(false);
    const outcome = await fw.drive(high.done);
    expect(outcome.status === 'completed' && outcome.value).toBe('played to the end');
    await fw.expectNoLeaks();
  });
});
