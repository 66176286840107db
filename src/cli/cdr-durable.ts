/**
 * `xcc cdr listen --nats URL --durable NAME`: the story engine fed from the JetStream CDR stream
 * through a durable consumer, so records published while the listener was down are not lost.
 *
 * Each stored `Event.CDR` becomes a switch event (stamped with the time the server stored it) and is
 * acknowledged only when the story holding its leg was handled by the sink — written to the store
 * when there is one. A failed store write nak's the story's records (redelivered, the call reopens,
 * the story is written again: stores upsert by id). Records of calls still open when the listener
 * stops are given back unacknowledged, so the next run builds their stories.
 *
 * Wiring (the engine and the sink are built first, with the hooks of a `StoryAcks`):
 *
 * ```ts
 * const acks = new StoryAcks();
 * const sink = new StorySink({ io, store, onHandled: acks.handled });
 * const engine = startStoryEngine({ clock, onStory: (s) => sink.accept(s), onError: acks.failed });
 * const listener = await startDurableCdr({ bus, stream, durable, cdrSubject, engine, sink, acks, report });
 * // … Ctrl-C
 * await listener.close();
 * ```
 */
import { DurableConsumer, type DurableMsg, ensureCdrStream, type NatsBus } from '../bus/index.js';
import type { CallStory } from '../cdr/story.js';
import type { EngineHandle } from './cdr-engine.js';
import type { StorySink } from './cdr-sink.js';
import { XccEventConverter } from './cdr-xcc-input.js';

/** Records waiting for their story, by leg uuid; settled by the sink and the engine. */
export class StoryAcks {
  readonly #waiting = new Map<string, { resolve(): void; reject(err: Error): void }[]>();

  /** Resolves when a story holding leg `uuid` was stored; rejects when it could not be. */
  wait(uuid: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let list = this.#waiting.get(uuid);
      if (list === undefined) {
        list = [];
        this.#waiting.set(uuid, list);
      }
      list.push({ resolve, reject });
    });
  }

  /** The sink's `onHandled`. */
  readonly handled = (story: CallStory, stored: boolean): void => {
    const err = stored ? undefined : new Error(`story ${story.id} not stored`);
    for (const leg of story.legs) this.#settle(leg.uuid, err);
  };

  /** The engine's `onError`: the story `id` (`<uuid>` or `<uuid>#<n>`) could not be built. */
  readonly failed = (error: unknown, id: string): void => {
    this.#settle(id.split('#')[0]!, error instanceof Error ? error : new Error(String(error)));
  };

  /** Legs with records still waiting. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Forgets every waiting record (their messages were given back to the stream). */
  clear(): void {
    this.#waiting.clear();
  }

  #settle(uuid: string, err: Error | undefined): void {
    const list = this.#waiting.get(uuid);
    if (list === undefined) return;
    this.#waiting.delete(uuid);
    for (const w of list) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }
}

/** Options of {@link startDurableCdr}. */
export interface DurableCdrOptions {
  bus: NatsBus;
  /** JetStream stream holding the records (created, or its subjects updated, at start). */
  stream: string;
  /** Durable consumer name (two listeners with one name share the records between them). */
  durable: string;
  /** The CDR subject the stream captures (`subjects(...).cdr`). */
  cdrSubject: string;
  engine: EngineHandle;
  sink: StorySink;
  acks: StoryAcks;
  /** The engine's quiet time, ms (sets the ack wait). Default 30 000. */
  finalizeAfterMs?: number;
  /** Delay before the records of a story that failed to save come again, ms. Default 2 000. */
  retryDelayMs?: number;
  /** One line per skipped record (stderr in the CLI). */
  report: (line: string) => void;
}

/** A running durable listener. */
export interface DurableCdr {
  readonly consumer: DurableConsumer;
  /** Records handed to the engine, and messages skipped (not an `Event.CDR`: acked, nothing to keep). */
  readonly counts: { readonly records: number; readonly skipped: number };
  /** Stops pulling, drops open calls (their records go back to the stream), waits for the sink. */
  close(): Promise<void>;
}

/** Ensures the stream exists, then consumes it through the durable consumer. */
export async function startDurableCdr(options: DurableCdrOptions): Promise<DurableCdr> {
  const { bus, engine, sink, acks, report } = options;
  await ensureCdrStream(bus, { name: options.stream, subjects: [options.cdrSubject] });
  const converter = new XccEventConverter({ cdrAlone: true });
  const counts = { records: 0, skipped: 0 };
  const handle = (msg: DurableMsg): Promise<void> => {
    const event = converter.convert(msg.data, msg.storedAtMs * 1000);
    const uuid = event?.uuid;
    if (event === undefined || uuid === undefined || event.name !== 'CHANNEL_HANGUP') {
      // Nothing a story can use: acked, or it would come back for ever.
      counts.skipped++;
      report(`stream message ${msg.seq} on ${msg.subject} skipped: not an Event.CDR with a uuid`);
      return Promise.resolve();
    }
    counts.records++;
    const stored = acks.wait(uuid);
    engine.ingest(event);
    return stored;
  };
  const finalizeMs = options.finalizeAfterMs ?? 30_000;
  const consumer = await DurableConsumer.start(
    bus,
    {
      stream: options.stream,
      durable: options.durable,
      filterSubject: options.cdrSubject,
      // A record waits for its story: reorder window (2 s) + quiet time + the store write.
      ackWaitMs: Math.max(60_000, finalizeMs * 2 + 30_000),
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    },
    handle,
  );
  let closed: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await consumer.stopFetching();
    // Open calls are dropped, not finalised (a half story would be wrong); their records are still
    // unacknowledged and go back to the stream with consumer.close().
    await engine.close();
    await sink.drained();
    await consumer.close();
    acks.clear();
  };
  return {
    consumer,
    counts,
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}
