/**
 * Heap per held call, measured in child processes started with `--expose-gc` (a fresh heap each):
 * one with node + controller, one with the node alone; the controller's share is the difference.
 */
import { spawnBenchChild } from './proc.js';

export interface HeapRun {
  mode: 'both' | 'node';
  calls: number;
  answered: number;
  nodeChannels: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  bytesPerCall: number;
}

export interface HeapResult {
  calls: number;
  /** Node + controller together, per held call. */
  bytesPerCall: number;
  nodeBytesPerCall: number;
  /** Difference of the two runs (approximate: two separate heaps). */
  ctrlBytesPerCall: number;
  runs: HeapRun[];
}

async function heapRun(mode: 'both' | 'node', calls: number): Promise<HeapRun> {
  const child = await spawnBenchChild('heap-proc.js', [mode, String(calls)], {
    nodeArgs: ['--expose-gc', '--max-old-space-size=2048'],
  });
  try {
    const line = await child.nextLine((l) => l.startsWith('{'), 120_000);
    return JSON.parse(line) as HeapRun;
  } finally {
    await child.stop();
  }
}

export async function runHeap(calls = 10_000): Promise<HeapResult> {
  const both = await heapRun('both', calls);
  const node = await heapRun('node', calls);
  return {
    calls,
    bytesPerCall: both.bytesPerCall,
    nodeBytesPerCall: node.bytesPerCall,
    ctrlBytesPerCall: both.bytesPerCall - node.bytesPerCall,
    runs: [both, node],
  };
}
