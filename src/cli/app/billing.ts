/**
 * The `billing` addon: meters every call the router reports (start, answer, end, billable time) and
 * keeps the records in memory, answering the `billing` command. Meant to be started first and stopped
 * last (manual triggers from `main`), so no call goes unmetered.
 */
import { z } from 'zod';
import type { Addon, CmdReply, Extension, IncomingCmd, IncomingData } from '../../graph/index.js';
import type { CallAnswer, CallEnd, CallStart } from './call-record.js';
import { hasUuid } from './call-record.js';
import { parseProperty } from './property.js';

/** One metered call. */
export interface BillingRecord {
  uuid: string;
  cid_number: string | undefined;
  dest_number: string | undefined;
  started_at: number;
  answered_at: number | undefined;
  ended_at: number | undefined;
  billable_ms: number;
  billable_seconds: number;
  cause: string | undefined;
  state: 'active' | 'ended';
}

/** What the `billing` command answers. */
export interface BillingReport {
  /** Calls metered since start (active + ended, including records evicted from memory). */
  calls: number;
  active: number;
  ended: number;
  billable_seconds_total: number;
  /** With `{uuid}`: that call's record only; otherwise active calls then the kept ended ones, oldest first. */
  records: BillingRecord[];
}

export const BillingProperty = z.strictObject({
  /** Ended records kept in memory (oldest evicted first). Default 10 000. */
  max_records: z.int().positive().default(10_000),
  /** Graph-engine settings (`ten.manual_trigger_life_cycle`), read by the engine. */
  ten: z.unknown().optional(),
});

export class BillingExtension implements Extension {
  readonly #maxRecords: number;
  readonly #active = new Map<string, BillingRecord>();
  readonly #ended = new Map<string, BillingRecord>();
  #calls = 0;
  #billableTotal = 0;

  constructor(maxRecords: number) {
    this.#maxRecords = maxRecords;
  }

  onData(msg: IncomingData): void {
    if (msg.kind !== 'event' || !hasUuid(msg.payload)) return;
    switch (msg.name) {
      case 'call_start':
        this.#start(msg.payload as CallStart);
        return;
      case 'call_answer': {
        const rec = this.#active.get(msg.payload.uuid);
        if (rec && rec.answered_at === undefined) rec.answered_at = (msg.payload as CallAnswer).answered_at;
        return;
      }
      case 'call_end':
        this.#end(msg.payload as CallEnd);
        return;
      default:
        return;
    }
  }

  onCmd(cmd: IncomingCmd): CmdReply | undefined {
    if (cmd.name !== 'billing') return { status: 'error', message: `billing does not handle "${cmd.name}"` };
    const uuid = cmd.properties.uuid;
    if (uuid !== undefined && typeof uuid !== 'string') {
      return { status: 'error', message: 'billing: uuid: expected string' };
    }
    return { detail: this.report(uuid) };
  }

  /** The current records (see `BillingReport`). */
  report(uuid?: string): BillingReport {
    const records =
      uuid === undefined
        ? [...this.#active.values(), ...this.#ended.values()]
        : [this.#active.get(uuid) ?? this.#ended.get(uuid)].filter((r) => r !== undefined);
    return {
      calls: this.#calls,
      active: this.#active.size,
      ended: this.#calls - this.#active.size,
      billable_seconds_total: this.#billableTotal,
      records: records.map((r) => ({ ...r })),
    };
  }

  #start(ev: CallStart): void {
    if (this.#active.has(ev.uuid)) return;
    this.#calls++;
    this.#active.set(ev.uuid, {
      uuid: ev.uuid,
      cid_number: ev.cid_number,
      dest_number: ev.dest_number,
      started_at: ev.started_at,
      answered_at: undefined,
      ended_at: undefined,
      billable_ms: 0,
      billable_seconds: 0,
      cause: undefined,
      state: 'active',
    });
  }

  #end(ev: CallEnd): void {
    // A call_end without a call_start (billing came up late) is still metered: nothing goes unbilled.
    if (!this.#active.has(ev.uuid)) this.#start(ev);
    const rec = this.#active.get(ev.uuid);
    if (!rec) return;
    this.#active.delete(ev.uuid);
    rec.answered_at ??= ev.answered_at;
    rec.ended_at = ev.ended_at;
    rec.billable_ms = ev.billable_ms;
    rec.billable_seconds = ev.billable_seconds;
    rec.cause = ev.cause;
    rec.state = 'ended';
    this.#billableTotal += ev.billable_seconds;
    this.#ended.set(rec.uuid, rec);
    // Maps iterate in insertion order: the first key is the oldest record.
    while (this.#ended.size > this.#maxRecords) {
      const oldest = this.#ended.keys().next().value;
      if (oldest === undefined) break;
      this.#ended.delete(oldest);
    }
  }
}

export const billingAddon: Addon = {
  create: ({ name, property }) => {
    const p = parseProperty(BillingProperty, name, property);
    return new BillingExtension(p.max_records);
  },
};
