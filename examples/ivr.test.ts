/**
 * The example IVR driven by simulated callers on a real XNode + SimMedia and a real Controller, over a
 * MemoryBroker in virtual time. Assertions are on the wire (requests, events, results) and on leak
 * counters, never on logs.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus } from '../src/bus/index.js';
import { MemoryBroker } from '../src/bus/index.js';
import { VirtualClock } from '../src/clock/index.js';
import { Controller } from '../src/ctrl/index.js';
import type { CallerStep } from '../src/node/media.js';
import { XNode } from '../src/node/index.js';
import { SimMedia } from '../src/node/sim/index.js';
import { CallGoneError, isCancellation } from '../src/protocol/index.js';
import ivrFlow, { DEFAULT_PROMPTS, type IvrEvent, type IvrOptions, type IvrOutcome, ivr } from './ivr.js';

/** One decoded message seen on `cn.xswitch.>`. */
interface WireMsg {
  subject: string;
  method?: string;
  id?: string;
  params: Record<string, unknown>;
  result?: Record<string, unknown>;
}

interface FlowRecord {
  events: IvrEvent[];
  outcome?: IvrOutcome;
  error?: unknown;
  done: boolean;
}

const decoder = new TextDecoder();

describe('examples/ivr', () => {
  let clock: VirtualClock;
  let broker: MemoryBroker;
  let node: XNode;
  let controller: Controller;
  let ctrlBus: Bus;
  let wireBus: Bus;
  let wire: WireMsg[];
  let flows: Map<string, FlowRecord>;
  let recordRoot: string;
  let ivrOptions: IvrOptions;
  let baselineTimers: number;
  /** When set, calls run the module's default export with these `ctx.options` instead of `ivr()`. */
  let useDefaultExport: Record<string, string> | undefined;

  beforeEach(async () => {
    clock = new VirtualClock();
    broker = new MemoryBroker({ clock });
    recordRoot = await mkdtemp(join(tmpdir(), 'xcc-ivr-test-'));
    const media = new SimMedia({
      clock,
      recordRoot,
      directory: {
        agent: { answer_after_ms: 2000, script: [{ wait: 5000 }, { hangup: {} }] },
        busy: { busy: true, ring_ms: 500 },
      },
    });
    node = new XNode({ bus: broker.connect('node'), clock, media, nodeUuid: 'node-1' });
    ctrlBus = broker.connect('ctrl');
    controller = new Controller({ bus: ctrlBus, clock, ctrlUuid: 'ctrl-1' });
    wireBus = broker.connect('wire');
    wire = [];
    wireBus.subscribe('cn.xswitch.>', {
      callback: (msg) => {
        const value = JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>;
        const entry: WireMsg = {
          subject: msg.subject,
          params: (value.params as Record<string, unknown> | undefined) ?? {},
        };
        if (typeof value.method === 'string') entry.method = value.method;
        if (typeof value.id === 'string') entry.id = value.id;
        if (value.result !== undefined) entry.result = value.result as Record<string, unknown>;
        wire.push(entry);
      },
    });
    flows = new Map();
    ivrOptions = { agent: 'user/agent', voicemailLimitSec: 60 };
    useDefaultExport = undefined;
    await node.start();
    await controller.start();
    controller.onCall(async (call) => {
      const record: FlowRecord = { events: [], done: false };
      flows.set(call.uuid, record);
      try {
        if (useDefaultExport) await ivrFlow(call, { options: useDefaultExport });
        else record.outcome = await ivr(call, { ...ivrOptions, onEvent: (ev) => record.events.push(ev) });
      } catch (err) {
        record.error = err;
        throw err;
      } finally {
        record.done = true;
      }
    });
    await clock.advance(0);
    baselineTimers = clock.pending;
  });

  afterEach(async () => {
    await controller.close();
    await node.stop();
    await broker.close();
    await rm(recordRoot, { recursive: true, force: true });
  });

  /** Injects a caller and runs virtual time until its flow is done and its channel destroyed. */
  async function callWith(script: CallerStep[]): Promise<{ uuid: string; flow: FlowRecord }> {
    const uuid = node.inject({ cid_name: 'Caller', cid_number: '1001', dest_number: '800', script });
    for (let elapsed = 0; elapsed < 300_000; elapsed += 250) {
      await clock.advance(250);
      const flow = flows.get(uuid);
      if (flow?.done && destroyed(uuid) && node.channelCount === 0 && controller.leaks().calls === 0) {
        // Let trailing work (cleanup, last publishes) settle before the caller inspects the wire.
        await clock.advance(1000);
        return { uuid, flow };
      }
    }
    throw new Error(`call ${uuid} did not finish: ${JSON.stringify(flows.get(uuid)?.events)}`);
  }

  const channelEvents = (uuid: string): WireMsg[] =>
    wire.filter((m) => m.method === 'Event.Channel' && m.params.uuid === uuid);
  const states = (uuid: string): string[] => channelEvents(uuid).map((m) => String(m.params.state));
  const destroyed = (uuid: string): boolean => states(uuid).includes('DESTROY');
  const requests = (method: string, uuid: string): WireMsg[] =>
    wire.filter((m) => m.method === method && m.id !== undefined && m.params.uuid === uuid);
  const playedTexts = (uuid: string): string[] =>
    requests('XNode.Play', uuid).map((m) => String((m.params.media as { data?: unknown } | undefined)?.data));
  const kinds = (flow: FlowRecord): string[] => flow.events.map((e) => e.kind);

  function expectNoLeaks(): void {
    expect(node.channelCount).toBe(0);
    const leaks = controller.leaks();
    expect(leaks.calls).toBe(0);
    expect(leaks.flows).toBe(0);
    expect(leaks.tasks).toBe(0);
    expect(leaks.rpcPending).toBe(0);
    expect(node.leaks().rpcInflight).toBe(0);
    expect(node.leaks().backgroundTasks).toBe(0);
    expect(clock.pending).toBe(baselineTimers);
  }

  it('caller presses 1: bridged to the agent, both legs end cleanly', async () => {
    const { uuid, flow } = await callWith([{ wait: 1500 }, { dtmf: '1' }]);
    expect(flow.outcome).toBe('agent');
    expect(kinds(flow)).toEqual(
      expect.arrayContaining(['answered', 'digits', 'bridging', 'bridged', 'hangup', 'cleanup']),
    );

    const bridge = requests('XNode.Bridge', uuid);
    expect(bridge).toHaveLength(1);
    const destination = bridge[0]!.params.destination as { call_params: { dial_string: string }[] };
    expect(destination.call_params[0]!.dial_string).toBe('user/agent');
    expect(bridge[0]!.params.flow_control).toBe('CALLER');

    const bridged = channelEvents(uuid).find((m) => m.params.state === 'BRIDGE');
    expect(bridged).toBeDefined();
    const agentLeg = String(bridged!.params.peer_uuid);
    // The agent's leg went through its own life and ended first (the agent hung up).
    expect(states(agentLeg)).toEqual(expect.arrayContaining(['CALLING', 'ANSWERED', 'BRIDGE', 'DESTROY']));
    expect(states(uuid)).toEqual(
      expect.arrayContaining(['START', 'ANSWERED', 'BRIDGE', 'UNBRIDGE', 'DESTROY']),
    );
    expect(states(uuid).at(-1)).toBe('DESTROY');
    expect(states(agentLeg).at(-1)).toBe('DESTROY');
    // Both legs got a CDR; the caller's ended with a normal hangup after goodbye.
    const cdrs = wire.filter((m) => m.method === 'Event.CDR').map((m) => m.params.uuid);
    expect(cdrs).toEqual(expect.arrayContaining([uuid, agentLeg]));
    expect(playedTexts(uuid).at(-1)).toBe(DEFAULT_PROMPTS.goodbye);
    expect(channelEvents(uuid).at(-1)!.params.cause).toBe('NORMAL_CLEARING');
    expectNoLeaks();
  });

  it('caller presses 9 then 2: the menu is retried, then a voicemail file is written', async () => {
    const { uuid, flow } = await callWith([
      { wait: 1500 },
      { dtmf: '9' },
      { wait: 6000 },
      { dtmf: '2' },
      { wait: 12_000 },
      { dtmf: '#' },
    ]);
    expect(flow.outcome).toBe('voicemail');
    const invalid = flow.events.find((e) => e.kind === 'invalid');
    expect(invalid).toMatchObject({ digits: '9', attempt: 1 });
    expect(flow.events.find((e) => e.kind === 'digits' && e.digits === '2')).toMatchObject({ attempt: 2 });

    expect(requests('XNode.ReadDTMF', uuid)).toHaveLength(2);
    expect(playedTexts(uuid)).toContain(DEFAULT_PROMPTS.invalid);
    expect(playedTexts(uuid)).toContain(DEFAULT_PROMPTS.beep);
    const record = requests('XNode.Record', uuid);
    expect(record).toHaveLength(1);
    expect(record[0]!.params).toMatchObject({ action: 'RECORD', terminators: '#', limit: 60 });

    const vm = flow.events.find((e) => e.kind === 'voicemail');
    expect(vm).toBeDefined();
    if (vm?.kind !== 'voicemail') throw new Error('no voicemail event');
    expect(vm.path).toBe(`voicemail/${uuid}.wav`);
    expect(vm.terminator).toBe('#');
    const file = await stat(join(recordRoot, vm.path));
    // A real WAV: header plus some recorded (simulated) audio.
    expect(file.size).toBeGreaterThan(44);
    expect(playedTexts(uuid).slice(-2)).toEqual([DEFAULT_PROMPTS.thanks, DEFAULT_PROMPTS.goodbye]);
    expectNoLeaks();
  });

  it('caller says nothing: three tries, then goodbye and hang-up', async () => {
    const { uuid, flow } = await callWith([]);
    expect(flow.outcome).toBe('no-input');
    expect(requests('XNode.ReadDTMF', uuid)).toHaveLength(3);
    expect(
      flow.events.filter((e) => e.kind === 'no-input').map((e) => (e as { attempt: number }).attempt),
    ).toEqual([1, 2, 3]);
    expect(playedTexts(uuid).at(-1)).toBe(DEFAULT_PROMPTS.goodbye);
    expect(requests('XNode.Hangup', uuid).length).toBeGreaterThanOrEqual(1);
    expect(requests('XNode.Bridge', uuid)).toHaveLength(0);
    expect(requests('XNode.Record', uuid)).toHaveLength(0);
    expect(channelEvents(uuid).at(-1)!.params).toMatchObject({ state: 'DESTROY', cause: 'NORMAL_CLEARING' });
    expectNoLeaks();
  });

  it('caller hangs up during the greeting: the flow is cancelled, cleanup ran, nothing leaks', async () => {
    const { uuid, flow } = await callWith([{ wait: 300 }, { hangup: {} }]);
    expect(flow.outcome).toBeUndefined();
    expect(isCancellation(flow.error) || flow.error instanceof CallGoneError).toBe(true);
    expect(kinds(flow)).toContain('cleanup');
    expect(kinds(flow)).not.toContain('digits');
    // The flow stopped at the greeting: no menu, no hang-up from our side (the caller was gone).
    expect(requests('XNode.ReadDTMF', uuid)).toHaveLength(0);
    expect(requests('XNode.Hangup', uuid)).toHaveLength(0);
    expect(playedTexts(uuid)).toEqual([DEFAULT_PROMPTS.greeting]);
    expect(channelEvents(uuid).at(-1)!.params.state).toBe('DESTROY');
    expectNoLeaks();
  });

  it('agent busy: the caller is sent to voicemail', async () => {
    ivrOptions = { ...ivrOptions, agent: 'user/busy' };
    const { uuid, flow } = await callWith([{ wait: 1500 }, { dtmf: '1' }, { wait: 14_000 }, { dtmf: '#' }]);
    expect(flow.outcome).toBe('voicemail');
    expect(flow.events.find((e) => e.kind === 'agent-unavailable')).toMatchObject({ cause: 'USER_BUSY' });
    expect(requests('XNode.Bridge', uuid)).toHaveLength(1);
    expect(requests('XNode.Record', uuid)).toHaveLength(1);
    expect(channelEvents(uuid).some((m) => m.params.state === 'BRIDGE')).toBe(false);
    expect(playedTexts(uuid)).toContain(DEFAULT_PROMPTS.agentUnavailable);
    expectNoLeaks();
  });

  it('the default export (the xcc ctrl entry) takes its settings from ctx.options', async () => {
    useDefaultExport = { maxTries: '1', voicemailLimitSec: '5' };
    const { uuid, flow } = await callWith([]);
    expect(flow.error).toBeUndefined();
    // maxTries=1 from ctx.options: one menu attempt, then goodbye.
    expect(requests('XNode.ReadDTMF', uuid)).toHaveLength(1);
    expect(playedTexts(uuid).at(-1)).toBe(DEFAULT_PROMPTS.goodbye);
    expect(channelEvents(uuid).at(-1)!.params).toMatchObject({ state: 'DESTROY', cause: 'NORMAL_CLEARING' });
    expectNoLeaks();
  });
});
