/**
 * `xcc cdr listen|replay --directory FILE`: the enrichment directory of the story engine from a YAML or
 * JSON file — number/extension/login → `{kind, person?, department?, extension?}`, the shape scenario
 * files use — at the top level or under a `directory` key. A bad file is one line naming the entry
 * and exit 2.
 *
 * @example
 * # directory.yaml
 * '1001': {kind: internal, person: Anna Schmidt, department: Support}
 * anna.phone: {kind: internal, person: Anna Schmidt, extension: '1001'}
 * '+493012345678': {kind: external, person: ACME GmbH}
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type DirectoryEntry, StaticDirectory } from '../cdr/directory.js';
import { oneLine, usageError } from './errors.js';

const EntrySchema = z.strictObject({
  kind: z.enum(['internal', 'external']),
  person: z.string().min(1).optional(),
  department: z.string().min(1).optional(),
  // JSON may give the extension as a number: accept it as the extension it means.
  extension: z
    .union([z.string().min(1), z.number().int().nonnegative()])
    .transform(String)
    .optional(),
});
const MapSchema = z.record(z.string().min(1), EntrySchema);

/** Validates the parsed contents of a directory file (`path` names it in the error). */
export function directoryEntries(path: string, data: unknown): Record<string, DirectoryEntry> {
  const map =
    typeof data === 'object' && data !== null && !Array.isArray(data) && 'directory' in data
      ? (data as { directory: unknown }).directory
      : data;
  const parsed = MapSchema.safeParse(map);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    throw usageError(`--directory ${path}: ${where}: ${issue.message}`);
  }
  const entries: Record<string, DirectoryEntry> = {};
  for (const [key, value] of Object.entries(parsed.data)) {
    const entry: DirectoryEntry = { kind: value.kind };
    if (value.person !== undefined) entry.person = value.person;
    if (value.department !== undefined) entry.department = value.department;
    if (value.extension !== undefined) entry.extension = value.extension;
    entries[key] = entry;
  }
  return entries;
}

/**
 * Reads and checks a directory file. YAML is read with every scalar a string, so an unquoted
 * `+493012345678:` or `0123:` key keeps its `+` and leading zero.
 *
 * @throws CliError (exit 2) for an unreadable or bad file.
 */
export async function loadCdrDirectory(path: string): Promise<StaticDirectory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw usageError(
      `--directory ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? oneLine(err)}`,
      err,
    );
  }
  const json = extname(path).toLowerCase() === '.json';
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : parseYaml(text, { schema: 'failsafe' });
  } catch (err) {
    throw usageError(
      `--directory ${path}: not valid ${json ? 'JSON' : 'YAML'}: ${oneLine(err).split('. ')[0]}`,
      err,
    );
  }
  return new StaticDirectory(directoryEntries(path, data));
}
