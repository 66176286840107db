/**
 * The priorities of the dispatch flows. A flow may take (preempt) a user only from a flow of strictly
 * lower priority; the runtime's tear-down (`release`) outranks every flow.
 */

/**
 * Priority of each kind of flow. Operator commands outrank ordinary calls (1); among themselves the more
 * intrusive the command, the higher: an operator can call a member out of a group call, transfer a
 * party out of an operator call, monitor or barge into any of them.
 *
 * | flow       | priority |
 * |------------|----------|
 * | ordinary   | 1        |
 * | group      | 10       |
 * | call       | 20       |
 * | transfer   | 30       |
 * | monitor    | 40       |
 * | insert     | 50       |
 * | release    | tear-down (above every flow) |
 */
export const PRIORITY = {
  /** Ordinary calls started by other applications on the same runtime. */
  ordinary: 1,
  group: 10,
  call: 20,
  transfer: 30,
  monitor: 40,
  insert: 50,
} as const;

/** The kinds of session a dispatch command starts. */
export type SessionKind = 'call' | 'group' | 'transfer' | 'monitor' | 'insert';
