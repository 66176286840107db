/**
 * Reads the YAML/JSON files the CLI accepts: caller scripts (`xcc call --script`) and the simulated
 * destination directory (`xcc node --directory`). The CLI is the only module that reads files of
 * configuration; everything is validated with the protocol's schemas and reported as one line (exit 2).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  type CallerStep,
  CallerStepSchema,
  type DestinationBehaviour,
  DestinationBehaviourSchema,
} from '../protocol/index.js';
import { usageError } from './errors.js';

/** Parses a `.json`, `.yaml` or `.yml` file (anything else is tried as YAML, a superset of JSON). */
export async function loadDataFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, err);
  }
  try {
    return extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw usageError(
      `${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${firstLine(err)}`,
      err,
    );
  }
}

const ScriptFileSchema = z.union([
  z.array(CallerStepSchema),
  z.looseObject({ script: z.array(CallerStepSchema) }).transform((f) => f.script),
]);

/**
 * A caller script: either a list of steps or `{ script: [...] }`.
 *
 * @example
 * # caller.yaml
 * - wait: 1500
 * - dtmf: "1"
 * - wait: 10000
 * - hangup: {}
 */
export async function loadScript(path: string): Promise<CallerStep[]> {
  const data = await loadDataFile(path);
  return checked(path, ScriptFileSchema, data) as CallerStep[];
}

const DirectoryMapSchema = z.record(z.string(), DestinationBehaviourSchema);
const DirectoryFileSchema = z.union([
  z.looseObject({ directory: DirectoryMapSchema }).transform((f) => f.directory),
  DirectoryMapSchema,
]);

/**
 * The simulated destination directory: `{ "<number>": DestinationBehaviour, "*": default }`, either at the
 * top level or under a `directory` key.
 *
 * @example
 * # directory.yaml
 * agent: { answer_after_ms: 2000 }
 * busy-agent: { busy: true }
 * "*": { no_answer: true }
 */
export async function loadDirectory(path: string): Promise<Record<string, DestinationBehaviour>> {
  const data = await loadDataFile(path);
  return checked(path, DirectoryFileSchema, data) as Record<string, DestinationBehaviour>;
}

function checked<T>(path: string, schema: z.ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = deepestIssue(parsed.error.issues);
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  throw usageError(`${path}: ${where}: ${issue.message}`);
}

/** For unions zod reports "invalid input" at the top; the most specific branch issue is more useful. */
function deepestIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  let best = issues[0]!;
  for (const issue of issues) {
    if (issue.code === 'invalid_union') {
      for (const branch of issue.errors) {
        if (branch.length === 0) continue;
        const inner = deepestIssue(branch);
        const candidate = { ...inner, path: [...issue.path, ...inner.path] };
        if (candidate.path.length > best.path.length || best.code === 'invalid_union') best = candidate;
      }
    } else if (issue.path.length > best.path.length || best.code === 'invalid_union') {
      best = issue;
    }
  }
  return best;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
