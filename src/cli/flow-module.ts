/**
 * Loading a call-flow module for `xcc ctrl <flow-module>`. The contract (docs/cli.md):
 *
 * ```ts
 * import type { Call } from 'openxcc/ctrl';
 * export default async function flow(call: Call, ctx: FlowContext): Promise<void> { … }
 * ```
 *
 * The controller has already accepted the call (it owns it) when the flow starts; the flow runs under
 * `call.signal` (aborted when the caller hangs up, the node is lost, or the controller closes), and a
 * flow that throws gets its call hung up by the controller. `.ts` modules are loaded through tsx when it
 * is installed; otherwise point `xcc ctrl` at the compiled `.js`.
 */
import { access } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Call, Controller } from '../ctrl/index.js';
import type { Logger } from '../protocol/index.js';
import { usageError } from './errors.js';

/** The second argument every flow receives. */
export interface FlowContext {
  /** The controller running the flow (dial more legs, look at nodes…). */
  readonly controller: Controller;
  /** The CLI's logger (pino). */
  readonly logger: Logger;
  /** `--set key=value` pairs from the command line, e.g. `{ agent: 'user/1000' }`. */
  readonly options: Readonly<Record<string, string>>;
}

/** The default export of a flow module. */
export type FlowFunction = (call: Call, ctx: FlowContext) => Promise<void>;

/** Imports `path` (relative to the current directory) and returns its default-exported flow function. */
export async function loadFlowModule(path: string): Promise<FlowFunction> {
  const file = resolve(path);
  try {
    await access(file);
  } catch {
    throw usageError(`flow module ${path} not found`);
  }
  const url = pathToFileURL(file).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if (!isTypeScript(file) || (err as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw usageError(`cannot load flow module ${path}: ${firstLine(err)}`, err);
    }
    mod = await importWithTsx(url, path);
  }
  const flow = mod.default;
  if (typeof flow !== 'function') {
    throw usageError(`${path} has no default export of the form (call, ctx) => Promise<void>`);
  }
  return flow as FlowFunction;
}

/** Plain `node` cannot import TypeScript; tsx (a dev dependency) can, if it is installed. */
async function importWithTsx(url: string, path: string): Promise<Record<string, unknown>> {
  let tsImport: (specifier: string, parent: string) => Promise<unknown>;
  try {
    ({ tsImport } = await import('tsx/esm/api'));
  } catch {
    throw usageError(`${path} is TypeScript: build it (npm run build) and pass the .js, or install tsx`);
  }
  try {
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  } catch (err) {
    throw usageError(`cannot load flow module ${path}: ${firstLine(err)}`, err);
  }
}

function isTypeScript(file: string): boolean {
  return ['.ts', '.mts', '.cts'].includes(extname(file));
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
