/**
 * `xcc cdr listen|replay --directory FILE`: the enrichment directory of the story engine from a YAML or
 * JSON file — number/extension/login → `{kind, person?, department?, extension?}`, the shape scenario
 * files use — at the top level or under a `directory` key. A bad file is one line naming the entry
 * and exit 2. `listen` rereads it on SIGHUP (`FileDirectory.reload`); a bad file then keeps the old
 * entries.
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
 * A directory read from a file that can be read again: `reload()` swaps in the new entries at once
 * (`StaticDirectory.replace`, which also tells the engine's cache), or keeps the old ones when the file
 * is unreadable or bad.
 *
 * @example
 * const dir = await loadCdrDirectory('directory.yaml');
 * // … an operator edits the file and sends SIGHUP:
 * const entries = await dir.reload(); // a bad file throws and the old entries stay
 */
export class FileDirectory extends StaticDirectory {
  /** The file, as given to `--directory`. */
  readonly path: string;
  #reloading: Promise<unknown> = Promise.resolve();

  constructor(path: string, entries: Record<string, DirectoryEntry>) {
    super(entries);
    this.path = path;
  }

  /**
   * Reads the file again; resolves to the number of entries now in use. A call made while another
   * runs waits for it, so the last request always reads the file last.
   *
   * @throws CliError with the one-line message of {@link loadCdrDirectory}; the old entries stay.
   */
  reload(): Promise<number> {
    const next = this.#reloading.then(async () => {
      this.replace(await readCdrDirectoryFile(this.path));
      return this.size;
    });
    // The queue only orders reloads; the caller gets (and handles) this one's failure.
    this.#reloading = next.catch(() => undefined);
    return next;
  }
}

/**
 * Reads and checks a directory file. YAML is read with every scalar a string, so an unquoted
 * `+493012345678:` or `0123:` key keeps its `+` and leading zero.
 *
 * @throws CliError (exit 2) for an unreadable or bad file.
 */
export async function loadCdrDirectory(path: string): Promise<FileDirectory> {
  return new FileDirectory(path, await readCdrDirectoryFile(path));
}

/** The checked entries of a directory file; throws the one-line `CliError` of {@link loadCdrDirectory}. */
async function readCdrDirectoryFile(path: string): Promise<Record<string, DirectoryEntry>> {
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
  return directoryEntries(path, data);
}
