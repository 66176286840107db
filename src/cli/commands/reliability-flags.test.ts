import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/index.js';
import { MemoryClaimStore } from '../../rpc/index.js';
import { ctrlReliability } from './ctrl.js';
import { nodeReliability } from './node.js';

describe('--reliable, --batching and --claim-bucket → the reliability options of node and controller', () => {
  it('the node: off by default, the reply cache alone with --reliable', () => {
    expect(nodeReliability({}, undefined)).toBe(false);
    expect(nodeReliability({ reliable: true }, undefined)).toBe(true);
  });

  it('the node: --batching turns the transaction sender on and implies --reliable', () => {
    expect(nodeReliability({ batching: true }, undefined)).toEqual({ batching: {} });
    expect(nodeReliability({ reliable: true, batching: true }, undefined)).toEqual({ batching: {} });
  });

  it('the node: claims and batching together', () => {
    const store = new MemoryClaimStore(new VirtualClock());
    expect(nodeReliability({}, store)).toEqual({ claims: { store } });
    expect(nodeReliability({ batching: true }, store)).toEqual({ claims: { store }, batching: {} });
  });

  it('the controller: off, --reliable, and --batching (implies --reliable)', () => {
    expect(ctrlReliability({})).toBe(false);
    expect(ctrlReliability({ reliable: true })).toBe(true);
    expect(ctrlReliability({ batching: true })).toEqual({ batching: {} });
  });
});
