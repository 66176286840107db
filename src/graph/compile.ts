/**
 * Semantic checks and flattening of a parsed graph: every name resolves, every addon is registered,
 * manual stages are supported, subgraphs expose what the outer graph uses; subgraphs are inlined
 * (inner extensions get qualified names `subgraph/extension`) and connections become a route table.
 * All problems are collected and thrown together as one `GraphSpecError`.
 */
import type { AddonRegistry } from './addon-registry.js';
import { GraphSpecError, type GraphSpecIssue } from './errors.js';
import { MESSAGE_KINDS, type MessageKind, TRIGGER_LIFE_CYCLE } from './messages.js';
import {
  type ConnectionSpec,
  type FlowSpec,
  type GraphSpec,
  type LifecycleSpec,
  type LocSpec,
  parseSubgraphDefinition,
  type SubgraphDefinition,
} from './spec.js';
import { isManualStage, type ManualStage } from './stages.js';

/** One extension of the flattened graph. */
export interface CompiledExtension {
  /** Qualified name (`billing`, or `sg/main` inside subgraph `sg`). */
  readonly name: string;
  /** Qualified name of the enclosing subgraph plus `/`, or `''` at the top. */
  readonly scope: string;
  readonly addon: string;
  readonly property: Readonly<Record<string, unknown>>;
  /** Stages this extension waits for `ten:trigger_life_cycle` on. */
  readonly manual: ReadonlySet<ManualStage>;
}

/** A flattened, validated graph. */
export interface CompiledGraph {
  /** In declared order, subgraph members in place of their subgraph node. */
  readonly extensions: readonly CompiledExtension[];
  /** `routeKey(from, kind, name)` → destination extensions. */
  readonly routes: ReadonlyMap<string, readonly string[]>;
  /** Subgraph qualified name → `kind:name` → inner extension receiving it (`*_in` exposures). */
  readonly exposedIn: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly lifecycle: LifecycleSpec;
}

export interface CompileOptions {
  registry: AddonRegistry;
  /** Subgraph definitions for `{ "import_uri": ... }`, by URI (graph does no file I/O). */
  subgraphs?: Readonly<Record<string, unknown>>;
}

export function routeKey(from: string, kind: MessageKind, name: string): string {
  return `${from}\u0000${kind}\u0000${name}`;
}

type Resolved = { ok: true; name: string } | { ok: false; message: string };

type Entry =
  | { kind: 'extension'; qualified: string }
  | { kind: 'subgraph'; qualified: string; scope: ScopeResult };

interface ScopeResult {
  exposedIn: Map<string, string>;
  exposedOut: Map<string, string>;
  exposedProps: Map<string, { extension: string; name: string }>;
}

const MAX_DEPTH = 16;

/** Validates and flattens `spec`; throws `GraphSpecError` listing every fault. */
export function compileGraph(spec: GraphSpec, options: CompileOptions): CompiledGraph {
  const issues: GraphSpecIssue[] = [];
  const extensions: (CompiledExtension & { property: Record<string, unknown> })[] = [];
  const routes = new Map<string, string[]>();
  const exposedIn = new Map<string, ReadonlyMap<string, string>>();
  const apps = new Set<string>();

  const compileScope = (
    def: SubgraphDefinition,
    prefix: string,
    where: string,
    depth: number,
  ): ScopeResult => {
    const entries = new Map<string, Entry>();
    def.nodes.forEach((node, i) => {
      const at = `${where}nodes[${i}] (node "${node.name}")`;
      if (entries.has(node.name)) {
        issues.push({ where: at, message: `duplicate node name "${node.name}"` });
        return;
      }
      const qualified = prefix + node.name;
      switch (node.type) {
        case 'extension': {
          if (node.app !== undefined) apps.add(node.app);
          const addon = options.registry.get(node.addon);
          if (!addon) {
            const known = options.registry.names();
            issues.push({
              where: at,
              message: `unknown addon "${node.addon}" (registered: ${known.length ? known.join(', ') : 'none'})`,
            });
          }
          const manual = new Set<ManualStage>();
          const ten = (node.property?.ten ?? {}) as { manual_trigger_life_cycle?: { stage: string }[] };
          for (const { stage } of ten.manual_trigger_life_cycle ?? []) {
            if (isManualStage(stage)) manual.add(stage);
            else
              issues.push({
                where: `${at} property.ten.manual_trigger_life_cycle`,
                message: `manual trigger of stage "${stage}" is not supported yet (only start and stop)`,
              });
          }
          const ext = {
            name: qualified,
            scope: prefix,
            addon: node.addon,
            property: { ...(addon?.defaultProperty ?? {}), ...(node.property ?? {}) },
            manual,
          };
          extensions.push(ext);
          entries.set(node.name, { kind: 'extension', qualified });
          return;
        }
        case 'subgraph': {
          const ten = node.property?.ten as { manual_trigger_life_cycle?: unknown } | undefined;
          if (ten?.manual_trigger_life_cycle !== undefined) {
            issues.push({
              where: `${at} property.ten.manual_trigger_life_cycle`,
              message:
                'a subgraph node cannot declare manual_trigger_life_cycle; declare it on an inner extension and expose ten:trigger_life_cycle',
            });
          }
          if (depth >= MAX_DEPTH) {
            issues.push({
              where: at,
              message: `subgraphs nested deeper than ${MAX_DEPTH} (an import cycle?)`,
            });
            return;
          }
          let body: SubgraphDefinition | undefined;
          if ('import_uri' in node.graph) {
            const uri = node.graph.import_uri;
            const raw = options.subgraphs?.[uri];
            if (raw === undefined) {
              issues.push({ where: `${at} graph.import_uri`, message: `unknown subgraph "${uri}"` });
              return;
            }
            try {
              body = parseSubgraphDefinition(raw, `${at} graph`);
            } catch (err) {
              if (err instanceof GraphSpecError) issues.push(...err.issues);
              else throw err;
              return;
            }
          } else {
            body = node.graph;
          }
          const inner = compileScope(body, `${qualified}/`, `${at} graph.`, depth + 1);
          exposedIn.set(qualified, inner.exposedIn);
          entries.set(node.name, { kind: 'subgraph', qualified, scope: inner });
          for (const [key, value] of Object.entries(node.property ?? {})) {
            if (key === 'ten') continue;
            const target = inner.exposedProps.get(key);
            const owner = target && extensions.find((e) => e.name === target.extension);
            if (!target || !owner) {
              issues.push({
                where: `${at} property.${key}`,
                message: `subgraph does not expose property "${key}"`,
              });
              continue;
            }
            owner.property[target.name] = value;
          }
          return;
        }
      }
    });

    const scope: ScopeResult = { exposedIn: new Map(), exposedOut: new Map(), exposedProps: new Map() };
    def.exposed_messages?.forEach((m, i) => {
      const at = `${where}exposed_messages[${i}]`;
      const entry = entries.get(m.extension);
      if (entry?.kind !== 'extension') {
        issues.push({ where: at, message: `unknown extension "${m.extension}"` });
        return;
      }
      const direction = m.type.endsWith('_in') ? scope.exposedIn : scope.exposedOut;
      direction.set(`${m.type.replace(/_(in|out)$/, '')}:${m.name}`, entry.qualified);
    });
    def.exposed_properties?.forEach((p, i) => {
      const at = `${where}exposed_properties[${i}]`;
      const entry = entries.get(p.extension);
      if (entry?.kind !== 'extension') {
        issues.push({ where: at, message: `unknown extension "${p.extension}"` });
        return;
      }
      scope.exposedProps.set(p.alias ?? p.name, { extension: entry.qualified, name: p.name });
    });

    /** Resolves a connection end to an extension (through a subgraph's exposures). */
    const resolve = (loc: LocSpec, kind: MessageKind, msg: string, dir: 'in' | 'out'): Resolved => {
      if (loc.app !== undefined) apps.add(loc.app);
      if (loc.extension !== undefined) {
        const entry = entries.get(loc.extension);
        if (entry?.kind === 'extension') return { ok: true, name: entry.qualified };
        return {
          ok: false,
          message: entry
            ? `"${loc.extension}" is a subgraph: use {"subgraph": "${loc.extension}"}`
            : `unknown extension "${loc.extension}"`,
        };
      }
      const sgName = loc.subgraph ?? '';
      const entry = entries.get(sgName);
      if (entry?.kind !== 'subgraph') return { ok: false, message: `unknown subgraph "${sgName}"` };
      const table = dir === 'in' ? entry.scope.exposedIn : entry.scope.exposedOut;
      const inner = table.get(`${kind}:${msg}`);
      return inner
        ? { ok: true, name: inner }
        : { ok: false, message: `subgraph "${sgName}" does not expose ${kind}_${dir} "${msg}"` };
    };

    def.connections?.forEach((conn: ConnectionSpec, ci) => {
      const owner = conn.extension ?? conn.subgraph;
      const at = `${where}connections[${ci}]${owner ? ` (connection from "${owner}")` : ''}`;
      if ((conn.extension === undefined) === (conn.subgraph === undefined)) {
        issues.push({ where: at, message: 'must name exactly one of extension or subgraph' });
        return;
      }
      for (const kind of MESSAGE_KINDS) {
        (conn[kind] ?? []).forEach((flow: FlowSpec, fi) => {
          const names = flow.names ?? (flow.name !== undefined ? [flow.name] : []);
          for (const msg of names) {
            const flowAt = `${at} ${kind}[${fi}] "${msg}"`;
            if (msg === TRIGGER_LIFE_CYCLE) {
              issues.push({
                where: flowAt,
                message: `${TRIGGER_LIFE_CYCLE} cannot be routed by connections; send it to an explicit destination`,
              });
              continue;
            }
            const selfLoc: LocSpec =
              conn.extension !== undefined ? { extension: conn.extension } : { subgraph: conn.subgraph };
            // A `dest` flow is written from the sender's side, a `source` flow from the receiver's.
            const forward = flow.dest !== undefined;
            const self = resolve(selfLoc, kind, msg, forward ? 'out' : 'in');
            if (!self.ok) {
              issues.push({ where: flowAt, message: self.message });
              continue;
            }
            const pairs: [string, string][] = [];
            (flow.dest ?? flow.source ?? []).forEach((loc, li) => {
              const other = resolve(loc, kind, msg, forward ? 'in' : 'out');
              if (!other.ok)
                issues.push({
                  where: `${flowAt} ${forward ? 'dest' : 'source'}[${li}]`,
                  message: other.message,
                });
              else pairs.push(forward ? [self.name, other.name] : [other.name, self.name]);
            });
            for (const [src, dst] of pairs) {
              const key = routeKey(src, kind, msg);
              const list = routes.get(key) ?? [];
              if (!list.includes(dst)) list.push(dst);
              routes.set(key, list);
            }
          }
        });
      }
    });
    return scope;
  };

  compileScope(spec, '', '', 0);
  if (apps.size > 1) {
    issues.push({
      where: 'graph',
      message: `graph spans several apps (${[...apps].sort().join(', ')}); an OpenXCC graph runs in one process`,
    });
  }
  if (issues.length > 0) throw new GraphSpecError(issues);
  return { extensions, routes, exposedIn, lifecycle: spec.lifecycle ?? {} };
}
