/**
 * `StoryPublisher`: puts finished call stories on the bus as JSON, one message per story version, on
 * `cn.xswitch.cdr.story` (tenant-prefixed if asked). It takes a plain `publish(subject, bytes)` function
 * because `cdr` may not import `bus`: the CLI passes `bus.publish`.
 */
import type { CallStory } from '../story.js';
import { subjects } from '../../protocol/index.js';
import { CdrStoreError, describeError, StoreDataError } from './errors.js';
import { type StorableStory, storyColumns } from './story-columns.js';

/** Sends bytes on a subject (e.g. `(s, b) => bus.publish(s, b)`). May return a promise. */
export type PublishFn = (subject: string, data: Uint8Array) => void | Promise<void>;

/** Options of {@link StoryPublisher}. */
export interface StoryPublisherOptions {
  publish: PublishFn;
  /** Subject to publish on. Default `<tenant.>cn.xswitch.cdr.story`. */
  subject?: string;
  /** Tenant prefix for the default subject. */
  tenant?: string;
}

/** The default story subject for a tenant (or none). */
export function storySubject(tenant?: string): string {
  return `${subjects(tenant === undefined ? {} : { tenant }).cdr}.story`;
}

/** Publishing a story failed (the transport threw). */
export class StoryPublishError extends CdrStoreError {
  override readonly name = 'StoryPublishError';
}

/**
 * Publishes stories.
 *
 * @example
 * const publisher = new StoryPublisher({ publish: (subject, data) => bus.publish(subject, data) });
 * engine.onStory((story) => publisher.publish(story));
 */
export class StoryPublisher {
  /** The subject stories go to. */
  readonly subject: string;
  readonly #publish: PublishFn;
  readonly #encoder = new TextEncoder();
  #published = 0;

  constructor(options: StoryPublisherOptions) {
    this.subject = options.subject ?? storySubject(options.tenant);
    this.#publish = options.publish;
  }

  /** Stories published so far. */
  get published(): number {
    return this.#published;
  }

  /**
   * Publishes one story as JSON.
   *
   * @throws StoreDataError when the story lacks an id/start (the same checks as a store's `save`);
   * StoryPublishError when the transport fails.
   */
  async publish(story: StorableStory): Promise<void> {
    const { json } = storyColumns(story);
    try {
      await this.#publish(this.subject, this.#encoder.encode(json));
    } catch (err) {
      throw new StoryPublishError(
        `cannot publish story ${story.id} on ${this.subject}: ${describeError(err)}`,
        {
          cause: err,
        },
      );
    }
    this.#published++;
  }
}

/**
 * Decodes a story message published by {@link StoryPublisher} (for subscribers such as the console).
 *
 * @throws StoreDataError when the bytes are not a story.
 */
export function decodeStory<S extends StorableStory = CallStory>(data: Uint8Array): S {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    throw new StoreDataError(`story message: bad JSON: ${describeError(err)}`);
  }
  storyColumns(value as StorableStory); // same checks as on the way out
  return value as S;
}
