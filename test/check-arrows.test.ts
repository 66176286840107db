// scripts/check-arrows.mjs keeps the module arrows of DESIGN.md: it must catch a forbidden import
// (listing file:line and the arrow) and pass a tree that follows the table.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/check-arrows.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

let root: string | undefined;
function tree(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'arrows-test-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

describe('check-arrows', () => {
  it('passes its own self-test', () => {
    const res = run('--self-test');
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('fails with file:line and the forbidden arrow when ctrl imports node', () => {
    const dir = tree({
      'src/node/index.ts': 'export const node = 1;\n',
      'src/ctrl/call.ts': "// header\nimport { node } from '../node/index.js';\nexport const n = node;\n",
    });
    const res = run('--root', dir);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('src/ctrl/call.ts:2  ctrl → node');
  });

  it('fails when a module outside bus and cli imports the NATS client or raw sockets', () => {
    const dir = tree({
      'src/rpc/a.ts': "import { connect } from '@nats-io/transport-node';\n",
      'src/node/b.ts': "import { createSocket } from 'node:dgram';\n",
    });
    const res = run('--root', dir);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('src/rpc/a.ts:1  rpc → @nats-io/transport-node');
    expect(res.stderr).toContain('src/node/b.ts:1  node → node:dgram');
  });

  it('passes a tree that follows the table', () => {
    const dir = tree({
      'src/protocol/codes.ts': 'export const ok = 200;\n',
      'src/bus/nats-bus.ts':
        "import { ok } from '../protocol/codes.js';\nimport '@nats-io/transport-node';\n",
      'src/cli/main.ts': "import '../bus/nats-bus.js';\nimport 'node:net';\n",
      'src/bus/nats-bus.test.ts': "import '../../test/support/nats-server.js';\n",
    });
    const res = run('--root', dir);
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});
