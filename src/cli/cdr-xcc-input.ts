/**
 * XCC events as switch events: `xcc cdr listen --nats` feeds the story engine from the bus, and the
 * engine reads FreeSWITCH-shaped events. This maps `Event.Channel` and `Event.CDR` params onto the
 * FreeSWITCH headers the router reads (Unique-ID, Other-Leg-Unique-ID, Caller-*, Hangup-Cause,
 * variable_*), numbering them per node so the reorder buffer and de-duplication work as for ESL.
 *
 * Mapping (docs/cdr-store.md): START/CALLING → CHANNEL_CREATE, RINGING → CHANNEL_PROGRESS,
 * MEDIA → CHANNEL_PROGRESS_MEDIA, ANSWERED → CHANNEL_ANSWER, BRIDGE → CHANNEL_BRIDGE,
 * UNBRIDGE → CHANNEL_UNBRIDGE, DESTROY → CHANNEL_HANGUP_COMPLETE, Event.CDR → CHANNEL_HANGUP with the
 * CDR's variables; READY carries nothing new and is dropped.
 */
import { eventFromMap, type SwitchEvent } from '../cdr/index.js';
import { type ChannelState, decode } from '../protocol/index.js';

/** FreeSWITCH event name for each XCC channel state (undefined: nothing to tell the engine). */
function eventNameOf(state: ChannelState): string | undefined {
  switch (state) {
    case 'START':
    case 'CALLING':
      return 'CHANNEL_CREATE';
    case 'RINGING':
      return 'CHANNEL_PROGRESS';
    case 'MEDIA':
      return 'CHANNEL_PROGRESS_MEDIA';
    case 'ANSWERED':
      return 'CHANNEL_ANSWER';
    case 'READY':
      return undefined;
    case 'BRIDGE':
      return 'CHANNEL_BRIDGE';
    case 'UNBRIDGE':
      return 'CHANNEL_UNBRIDGE';
    case 'DESTROY':
      return 'CHANNEL_HANGUP_COMPLETE';
  }
}

const STATES = new Set<string>([
  'START',
  'CALLING',
  'RINGING',
  'ANSWERED',
  'MEDIA',
  'READY',
  'BRIDGE',
  'UNBRIDGE',
  'DESTROY',
]);

/** Turns bus messages into switch events; keeps a per-converter sequence. */
export class XccEventConverter {
  #sequence = 0;
  readonly #cdrAlone: boolean;
  /** Messages that were not XCC channel/CDR events (counted, not fatal). */
  ignored = 0;

  /**
   * @param options.cdrAlone the engine sees `Event.CDR` only (`xcc cdr listen --durable`): each CDR
   *   also states its leg's created/answered/hangup times (from `start_stamp`/`answer_stamp`/
   *   `end_stamp`, 1 s precision) and its bridge peer (`peer_uuid` as Other-Leg-Unique-ID), which
   *   `Event.Channel` tells otherwise.
   */
  constructor(options: { cdrAlone?: boolean } = {}) {
    this.#cdrAlone = options.cdrAlone ?? false;
  }

  /**
   * The switch event for one bus message, or undefined when the message is not an
   * `Event.Channel`/`Event.CDR` the engine can use.
   *
   * @param nowUs receive time (µs since the epoch): XCC events carry no per-event timestamp.
   */
  convert(data: Uint8Array, nowUs: number): SwitchEvent | undefined {
    const decoded = decode(data);
    if (decoded.kind !== 'notification' && decoded.kind !== 'request') return this.#ignore();
    const { method, params } = decoded.message;
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return this.#ignore();
    const p = params as Record<string, unknown>;
    const uuid = str(p.uuid);
    if (uuid === undefined) return this.#ignore();
    const headers: Record<string, string> = {
      'Unique-ID': uuid,
      'Core-UUID': str(p.node_uuid) ?? 'xcc',
      'Event-Date-Timestamp': String(Math.round(nowUs)),
      'Event-Sequence': String(++this.#sequence),
    };
    if (method === 'Event.Channel') {
      const state = str(p.state);
      if (state === undefined || !STATES.has(state)) return this.#ignore();
      const name = eventNameOf(state as ChannelState);
      if (name === undefined) return this.#ignore();
      headers['Event-Name'] = name;
      put(headers, 'Call-Direction', p.direction);
      put(headers, 'Caller-Direction', p.direction);
      put(headers, 'Caller-Caller-ID-Number', p.cid_number);
      put(headers, 'Caller-Caller-ID-Name', p.cid_name);
      put(headers, 'Caller-Destination-Number', p.dest_number);
      put(headers, 'Caller-Context', p.context);
      put(headers, 'Other-Leg-Unique-ID', p.peer_uuid);
      if (name === 'CHANNEL_BRIDGE') {
        headers['Bridge-A-Unique-ID'] = uuid;
        put(headers, 'Bridge-B-Unique-ID', p.peer_uuid);
      }
      // The main leg of a controller-built call plays the role of FreeSWITCH's call uuid.
      put(headers, 'Channel-Call-UUID', p.main_uuid);
      put(headers, 'Hangup-Cause', p.cause);
      put(headers, 'variable_billsec', p.billsec);
      put(headers, 'variable_duration', p.duration);
      const vars = p.params;
      if (typeof vars === 'object' && vars !== null && !Array.isArray(vars))
        for (const [k, v] of Object.entries(vars)) put(headers, `variable_${k}`, v);
      return eventFromMap(headers);
    }
    if (method === 'Event.CDR') {
      const cdr = p.cdr;
      if (typeof cdr !== 'object' || cdr === null || Array.isArray(cdr)) return this.#ignore();
      headers['Event-Name'] = 'CHANNEL_HANGUP';
      const vars = cdr as Record<string, unknown>;
      for (const [k, v] of Object.entries(vars)) put(headers, `variable_${k}`, v);
      put(headers, 'Hangup-Cause', vars.hangup_cause);
      put(headers, 'Caller-Caller-ID-Number', vars.caller_id_number);
      put(headers, 'Caller-Destination-Number', vars.destination_number);
      if (this.#cdrAlone) {
        put(headers, 'Caller-Channel-Created-Time', stampMicros(vars.start_stamp));
        put(headers, 'Caller-Channel-Answered-Time', stampMicros(vars.answer_stamp));
        put(headers, 'Caller-Channel-Hangup-Time', stampMicros(vars.end_stamp));
        put(headers, 'Call-Direction', vars.direction);
        put(headers, 'Other-Leg-Unique-ID', vars.peer_uuid);
      }
      return eventFromMap(headers);
    }
    return this.#ignore();
  }

  #ignore(): undefined {
    this.ignored++;
    return undefined;
  }
}

/** µs since the epoch of a CDR stamp (`YYYY-MM-DD HH:MM:SS`, UTC); undefined when empty or malformed. */
function stampMicros(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) return undefined;
  const ms = Date.parse(`${value.replace(' ', 'T')}Z`);
  return Number.isFinite(ms) ? ms * 1000 : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function put(headers: Record<string, string>, name: string, value: unknown): void {
  if (typeof value === 'string' && value.length > 0) headers[name] = value;
  else if (typeof value === 'number' && Number.isFinite(value)) headers[name] = String(value);
}
