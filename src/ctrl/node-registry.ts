/**
 * The controller's view of the switch nodes, fed by `Event.NodeRegister` / `NodeUpdate` /
 * `NodeUnregister` on the status subject. A node not heard from for `expiryMs` is expired (the
 * controller checks on its Clock and reaps the node's calls). Pure bookkeeping: no timers, no I/O.
 */
import type { NodeInfo } from '../protocol/index.js';

/** One known node. */
export interface NodeEntry {
  readonly uuid: string;
  /** The latest Node object from a status event. */
  readonly info: NodeInfo;
  /** Clock time (ms) of the last status event. */
  readonly lastSeen: number;
  /** Clock time (ms) of the first status event. */
  readonly firstSeen: number;
}

/** What changed. `expired`: silent for too long; `unregistered`: the node said goodbye. */
export type NodeChange =
  | { kind: 'registered'; node: NodeEntry }
  | { kind: 'updated'; node: NodeEntry }
  | { kind: 'unregistered'; node: NodeEntry }
  | { kind: 'expired'; node: NodeEntry };

export type NodeChangeListener = (change: NodeChange) => void;

/**
 * Known nodes.
 *
 * @example
 * const off = ctrl.nodes.on((c) => console.log(c.kind, c.node.uuid));
 * ctrl.nodes.list().map((n) => n.info.sessions);
 */
export class NodeRegistry {
  #nodes = new Map<string, NodeEntry>();
  #listeners = new Set<NodeChangeListener>();
  readonly #onError: (err: unknown) => void;

  /** `onListenerError` receives errors thrown by change listeners (they never break the registry). */
  constructor(onListenerError: (err: unknown) => void = () => {}) {
    this.#onError = onListenerError;
  }

  get size(): number {
    return this.#nodes.size;
  }

  list(): NodeEntry[] {
    return [...this.#nodes.values()];
  }

  get(uuid: string): NodeEntry | undefined {
    return this.#nodes.get(uuid);
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  on(listener: NodeChangeListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Applies NodeRegister/NodeUpdate (`seen`) or NodeUnregister (`gone`) at clock time `now`. */
  apply(kind: 'seen' | 'gone', info: NodeInfo, now: number): NodeChange | undefined {
    const old = this.#nodes.get(info.uuid);
    if (kind === 'gone') {
      if (!old) return undefined;
      this.#nodes.delete(info.uuid);
      return this.#emit({ kind: 'unregistered', node: { ...old, info, lastSeen: now } });
    }
    const node: NodeEntry = { uuid: info.uuid, info, lastSeen: now, firstSeen: old?.firstSeen ?? now };
    this.#nodes.set(info.uuid, node);
    return this.#emit(old ? { kind: 'updated', node } : { kind: 'registered', node });
  }

  /** Removes and returns nodes last seen before `cutoff` (clock ms). */
  expire(cutoff: number): NodeEntry[] {
    const gone: NodeEntry[] = [];
    for (const node of this.#nodes.values()) {
      if (node.lastSeen < cutoff) gone.push(node);
    }
    for (const node of gone) {
      this.#nodes.delete(node.uuid);
      this.#emit({ kind: 'expired', node });
    }
    return gone;
  }

  /** Forgets every node and listener (controller close). */
  clear(): void {
    this.#nodes.clear();
    this.#listeners.clear();
  }

  #emit(change: NodeChange): NodeChange {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.#onError(err);
      }
    }
    return change;
  }
}
