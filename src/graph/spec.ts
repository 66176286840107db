/**
 * The JSON graph format and its shape check (zod). `parseGraphSpec` turns unknown JSON into a typed
 * `GraphSpec` or throws a `GraphSpecError` whose issues name the node or connection at fault; the
 * semantic checks (names resolve, addons exist, subgraphs expose what is used) are in `compile.ts`.
 *
 * @example
 * {
 *   "nodes": [
 *     { "type": "extension", "name": "billing", "addon": "billing",
 *       "property": { "ten": { "manual_trigger_life_cycle": [{ "stage": "start" }, { "stage": "stop" }] } } },
 *     { "type": "extension", "name": "asr", "addon": "asr" }
 *   ],
 *   "connections": [
 *     { "extension": "asr", "data": [{ "name": "text", "dest": [{ "extension": "billing" }] }] }
 *   ]
 * }
 */
import { z } from 'zod';
import { GraphSpecError, type GraphSpecIssue } from './errors.js';
import { MESSAGE_KINDS, type MessageKind } from './messages.js';
import { STAGES, type Stage } from './stages.js';

export interface ManualTriggerEntry {
  stage: Stage;
}

export interface ExtensionNodeSpec {
  type: 'extension';
  name: string;
  addon: string;
  extension_group?: string;
  /** App URI (TEN); a graph whose nodes name more than one app is refused. */
  app?: string;
  property?: Record<string, unknown>;
}

export interface SubgraphNodeSpec {
  type: 'subgraph';
  name: string;
  /** Inline definition, or `{ import_uri }` resolved through `GraphOptions.subgraphs`. */
  graph: SubgraphDefinition | { import_uri: string };
  /** Values for the subgraph's `exposed_properties`. */
  property?: Record<string, unknown>;
}

export type NodeSpec = ExtensionNodeSpec | SubgraphNodeSpec;

/** One end of a connection: an extension or a subgraph of the same graph. */
export interface LocSpec {
  extension?: string;
  subgraph?: string;
  app?: string;
  msg_conversion?: unknown;
}

/** One routing rule: message `name` (or each of `names`) goes to `dest` (or comes from `source`). */
export interface FlowSpec {
  name?: string;
  names?: string[];
  dest?: LocSpec[];
  source?: LocSpec[];
}

export type ConnectionSpec = LocSpec & Partial<Record<MessageKind, FlowSpec[]>>;

export type ExposedMessageType = `${MessageKind}_${'in' | 'out'}`;

export interface ExposedMessageSpec {
  type: ExposedMessageType;
  name: string;
  extension: string;
}

export interface ExposedPropertySpec {
  extension: string;
  name: string;
  /** Name the outer graph uses; default `name`. */
  alias?: string;
}

export interface SubgraphDefinition {
  nodes: NodeSpec[];
  connections?: ConnectionSpec[];
  exposed_messages?: ExposedMessageSpec[];
  exposed_properties?: ExposedPropertySpec[];
}

/** Lifecycle options a graph file may carry; code options override them. */
export interface LifecycleSpec {
  /** `declared`: start in declared order, stop in reverse. Default `parallel`. */
  order?: 'parallel' | 'declared';
  sync_stop_before_deinit?: boolean;
  stage_timeout_ms?: Partial<Record<Stage, number>>;
  gate_timeout_ms?: number;
  cmd_timeout_ms?: number;
}

export interface GraphSpec extends SubgraphDefinition {
  lifecycle?: LifecycleSpec;
}

const name = z.string().min(1, 'must be a non-empty string');
const property = z.record(z.string(), z.unknown());
const manualEntry = z.strictObject({
  stage: z.enum(STAGES, { error: `stage must be one of ${STAGES.join(', ')}` }),
});
const tenProperty = z.object({ manual_trigger_life_cycle: z.array(manualEntry).optional() }).loose();

const extensionNode = z.strictObject({
  type: z.literal('extension'),
  name,
  addon: name,
  extension_group: z.string().optional(),
  app: z.string().optional(),
  property: property.and(z.object({ ten: tenProperty.optional() })).optional(),
});

const loc = z
  .strictObject({
    extension: name.optional(),
    subgraph: name.optional(),
    app: z.string().optional(),
    msg_conversion: z.unknown().optional(),
  })
  .refine((l) => (l.extension === undefined) !== (l.subgraph === undefined), {
    error: 'must name exactly one of extension or subgraph',
  });

const flow = z
  .strictObject({
    name: name.optional(),
    names: z.array(name).min(1).optional(),
    dest: z.array(loc).min(1).optional(),
    source: z.array(loc).min(1).optional(),
  })
  .refine((f) => (f.name === undefined) !== (f.names === undefined), {
    error: 'must have exactly one of name or names',
  })
  .refine((f) => (f.dest === undefined) !== (f.source === undefined), {
    error: 'must have exactly one of dest or source',
  });

const connection = z.strictObject({
  extension: name.optional(),
  subgraph: name.optional(),
  app: z.string().optional(),
  ...Object.fromEntries(MESSAGE_KINDS.map((k) => [k, z.array(flow).optional()])),
});

const exposedMessage = z.strictObject({
  type: z.enum(MESSAGE_KINDS.flatMap((k) => [`${k}_in`, `${k}_out`]) as [ExposedMessageType]),
  name,
  extension: name,
});
const exposedProperty = z.strictObject({ extension: name, name, alias: name.optional() });

const subgraphBody = {
  nodes: z.array(z.lazy(() => node)),
  connections: z.array(connection).optional(),
  exposed_messages: z.array(exposedMessage).optional(),
  exposed_properties: z.array(exposedProperty).optional(),
};

const subgraphNode = z.strictObject({
  type: z.literal('subgraph'),
  name,
  graph: z.union([z.strictObject({ import_uri: name }), z.strictObject(subgraphBody)], {
    error: 'must be an inline graph {nodes, ...} or {import_uri}',
  }),
  property: property.optional(),
});

const node: z.ZodType<NodeSpec> = z.discriminatedUnion('type', [extensionNode, subgraphNode], {
  error: "node type must be 'extension' or 'subgraph' (selector nodes are not supported)",
}) as unknown as z.ZodType<NodeSpec>;

const timeout = z.number().positive();
const lifecycle = z.strictObject({
  order: z.enum(['parallel', 'declared']).optional(),
  sync_stop_before_deinit: z.boolean().optional(),
  stage_timeout_ms: z.strictObject(Object.fromEntries(STAGES.map((s) => [s, timeout.optional()]))).optional(),
  gate_timeout_ms: timeout.optional(),
  cmd_timeout_ms: timeout.optional(),
});

const graphSchema = z.strictObject({ ...subgraphBody, lifecycle: lifecycle.optional() });

/** Checks the shape of a subgraph definition (used for `import_uri` targets). */
export function parseSubgraphDefinition(json: unknown, where = 'graph'): SubgraphDefinition {
  return parseWith(z.strictObject(subgraphBody), json, where) as SubgraphDefinition;
}

/** Checks the shape of a graph; throws `GraphSpecError` naming every fault. */
export function parseGraphSpec(json: unknown): GraphSpec {
  return parseWith(graphSchema, json, '') as GraphSpec;
}

function parseWith(schema: z.ZodType, json: unknown, prefix: string): unknown {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new GraphSpecError(
    parsed.error.issues.flatMap(unwrapUnion).map((issue) => describeIssue(json, issue, prefix)),
  );
}

/**
 * A union that matched no branch (a subgraph's `graph`) reports the issues of the branch that came
 * closest, so the message names the inner fault instead of "invalid input".
 */
function unwrapUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
  return closest.flatMap((inner) => unwrapUnion({ ...inner, path: [...issue.path, ...inner.path] }));
}

/**
 * Turns a zod issue into "where: message", where `where` names the node (`node "billing"`) or the
 * connection (`connection from "asr"`) that holds the fault, then the path inside it.
 */
function describeIssue(root: unknown, issue: z.core.$ZodIssue, prefix: string): GraphSpecIssue {
  const segments: string[] = prefix ? [prefix] : [];
  let current = '';
  let cursor: unknown = root;
  const path = issue.path;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const next =
      isRecord(cursor) || Array.isArray(cursor) ? (cursor as Record<PropertyKey, unknown>)[key] : undefined;
    const parent = path[i - 1];
    if (typeof key === 'number' && (parent === 'nodes' || parent === 'connections')) {
      const label = parent === 'nodes' ? nodeLabel(next) : connectionLabel(next);
      segments.push(`${current}[${key}]${label}`);
      current = '';
    } else if (typeof key === 'number') {
      current += `[${key}]`;
    } else {
      current += (current ? '.' : '') + String(key);
    }
    cursor = next;
  }
  if (current) segments.push(current);
  return { where: segments.join(' ') || 'graph', message: issue.message };
}

function nodeLabel(value: unknown): string {
  return isRecord(value) && typeof value.name === 'string' ? ` (node "${value.name}")` : '';
}

function connectionLabel(value: unknown): string {
  if (!isRecord(value)) return '';
  const from = typeof value.extension === 'string' ? value.extension : value.subgraph;
  return typeof from === 'string' ? ` (connection from "${from}")` : '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
