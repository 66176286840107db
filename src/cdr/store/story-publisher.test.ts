/** StoryPublisher: subject, bytes, failures; decodeStory round trip. */
import { describe, expect, it } from 'vitest';
import { StoreDataError } from './errors.js';
import { decodeStory, StoryPublishError, StoryPublisher, storySubject } from './story-publisher.js';
import { makeStory } from './test-support.js';

describe('StoryPublisher', () => {
  it('publishes each story as JSON on cn.xswitch.cdr.story by default', async () => {
    const sent: { subject: string; data: Uint8Array }[] = [];
    const publisher = new StoryPublisher({ publish: (subject, data) => void sent.push({ subject, data }) });
    const story = makeStory({ id: 'p1' });
    await publisher.publish(story);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe('cn.xswitch.cdr.story');
    expect(decodeStory(sent[0]!.data)).toEqual(story);
    expect(publisher.published).toBe(1);
  });

  it('uses the tenant prefix or an explicit subject', () => {
    expect(new StoryPublisher({ publish: () => {}, tenant: 'cherry' }).subject).toBe(
      'cherry.cn.xswitch.cdr.story',
    );
    expect(new StoryPublisher({ publish: () => {}, subject: 'my.cdr' }).subject).toBe('my.cdr');
    expect(storySubject()).toBe('cn.xswitch.cdr.story');
    expect(() => storySubject('a.b')).toThrow(/tenant/);
  });

  it('awaits an async transport and wraps its failure in StoryPublishError', async () => {
    let done = false;
    const slow = new StoryPublisher({
      publish: async () => {
        await Promise.resolve();
        done = true;
      },
    });
    await slow.publish(makeStory({ id: 'p2' }));
    expect(done).toBe(true);
    const broken = new StoryPublisher({
      publish: () => {
        throw new Error('connection closed');
      },
    });
    const err = await broken.publish(makeStory({ id: 'p3' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoryPublishError);
    expect((err as Error).message).toBe('cannot publish story p3 on cn.xswitch.cdr.story: connection closed');
    expect(broken.published).toBe(0);
  });

  it('refuses to publish a story without an id', async () => {
    const publisher = new StoryPublisher({ publish: () => {} });
    await expect(publisher.publish(makeStory({ id: '' }))).rejects.toBeInstanceOf(StoreDataError);
  });

  it('decodeStory rejects bytes that are not a story', () => {
    const enc = new TextEncoder();
    expect(() => decodeStory(enc.encode('{not json'))).toThrow(StoreDataError);
    expect(() => decodeStory(enc.encode('{"id":"x"}'))).toThrow(/startedAt/);
    expect(() => decodeStory(enc.encode('null'))).toThrow(StoreDataError);
  });
});
