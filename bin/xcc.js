#!/usr/bin/env node
// The installed `xcc` command: runs the compiled CLI (npm run build puts it in dist/).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// tsconfig.build.json keeps the source layout (rootDir "."), so the CLI lands in dist/src/cli.
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('xcc: the CLI is not built: run `npm run build` first\n');
  process.exit(2);
}
const { runCli } = await import(pathToFileURL(entry).href);
await runCli();
