/**
 * The app file of `xcc ctrl app.json`: reading it (and the graph files it names, and every
 * `import_uri` subgraph), and validating all of it before anything connects. Every fault is a
 * `CliError` (exit 2) with a one-line message naming the file and the fault.
 *
 * ```json
 * { "name": "ivr-billing",
 *   "graph": "app-graph.json",          // or the graph inline
 *   "per_call": "per-call.json" }       // optional; or inline
 * ```
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../clock/index.js';
import { Graph } from '../../graph/index.js';
import { oneLine, usageError } from '../errors.js';
import { PER_CALL_PROPERTIES, createPerCallRegistry } from './per-call-addons.js';
import { parseProperty } from './property.js';
import { APP_PROPERTIES, createAppRegistry } from './registry.js';

/** An app file with everything it refers to read in. */
export interface AppFile {
  /** The app file as given. */
  path: string;
  /** Its folder: relative paths in it and in properties are resolved against it. */
  baseDir: string;
  name: string | undefined;
  /** The app graph JSON (validated by `validateApp`). */
  graph: unknown;
  /** The per-call pipeline graph JSON, if any. */
  perCall: unknown;
  /** Every `import_uri` met in either graph (or in imported subgraphs), by URI as written. */
  subgraphs: Record<string, unknown>;
}

const GraphRef = z.union([z.string().min(1), z.record(z.string(), z.unknown())], {
  error: 'expected a graph object or the path of a graph file',
});
const AppFileSchema = z.strictObject({
  /** A label for logs. */
  name: z.string().optional(),
  graph: GraphRef,
  per_call: GraphRef.optional(),
});

/** Reads `path` and every file it refers to. Throws a `CliError` (exit 2) naming the fault. */
export async function loadAppFile(path: string): Promise<AppFile> {
  const file = resolve(path);
  const raw = await readJson(file, path);
  const parsed = AppFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
    throw usageError(`${path}: ${where}${issue?.message ?? 'invalid app file'}`);
  }
  const baseDir = dirname(file);
  const subgraphs: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  const load = async (ref: z.infer<typeof GraphRef>, label: string): Promise<unknown> => {
    if (typeof ref !== 'string') {
      await collectImports(ref, baseDir, path, subgraphs, origins, 0);
      return ref;
    }
    const graphFile = resolve(baseDir, ref);
    const graph = await readJson(graphFile, `${path}: ${label} file ${ref}`);
    await collectImports(graph, dirname(graphFile), ref, subgraphs, origins, 0);
    return graph;
  };
  const graph = await load(parsed.data.graph, 'graph');
  const perCall =
    parsed.data.per_call === undefined ? undefined : await load(parsed.data.per_call, 'per_call');
  return { path, baseDir, name: parsed.data.name, graph, perCall, subgraphs };
}

const MAX_IMPORT_DEPTH = 8;

/** Reads the files of every `{"import_uri": …}` subgraph in `graph`, recursively, relative to `dir`. */
async function collectImports(
  graph: unknown,
  dir: string,
  where: string,
  into: Record<string, unknown>,
  origins: Map<string, string>,
  depth: number,
): Promise<void> {
  if (!isObject(graph) || !Array.isArray(graph.nodes)) return;
  for (const node of graph.nodes) {
    if (!isObject(node) || node.type !== 'subgraph' || !isObject(node.graph)) continue;
    const uri = node.graph.import_uri;
    if (typeof uri !== 'string') {
      await collectImports(node.graph, dir, where, into, origins, depth);
      continue;
    }
    const file = resolve(dir, uri);
    const seen = origins.get(uri);
    if (seen !== undefined) {
      if (seen !== file) throw usageError(`${where}: import_uri "${uri}" names two files (${seen}, ${file})`);
      continue;
    }
    if (depth >= MAX_IMPORT_DEPTH) throw usageError(`${where}: import_uri "${uri}": imports nest too deep`);
    origins.set(uri, file);
    const sub = await readJson(file, `${where}: import_uri "${uri}"`);
    into[uri] = sub;
    await collectImports(sub, dirname(file), uri, into, origins, depth + 1);
  }
}

async function readJson(file: string, label: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw usageError(`${label}: ${code === 'ENOENT' ? 'file not found' : `cannot read: ${oneLine(err)}`}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw usageError(`${label}: invalid JSON: ${oneLine(err)}`);
  }
}

/**
 * Checks an app without running it: the graph and the per-call graph against their registries (every
 * node, connection, subgraph), each built-in addon's property, and that a per-call graph has a
 * `call-router` to run it. Returns the flow modules the routers name (to load before starting).
 */
export function validateApp(app: AppFile, clock: Clock): { flows: string[] } {
  const fail = (part: string, err: unknown): never => {
    throw usageError(`${app.path}: ${part}: ${oneLine(err)}`);
  };
  try {
    new Graph(app.graph, { registry: createAppRegistry(), clock, subgraphs: app.subgraphs });
  } catch (err) {
    fail('graph', err);
  }
  if (app.perCall !== undefined) {
    try {
      new Graph(app.perCall, { registry: createPerCallRegistry(), clock, subgraphs: app.subgraphs });
    } catch (err) {
      fail('per_call', err);
    }
  }
  const flows: string[] = [];
  const schemas: Readonly<Record<string, z.ZodType>> = APP_PROPERTIES;
  for (const node of extensionNodes(app.graph, app.subgraphs)) {
    const schema = schemas[node.addon];
    if (schema === undefined) continue;
    try {
      const property = parseProperty(schema, node.name, node.property ?? {});
      if (node.addon === 'call-router') flows.push((property as { flow: string }).flow);
    } catch (err) {
      fail('graph', err);
    }
  }
  for (const node of extensionNodes(app.perCall, app.subgraphs)) {
    const schema = PER_CALL_PROPERTIES[node.addon];
    if (schema === undefined) continue;
    try {
      parseProperty(schema, node.name, node.property ?? {});
    } catch (err) {
      fail('per_call', err);
    }
  }
  if (app.perCall !== undefined && flows.length === 0) {
    fail('per_call', 'a per-call graph needs a "call-router" node in the app graph to run it');
  }
  return { flows: [...new Set(flows)] };
}

interface RawExtensionNode {
  name: string;
  addon: string;
  property?: unknown;
}

/** Extension nodes of a (valid) graph, inline and imported subgraphs included. */
function extensionNodes(graph: unknown, subgraphs: Readonly<Record<string, unknown>>): RawExtensionNode[] {
  const out: RawExtensionNode[] = [];
  const walk = (g: unknown, depth: number): void => {
    if (!isObject(g) || !Array.isArray(g.nodes) || depth > MAX_IMPORT_DEPTH) return;
    for (const node of g.nodes) {
      if (!isObject(node)) continue;
      if (node.type === 'extension' && typeof node.name === 'string' && typeof node.addon === 'string') {
        out.push({ name: node.name, addon: node.addon, property: node.property });
      } else if (node.type === 'subgraph' && isObject(node.graph)) {
        const uri = node.graph.import_uri;
        walk(typeof uri === 'string' ? subgraphs[uri] : node.graph, depth + 1);
      }
    }
  };
  walk(graph, 0);
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
