import { describe, expect, it } from 'vitest';
import { type NodeChange, NodeRegistry } from './node-registry.js';

describe('NodeRegistry', () => {
  it('registers, updates, unregisters and expires nodes, telling listeners each change', () => {
    const errors: unknown[] = [];
    const reg = new NodeRegistry((e) => errors.push(e));
    const changes: string[] = [];
    const off = reg.on((c: NodeChange) => changes.push(`${c.kind}:${c.node.uuid}`));
    reg.on(() => {
      throw new Error('bad listener');
    });
    reg.apply('seen', { uuid: 'a', sessions: 1 }, 1000);
    reg.apply('seen', { uuid: 'b' }, 1000);
    reg.apply('seen', { uuid: 'a', sessions: 2 }, 5000);
    expect(reg.get('a')).toMatchObject({ firstSeen: 1000, lastSeen: 5000, info: { sessions: 2 } });
    expect(reg.list().map((n) => n.uuid)).toEqual(['a', 'b']);
    expect(reg.expire(2000).map((n) => n.uuid)).toEqual(['b']);
    expect(reg.apply('gone', { uuid: 'zzz' }, 6000)).toBeUndefined();
    reg.apply('gone', { uuid: 'a' }, 6000);
    expect(reg.size).toBe(0);
    expect(changes).toEqual(['registered:a', 'registered:b', 'updated:a', 'expired:b', 'unregistered:a']);
    expect(errors).toHaveLength(5);
    off();
    reg.apply('seen', { uuid: 'c' }, 7000);
    expect(changes).toHaveLength(5);
  });
});
