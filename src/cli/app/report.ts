/**
 * The `report` addon: one JSON line per ended call (the router's `call_end` event), appended to a file
 * (`property.path`, relative to the app file) or written to stdout (`"-"` or no path). Lines are written
 * in order; `onStop` waits for the last write, so a report stopped last loses nothing.
 */
import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import type {
  Addon,
  CmdReply,
  Extension,
  ExtensionEnv,
  IncomingCmd,
  IncomingData,
} from '../../graph/index.js';
import type { Logger } from '../../protocol/index.js';
import { silentLogger } from '../../protocol/index.js';
import { hasUuid } from './call-record.js';
import type { AppDeps } from './deps.js';
import { parseProperty } from './property.js';

export const ReportProperty = z.strictObject({
  /** File to append JSON lines to, relative to the app file; `"-"` (default) is stdout. */
  path: z.string().min(1).default('-'),
  ten: z.unknown().optional(),
});

export class ReportExtension implements Extension {
  readonly #file: string | undefined;
  readonly #out: (line: string) => void;
  readonly #logger: Logger;
  /** The write chain: each line is appended after the previous one (never rejects). */
  #writing: Promise<void> = Promise.resolve();
  #written = 0;
  #failed = 0;

  constructor(file: string | undefined, out: (line: string) => void, logger: Logger) {
    this.#file = file;
    this.#out = out;
    this.#logger = logger;
  }

  onData(msg: IncomingData): void {
    if (msg.kind !== 'event' || msg.name !== 'call_end' || !hasUuid(msg.payload)) return;
    this.#write(JSON.stringify(msg.payload));
  }

  onCmd(cmd: IncomingCmd): CmdReply | undefined {
    if (cmd.name !== 'report') return { status: 'error', message: `report does not handle "${cmd.name}"` };
    return { detail: { written: this.#written, failed: this.#failed, path: this.#file ?? '-' } };
  }

  async onStop(_env: ExtensionEnv): Promise<void> {
    await this.#writing;
  }

  #write(line: string): void {
    const file = this.#file;
    if (file === undefined) {
      this.#out(line);
      this.#written++;
      return;
    }
    this.#writing = this.#writing.then(
      () =>
        appendFile(file, `${line}\n`).then(
          () => {
            this.#written++;
          },
          (err: unknown) => {
            // A full disk must not take calls down: count it, log it, keep going.
            this.#failed++;
            this.#logger.error({ err, path: file }, 'report: cannot append a call record');
          },
        ),
      () => undefined,
    );
  }
}

/** Builds the `report` addon; `path` is resolved against `deps.baseDir`. */
export function reportAddon(deps: Pick<AppDeps, 'out' | 'baseDir' | 'logger'>): Addon {
  return {
    create: ({ name, property }) => {
      const p = parseProperty(ReportProperty, name, property);
      const file = p.path === '-' ? undefined : resolve(deps.baseDir, p.path);
      return new ReportExtension(file, deps.out, deps.logger ?? silentLogger);
    },
  };
}
