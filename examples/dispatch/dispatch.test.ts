/**
 * The dispatch console end to end: commands sent over the bus to `startDispatch`, running on the flow
 * runtime on a real XNode + SimMedia + Controller over a MemoryBroker in virtual time. Assertions are on
 * the replies, on the node commands seen on the wire, on users' call info, and on leak counters.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bus/index.js';
import type { Controller } from '../../src/ctrl/index.js';
import { type User, UserManager } from '../../src/flow/index.js';
import { makeWorld, type World } from '../../test/support/fixtures.js';
import type { Reply } from './commands.js';
import { type Dispatch, startDispatch } from './dispatch.js';
import { PRIORITY } from './priorities.js';

/** One JSON-RPC request to the node seen on the wire. */
interface WireRequest {
  seq: number;
  method: string;
  uuid: string | undefined;
  params: Record<string, unknown>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SUBJECT = 'dispatch.cmd';
const LONG = 'silence_stream://600000';

const DIRECTORY = {
  '2000': { answer_after_ms: 500 },
  '2001': { answer_after_ms: 500 },
  '1001': { answer_after_ms: 1000 },
  '1002': { answer_after_ms: 1000 },
  '1004': { answer_after_ms: 1000 },
  '1005': { answer_after_ms: 1000 },
  '1006': { answer_after_ms: 1000 },
  '1009': { busy: true, ring_ms: 500 },
};

describe('examples/dispatch: operator console over the bus', () => {
  let world: World;
  let ctrl: Controller;
  let manager: UserManager;
  let dispatch: Dispatch;
  let client: Bus;
  let wire: WireRequest[];
  let baseline: { timers: number; subscriptions: number | undefined };

  beforeEach(async () => {
    world = await makeWorld('memory', { directory: DIRECTORY });
    const c = world.ctrls[0];
    if (!c) throw new Error('no controller');
    ctrl = c;
    manager = new UserManager({ controller: ctrl, clock: world.clock, gcIdleMs: 30_000 });
    dispatch = startDispatch({
      bus: await world.connect('dispatch'),
      clock: world.clock,
      controller: ctrl,
      userManager: manager,
      subject: SUBJECT,
    });
    client = world.probe;
    wire = [];
    let seq = 0;
    client.subscribe('cn.xswitch.>', {
      callback: (msg) => {
        const json = JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>;
        if (typeof json.method !== 'string' || json.id === undefined || !json.method.startsWith('XNode.'))
          return;
        const params = (json.params as Record<string, unknown> | undefined) ?? {};
        const uuid = typeof params.uuid === 'string' ? params.uuid : undefined;
        wire.push({ seq: ++seq, method: json.method, uuid, params });
      },
    });
    await world.advance(0);
    baseline = { timers: world.clock.pending, subscriptions: world.broker?.stats().subscriptions };
  });

  afterEach(async () => {
    await world.drive(dispatch.close(), { budgetMs: 120_000, stepMs: 100 });
    await world.drive(manager.close(), { budgetMs: 120_000, stepMs: 100 });
    await world.close();
  });

  // ---- helpers -----------------------------------------------------------------------------------

  /** Sends a command (an object, or raw text) and returns the reply, moving virtual time as needed. */
  async function send(cmd: Record<string, unknown> | string): Promise<Reply> {
    const body = typeof cmd === 'string' ? cmd : JSON.stringify(cmd);
    const msg = await world.drive(client.request(SUBJECT, encoder.encode(body), { timeoutMs: 600_000 }), {
      budgetMs: 300_000,
      stepMs: 100,
    });
    return JSON.parse(decoder.decode(msg.data)) as Reply;
  }

  /** Sends a command that must succeed; returns its result. */
  async function ok(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await send(cmd);
    if (!reply.ok) throw new Error(`${String(cmd.cmd)} failed: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }

  async function until(pred: () => boolean, budgetMs = 60_000): Promise<void> {
    for (let t = 0; t < budgetMs && !pred(); t += 100) await world.advance(100);
    expect(pred()).toBe(true);
  }

  const u = (n: string): User => manager.user(n);
  const uuidOf = (n: string): string | undefined => u(n).call?.uuid;
  const info = (n: string): string => {
    const i = u(n).callInfo;
    if (i === undefined) return 'none';
    return i.kind === 'meet' ? `meet:${i.meet.name}` : `p2p:${i.peer?.number ?? '-'}${i.held ? ':held' : ''}`;
  };
  /** Methods sent about one user's channel since wire position `from` (Record/Hold with their action). */
  const methodsFor = (uuid: string | undefined, from = 0): string[] =>
    wire
      .slice(from)
      .filter((r) => uuid !== undefined && r.uuid === uuid)
      .map((r) =>
        r.method === 'XNode.Hold' || r.method === 'XNode.Record'
          ? `${r.method}:${String(r.params.action)}`
          : r.method,
      );
  const dialsTo = (n: string): WireRequest[] =>
    wire.filter((r) => {
      if (r.method !== 'XNode.Dial') return false;
      const dest = r.params.destination as { call_params?: { dest_number?: string }[] } | undefined;
      return dest?.call_params?.[0]?.dest_number === n;
    });

  /** A and B in a stable two-party call made by an ordinary flow that has finished. */
  async function ordinaryPair(a: string, b: string): Promise<void> {
    const flow = manager.start(
      async (s) => {
        await Promise.all([s.call(u(a)), s.call(u(b))]);
        await s.link(u(a), u(b));
      },
      { name: 'ordinary', priority: PRIORITY.ordinary, endPolicy: 'gc' },
    );
    expect((await world.drive(flow.done)).status).toBe('completed');
    expect(info(a)).toBe(`p2p:${b}`);
  }

  /** Hangs everyone up with `release` commands, then checks nothing is left anywhere. */
  async function releaseAllAndCheckLeaks(): Promise<void> {
    for (const user of manager.users()) await ok({ cmd: 'release', user: user.number });
    for (let i = 0; i < 50 && (world.node.channelCount > 0 || ctrl.leaks().calls > 0); i++) {
      await world.advance(1000);
    }
    await world.advance(100);
    expect(dispatch.sessions()).toEqual([]);
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
    expect([leaks.calls, leaks.flows, leaks.tasks, leaks.rpcPending]).toEqual([0, 0, 0, 0]);
    expect(world.clock.pending).toBe(baseline.timers);
    expect(world.broker?.stats().subscriptions).toBe(baseline.subscriptions);
  }

  // ---- commands ----------------------------------------------------------------------------------

  it('call: rings operator and user, bridges them; end hangs both up', async () => {
    const result = await ok({ id: 'c1', cmd: 'call', operator: '2000', user: '1001' });
    expect(result).toMatchObject({ session: 'call#1', operator: '2000', user: '1001' });
    expect(result.uuids).toEqual([uuidOf('2000'), uuidOf('1001')]);
    expect(dialsTo('2000')).toHaveLength(1);
    expect(dialsTo('1001')).toHaveLength(1);
    expect(info('2000')).toBe('p2p:1001');
    expect(info('1001')).toBe('p2p:2000');
    const bridge = wire.find((r) => r.method === 'XNode.ChannelBridge');
    expect(bridge?.uuid).toBe(uuidOf('2000'));
    expect(bridge?.params.peer_uuid).toBe(uuidOf('1001'));
    expect(dispatch.sessions()).toEqual([{ session: 'call#1', kind: 'call', users: ['1001', '2000'] }]);

    const [opUuid, userUuid] = [uuidOf('2000'), uuidOf('1001')];
    const end = await send({ id: 'e1', cmd: 'end', session: 'call#1' });
    expect(end).toEqual({
      id: 'e1',
      ok: true,
      result: { session: 'call#1', status: 'cancelled', undo: { ran: [], skipped: [] } },
    });
    expect(methodsFor(opUuid)).toContain('XNode.UnBridge');
    expect(methodsFor(opUuid).at(-1)).toBe('XNode.Hangup');
    expect(methodsFor(userUuid).at(-1)).toBe('XNode.Hangup');
    await releaseAllAndCheckLeaks();
  });

  it('call: an operator call outranks an ordinary call; the busy party of a failed call is reported with its cause', async () => {
    await ordinaryPair('1001', '1002');
    const result = await ok({ cmd: 'call', operator: '2000', user: '1001' });
    expect(result.session).toBe('call#2');
    expect(info('1001')).toBe('p2p:2000');
    expect(info('1002')).toBe('p2p:-'); // left alone by the preemption's clearing
    const busy = await send({ id: 7, cmd: 'call', operator: '2001', user: '1009' });
    expect(busy).toMatchObject({ id: 7, ok: false, error: { code: 'call-failed', cause: 'USER_BUSY' } });
    await releaseAllAndCheckLeaks();
  });

  it('group: a meet of several users; add and remove members; a member called away by an operator returns', async () => {
    const started = await ok({
      cmd: 'group',
      users: ['1001', '1002', '1004'],
      operator: '2000',
      room: 'team',
    });
    expect(started).toMatchObject({ session: 'group#1', room: 'team', failed: [] });
    expect([...(started.joined as string[])].sort()).toEqual(['1001', '1002', '1004', '2000']);
    await until(() => wire.filter((r) => r.method === 'XNode.Conference').length === 4);
    for (const n of ['1001', '1002', '1004', '2000']) expect(info(n)).toBe('meet:team');
    expect(wire.filter((r) => r.method === 'XNode.Conference').every((r) => r.params.name === 'team')).toBe(
      true,
    );

    const added = await ok({ cmd: 'add', session: 'group#1', user: '1005' });
    expect(added).toEqual({
      session: 'group#1',
      room: 'team',
      members: ['1001', '1002', '1004', '1005', '2000'],
    });
    const busy = await send({ cmd: 'add', session: 'group#1', user: '1009' });
    expect(busy).toMatchObject({ ok: false, error: { code: 'call-failed', cause: 'USER_BUSY' } });

    const removedUuid = uuidOf('1002');
    const removed = await ok({ cmd: 'remove', session: 'group#1', user: '1002' });
    expect(removed.members).toEqual(['1001', '1004', '1005', '2000']);
    expect(methodsFor(removedUuid).slice(-2)).toEqual(['XNode.Stop', 'XNode.Hangup']);

    // An operator call (priority 20) takes 1004 out of the group call (10).
    const call = await ok({ cmd: 'call', operator: '2001', user: '1004' });
    expect(info('1004')).toBe('p2p:2001');
    expect(info('1001')).toBe('meet:team');
    const status = await ok({ cmd: 'status', users: ['1004', '1001'] });
    expect(status.users).toEqual([
      { user: '1004', state: 'talking', owner: call.session, info: 'p2p:2001' },
      { user: '1001', state: 'talking', owner: 'group#1', info: 'meet:team' },
    ]);
    // The group (10) cannot take the operator of that call (20) back: refused, nothing changes.
    const refused = await send({ cmd: 'add', session: 'group#1', user: '2001' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'busy' } });
    expect(info('2001')).toBe('p2p:1004');

    // The operator's call ends: 2001 is hung up, 1004 goes back to the group call.
    await ok({ cmd: 'end', session: call.session });
    await until(() => info('1004') === 'meet:team');
    expect(u('1004').owner?.id).toBe('group#1');
    expect(u('2001').state).toBe('idle');
    expect(wire.filter((r) => r.method === 'XNode.Conference' && r.uuid === uuidOf('1004'))).toHaveLength(2);

    const ended = await ok({ cmd: 'end', session: 'group#1' });
    expect(ended.status).toBe('cancelled');
    await until(() => ['1001', '1004', '1005', '2000'].every((n) => u(n).state === 'idle'));
    await releaseAllAndCheckLeaks();
  });

  describe('insert: force insert into a two-party call', () => {
    it('the operator talks to the user, the peer waits on hold; end restores the pair', async () => {
      await ordinaryPair('1001', '1002');
      const peerUuid = uuidOf('1002');
      const result = await ok({ cmd: 'insert', operator: '2000', user: '1001' });
      expect(result).toMatchObject({ session: 'insert#2', operator: '2000', user: '1001', held: '1002' });
      await until(() => info('2000') === 'p2p:1001');
      expect(info('1002')).toBe('p2p:-:held');
      expect(methodsFor(peerUuid).filter((m) => m.startsWith('XNode.Hold'))).toEqual(['XNode.Hold:ON']);

      const ended = await ok({ cmd: 'end', session: 'insert#2' });
      expect(ended).toEqual({
        session: 'insert#2',
        status: 'cancelled',
        undo: { ran: ['restore'], skipped: [] },
      });
      expect(info('1001')).toBe('p2p:1002');
      expect(info('1002')).toBe('p2p:1001');
      expect(methodsFor(peerUuid).filter((m) => m.startsWith('XNode.Hold'))).toEqual([
        'XNode.Hold:ON',
        'XNode.Hold:OFF',
      ]);
      expect(wire.filter((r) => r.method === 'XNode.ChannelBridge2')).toHaveLength(2); // made, restored
      expect(u('2000').state).toBe('idle');
      await releaseAllAndCheckLeaks();
    });

    it('a held party taken by another flow meanwhile is not restored, and nothing about the pair is touched', async () => {
      await ordinaryPair('1001', '1002');
      await ok({ cmd: 'insert', operator: '2000', user: '1001' });
      await until(() => info('2000') === 'p2p:1001');
      const emergency = manager.start(
        async (s) => {
          await s.acquire(u('1002'));
          await s.play(u('1002'), LONG);
        },
        { name: 'emergency', priority: PRIORITY.insert + 10, endPolicy: 'gc' },
      );
      await until(() => u('1002').owner?.name === 'emergency');
      const [aUuid, bUuid, opUuid] = [uuidOf('1001'), uuidOf('1002'), uuidOf('2000')];
      const before = wire.length;

      const ended = await ok({ cmd: 'end', session: 'insert#2' });
      expect(ended.undo).toEqual({ ran: [], skipped: ['restore'] });
      expect(methodsFor(bUuid, before)).toEqual([]);
      expect(methodsFor(aUuid, before)).toEqual([]);
      expect(methodsFor(opUuid, before)).toEqual(['XNode.UnBridge', 'XNode.Hangup']);
      expect(u('1002').owner?.name).toBe('emergency');
      expect(info('1002')).toBe('p2p:-'); // taken off hold by the preemption's clearing
      await world.drive(emergency.cancel('over'));
      await releaseAllAndCheckLeaks();
    });

    it('a user in no two-party call cannot be barged into (nobody is rung)', async () => {
      const reply = await send({ cmd: 'insert', operator: '2000', user: '1006' });
      expect(reply).toMatchObject({ ok: false, error: { code: 'not-in-call' } });
      expect(dialsTo('2000')).toEqual([]);
      await releaseAllAndCheckLeaks();
    });
  });

  it('release: tears a user out of its session and hangs it up; the session carries on with the others', async () => {
    await ok({ cmd: 'group', users: ['1001', '1002'], room: 'r' });
    await until(() => info('1002') === 'meet:r');
    const uuid = uuidOf('1001');
    const result = await ok({ cmd: 'release', user: '1001' });
    expect(result).toEqual({ user: '1001', was: 'talking', from: 'group#1' });
    expect(methodsFor(uuid).slice(-2)).toEqual(['XNode.Stop', 'XNode.Hangup']);
    await until(() => u('1001').state === 'idle');
    expect(info('1002')).toBe('meet:r');
    expect(dispatch.sessions()).toEqual([{ session: 'group#1', kind: 'group', users: ['1002'] }]);
    // A user still ringing: the call-out is stopped and the command that rang it fails.
    const ringing = client.request(
      SUBJECT,
      encoder.encode(JSON.stringify({ cmd: 'call', operator: '2000', user: '1005' })),
      {
        timeoutMs: 600_000,
      },
    );
    await until(() => u('1005').state === 'calling');
    await ok({ cmd: 'release', user: '1005' });
    const reply = JSON.parse(decoder.decode((await world.drive(ringing)).data)) as Reply;
    expect(reply.ok).toBe(false);
    expect(dialsTo('1005')).toHaveLength(1);
    await releaseAllAndCheckLeaks();
  });

  describe('transfer with consultation', () => {
    it('A waits on hold while the operator consults C; complete joins A and C and drops the operator', async () => {
      await ok({ cmd: 'call', operator: '2000', user: '1001' });
      const aUuid = uuidOf('1001');
      const started = await ok({ cmd: 'transfer', operator: '2000', user: '1001', to: '1004' });
      expect(started).toMatchObject({ session: 'transfer#2', consulting: true, to: '1004' });
      await until(() => info('2000') === 'p2p:1004');
      expect(info('1001')).toBe('p2p:-:held');
      expect(methodsFor(aUuid)).toContain('XNode.Hold:ON');

      const done = await ok({ cmd: 'complete', session: 'transfer#2' });
      expect(done).toEqual({ transferred: ['1001', '1004'] });
      await until(() => u('2000').state === 'idle');
      expect(info('1001')).toBe('p2p:1004');
      expect(info('1004')).toBe('p2p:1001');
      expect(methodsFor(aUuid).filter((m) => m.startsWith('XNode.Hold'))).toEqual([
        'XNode.Hold:ON',
        'XNode.Hold:OFF',
      ]);
      const link = wire.filter((r) => r.method === 'XNode.ChannelBridge2').at(-1);
      expect([link?.uuid, link?.params.peer_uuid]).toEqual([aUuid, uuidOf('1004')]);
      await until(() => dispatch.sessions().length === 0);
      await releaseAllAndCheckLeaks();
    });

    it('end gives up: C is hung up and the operator and A talk again', async () => {
      await ok({ cmd: 'call', operator: '2000', user: '1001' });
      await ok({ cmd: 'transfer', operator: '2000', user: '1001', to: '1004' });
      const cUuid = uuidOf('1004');
      const ended = await ok({ cmd: 'end', session: 'transfer#2' });
      expect(ended).toEqual({
        session: 'transfer#2',
        status: 'cancelled',
        undo: { ran: ['reconnect'], skipped: [] },
      });
      expect(info('2000')).toBe('p2p:1001');
      expect(info('1001')).toBe('p2p:2000');
      expect(methodsFor(cUuid).at(-1)).toBe('XNode.Hangup');
      await releaseAllAndCheckLeaks();
    });
  });

  describe('monitor: the operator listens, muted', () => {
    it('a two-party call is moved into a meet with the muted operator and bridged again at the end', async () => {
      await ordinaryPair('1001', '1002');
      const started = await ok({ cmd: 'monitor', operator: '2000', user: '1001' });
      expect(started).toMatchObject({ session: 'monitor#2', room: 'monitor-2', mode: 'p2p' });
      await until(() => wire.filter((r) => r.method === 'XNode.Conference').length === 3);
      const confs = wire.filter((r) => r.method === 'XNode.Conference');
      expect(confs.every((r) => r.params.name === 'monitor-2')).toBe(true);
      const opConf = confs.find((r) => r.uuid === uuidOf('2000'));
      expect(opConf?.params.flags).toEqual(['mute']);
      expect(
        confs
          .filter((r) => r.params.flags === undefined)
          .map((r) => r.uuid)
          .sort(),
      ).toEqual([uuidOf('1001'), uuidOf('1002')].sort());
      expect(info('1001')).toBe('meet:monitor-2');

      const ended = await ok({ cmd: 'end', session: 'monitor#2' });
      expect(ended.undo).toEqual({ ran: ['restore'], skipped: [] });
      expect(info('1001')).toBe('p2p:1002');
      expect(u('2000').state).toBe('idle');
      await releaseAllAndCheckLeaks();
    });

    it('a group call member: the operator joins that meet muted, and nobody else is touched', async () => {
      await ok({ cmd: 'group', users: ['1001', '1002'], room: 'ops' });
      await until(() => info('1002') === 'meet:ops');
      const before = wire.length;
      const started = await ok({ cmd: 'monitor', operator: '2000', user: '1001' });
      expect(started).toMatchObject({ room: 'ops', mode: 'meet' });
      await until(() => info('2000') === 'meet:ops');
      const after = wire.slice(before).filter((r) => r.method !== 'XNode.Dial');
      expect(after.map((r) => [r.method, r.uuid, r.params.flags])).toEqual([
        ['XNode.Conference', uuidOf('2000'), ['mute']],
      ]);
      expect(u('1001').owner?.id).toBe('group#1');
      await ok({ cmd: 'end', session: 'monitor#2' });
      expect(u('2000').state).toBe('idle');
      expect(info('1001')).toBe('meet:ops');
      await releaseAllAndCheckLeaks();
    });
  });

  describe('bad commands get a clear error', () => {
    it.each([
      ['not JSON', '{nope', { code: 'parse-error', message: 'the command is not valid JSON' }],
      ['not an object', '[1,2]', { code: 'parse-error', message: 'the command must be a JSON object' }],
      ['no cmd', '{"id":"x1"}', { code: 'bad-request', message: 'cmd: required' }],
      [
        'unknown cmd',
        '{"id":"x2","cmd":"dance"}',
        {
          code: 'unknown-command',
          message:
            'unknown command "dance"; known: call, group, add, remove, insert, release, transfer, complete, monitor, end, status',
        },
      ],
      [
        'missing field',
        '{"cmd":"call","operator":"2000"}',
        { code: 'bad-request', message: 'call: user: Invalid input: expected string, received undefined' },
      ],
      [
        'wrong type in a list',
        '{"cmd":"group","users":["1001",7]}',
        { code: 'bad-request', message: 'group: users.1: Invalid input: expected string, received number' },
      ],
      ['unknown field', '{"cmd":"release","user":"1001","force":true}', { code: 'bad-request' }],
    ])('%s', async (_what, body, error) => {
      const reply = await send(body);
      expect(reply.ok).toBe(false);
      expect(!reply.ok && reply.error).toMatchObject(error);
      const id = (JSON.parse(body.startsWith('{') && body !== '{nope' ? body : '{}') as { id?: string }).id;
      expect(reply.id).toBe(id);
      await releaseAllAndCheckLeaks();
    });

    it('commands about sessions: unknown session, wrong kind of session', async () => {
      expect(await send({ cmd: 'end', session: 'call#99' })).toMatchObject({
        ok: false,
        error: { code: 'not-found', message: 'no running session call#99' },
      });
      await ok({ cmd: 'call', operator: '2000', user: '1001' });
      expect(await send({ cmd: 'add', session: 'call#1', user: '1002' })).toMatchObject({
        ok: false,
        error: { code: 'unsupported', message: 'add needs a group session; call#1 is a call' },
      });
      expect(await send({ cmd: 'complete', session: 'call#1' })).toMatchObject({
        ok: false,
        error: { code: 'unsupported' },
      });
      await releaseAllAndCheckLeaks();
    });
  });
});
