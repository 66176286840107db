import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { AddonRegistry } from './addon-registry.js';
import { GraphSpecError } from './errors.js';
import { Graph } from './graph.js';

const registry = new AddonRegistry().register('x', { create: () => ({}) });
const ext = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'extension',
  name,
  addon: 'x',
  ...extra,
});

function refusal(json: unknown, subgraphs?: Record<string, unknown>): string {
  try {
    new Graph(json, { registry, clock: new VirtualClock(), subgraphs });
  } catch (err) {
    expect(err).toBeInstanceOf(GraphSpecError);
    return (err as GraphSpecError).message;
  }
  throw new Error('graph was accepted');
}

describe('graph validation', () => {
  it.each([
    ['not an object', 42, /^invalid graph: graph: /],
    ['no nodes', {}, /nodes: /],
    ['missing addon', { nodes: [{ type: 'extension', name: 'asr' }] }, /nodes\[0\] \(node "asr"\) addon: /],
    [
      'unknown addon',
      { nodes: [{ type: 'extension', name: 'asr', addon: 'nope' }] },
      /node "asr"\): unknown addon "nope" \(registered: x\)/,
    ],
    [
      'selector node',
      { nodes: [{ type: 'selector', name: 's' }] },
      /nodes\[0\] \(node "s"\) type: node type must be 'extension' or 'subgraph' \(selector nodes are not supported\)/,
    ],
    ['duplicate names', { nodes: [ext('a'), ext('a')] }, /nodes\[1\] \(node "a"\): duplicate node name "a"/],
    ['unknown field', { nodes: [ext('a', { colour: 'red' })] }, /node "a"\).*colour/],
    [
      'unknown manual stage',
      { nodes: [ext('a', { property: { ten: { manual_trigger_life_cycle: [{ stage: 'pause' }] } } })] },
      /node "a"\) property.ten.manual_trigger_life_cycle\[0\].stage: stage must be one of configure, init, start, stop, deinit/,
    ],
    [
      'manual init (in the format, not supported yet)',
      { nodes: [ext('a', { property: { ten: { manual_trigger_life_cycle: [{ stage: 'init' }] } } })] },
      /node "a"\) property.ten.manual_trigger_life_cycle: manual trigger of stage "init" is not supported yet \(only start and stop\)/,
    ],
    [
      'connection from an unknown extension',
      {
        nodes: [ext('a')],
        connections: [{ extension: 'ghost', cmd: [{ name: 'hi', dest: [{ extension: 'a' }] }] }],
      },
      /connections\[0\] \(connection from "ghost"\) cmd\[0\] "hi": unknown extension "ghost"/,
    ],
    [
      'connection to an unknown extension',
      {
        nodes: [ext('a')],
        connections: [{ extension: 'a', data: [{ name: 'pcm', dest: [{ extension: 'zz' }] }] }],
      },
      /connections\[0\] \(connection from "a"\) data\[0\] "pcm" dest\[0\]: unknown extension "zz"/,
    ],
    [
      'trigger routed by a connection',
      {
        nodes: [ext('a'), ext('b')],
        connections: [
          { extension: 'a', cmd: [{ name: 'ten:trigger_life_cycle', dest: [{ extension: 'b' }] }] },
        ],
      },
      /cmd\[0\] "ten:trigger_life_cycle": ten:trigger_life_cycle cannot be routed by connections/,
    ],
    [
      'flow with both name and names',
      {
        nodes: [ext('a')],
        connections: [{ extension: 'a', cmd: [{ name: 'x', names: ['y'], dest: [{ extension: 'a' }] }] }],
      },
      /connections\[0\] \(connection from "a"\) cmd\[0\]: must have exactly one of name or names/,
    ],
    [
      'dest naming neither extension nor subgraph',
      { nodes: [ext('a')], connections: [{ extension: 'a', cmd: [{ name: 'x', dest: [{}] }] }] },
      /cmd\[0\].dest\[0\]: must name exactly one of extension or subgraph/,
    ],
    [
      'subgraph not exposing a message it is sent',
      {
        nodes: [ext('a'), { type: 'subgraph', name: 'sg', graph: { nodes: [ext('inner')] } }],
        connections: [{ extension: 'a', cmd: [{ name: 'call', dest: [{ subgraph: 'sg' }] }] }],
      },
      /dest\[0\]: subgraph "sg" does not expose cmd_in "call"/,
    ],
    [
      'subgraph node declaring manual triggers',
      {
        nodes: [
          {
            type: 'subgraph',
            name: 'sg',
            graph: { nodes: [ext('inner')] },
            property: { ten: { manual_trigger_life_cycle: [{ stage: 'start' }] } },
          },
        ],
      },
      /node "sg"\) property.ten.manual_trigger_life_cycle: a subgraph node cannot declare manual_trigger_life_cycle/,
    ],
    [
      'exposure of an unknown inner extension',
      {
        nodes: [
          {
            type: 'subgraph',
            name: 'sg',
            graph: {
              nodes: [ext('inner')],
              exposed_messages: [{ type: 'cmd_in', name: 'x', extension: 'nope' }],
            },
          },
        ],
      },
      /node "sg"\) graph.exposed_messages\[0\]: unknown extension "nope"/,
    ],
    [
      'inner node fault named through its subgraph',
      { nodes: [{ type: 'subgraph', name: 'sg', graph: { nodes: [{ type: 'extension', name: 'inner' }] } }] },
      /nodes\[0\] \(node "sg"\) graph.nodes\[0\] \(node "inner"\) addon: /,
    ],
    [
      'property not exposed by the subgraph',
      { nodes: [{ type: 'subgraph', name: 'sg', graph: { nodes: [ext('inner')] }, property: { base: 1 } }] },
      /node "sg"\) property.base: subgraph does not expose property "base"/,
    ],
    [
      'unknown import_uri',
      { nodes: [{ type: 'subgraph', name: 'sg', graph: { import_uri: 'sub.json' } }] },
      /node "sg"\) graph.import_uri: unknown subgraph "sub.json"/,
    ],
    ['bad lifecycle option', { nodes: [], lifecycle: { order: 'random' } }, /lifecycle.order: /],
  ])('rejects %s, naming the fault', (_label, json, pattern) => {
    expect(refusal(json)).toMatch(pattern);
  });

  it('reports every fault at once', () => {
    const message = refusal({
      nodes: [ext('a'), { type: 'extension', name: 'b', addon: 'missing' }],
      connections: [{ extension: 'a', cmd: [{ name: 'x', dest: [{ extension: 'c' }] }] }],
    });
    expect(message).toMatch(/unknown addon "missing"/);
    expect(message).toMatch(/unknown extension "c"/);
  });

  it('resolves import_uri subgraphs through options.subgraphs and checks them too', () => {
    const clock = new VirtualClock();
    const graph = new Graph(
      { nodes: [{ type: 'subgraph', name: 'sg', graph: { import_uri: 'pipeline' } }] },
      { registry, clock, subgraphs: { pipeline: { nodes: [ext('rec')] } } },
    );
    expect(graph.extensionNames).toEqual(['sg/rec']);
    expect(
      refusal(
        { nodes: [{ type: 'subgraph', name: 'sg', graph: { import_uri: 'bad' } }] },
        { bad: { nodes: [{ type: 'extension', name: 'r', addon: 'gone' }] } },
      ),
    ).toMatch(/node "sg"\) graph.nodes\[0\] \(node "r"\): unknown addon "gone"/);
  });

  it("accepts the seed's extension node format (extension_group, ten.manual_trigger_life_cycle)", () => {
    const graph = new Graph(
      {
        nodes: [
          ext('simple_http_server_cpp', {
            extension_group: 'default_extension_group',
            property: {
              server_port: 8002,
              ten: { manual_trigger_life_cycle: [{ stage: 'start' }, { stage: 'stop' }] },
            },
          }),
        ],
      },
      { registry, clock: new VirtualClock() },
    );
    expect(graph.extensionNames).toEqual(['simple_http_server_cpp']);
  });
});
