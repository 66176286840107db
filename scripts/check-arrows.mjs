#!/usr/bin/env node
// Keeps the module arrows of DESIGN.md true. Reads every .ts under src/<module>/, finds imports that
// reach another module folder (or leave src/), and the imports of NATS and raw sockets, and exits 1
// listing `file:line  from → to` for each one the table does not allow.
//
//   node scripts/check-arrows.mjs              check ./src
//   node scripts/check-arrows.mjs --root DIR   check DIR/src
//   node scripts/check-arrows.mjs --self-test  prove on a temporary tree that violations are caught
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** DESIGN.md "Module map": who may import whom. `cli` wires everything together. */
export const ALLOWED = {
  protocol: [],
  clock: [],
  bus: ['protocol'],
  rpc: ['protocol', 'bus', 'clock'],
  node: ['protocol', 'bus', 'rpc', 'clock'],
  ctrl: ['protocol', 'bus', 'rpc', 'clock'],
  flow: ['ctrl', 'clock'],
  graph: ['clock'],
  cdr: ['protocol', 'clock'],
  console: ['ctrl', 'cdr'],
  cli: '*',
};

/** Package imports only some modules may use: the NATS client and raw sockets stay at the edges. */
export const RESTRICTED_PACKAGES = [
  { test: (spec) => spec.startsWith('@nats-io/'), label: '@nats-io/*', modules: ['bus', 'cli'] },
  {
    test: (spec) => ['node:net', 'net', 'node:dgram', 'dgram'].includes(spec),
    label: 'node:net/node:dgram',
    modules: ['bus', 'cli'],
  },
];

/**
 * Replaces comments with spaces (keeping newlines, so offsets and line numbers stay right) so that
 * `from '...'` inside a comment is not taken for an import. Strings are kept as they are.
 */
export function stripComments(src) {
  let out = '';
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      while (i < n && src[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      for (; i < stop; i++) out += src[i] === '\n' ? '\n' : ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      // copy the string through its closing quote, honouring escapes
      out += c;
      i++;
      while (i < n && src[i] !== c) {
        if (src[i] === '\\' && i + 1 < n) {
          out += src[i] + src[i + 1];
          i += 2;
          continue;
        }
        if (c !== '`' && src[i] === '\n') break; // unterminated: give up on this string
        out += src[i];
        i++;
      }
      if (i < n) {
        out += src[i];
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const IMPORT_RE =
  /\bfrom\s*(['"])([^'"\n]+)\1|\bimport\s*\(\s*(['"])([^'"\n]+)\3\s*\)|(?:^|[;\n])\s*import\s*(['"])([^'"\n]+)\5|\brequire\s*\(\s*(['"])([^'"\n]+)\7\s*\)/g;

/** Every import specifier in `src` with its 1-based line. */
export function findImports(src) {
  const code = stripComments(src);
  const found = [];
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[2] ?? m[4] ?? m[6] ?? m[8];
    const at = m.index + m[0].indexOf(spec);
    const line = code.slice(0, at).split('\n').length;
    found.push({ spec, line });
  }
  return found;
}

function listTs(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listTs(path));
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

/** Checks `<root>/src`; returns the violations as `file:line  message` strings (paths relative to root). */
export function checkTree(root) {
  const srcDir = resolve(root, 'src');
  const problems = [];
  for (const mod of readdirSync(srcDir, { withFileTypes: true })) {
    if (!mod.isDirectory()) continue;
    const from = mod.name;
    const allowed = ALLOWED[from];
    for (const file of listTs(join(srcDir, from))) {
      const rel = relative(root, file);
      if (allowed === undefined) {
        problems.push(`${rel}:1  module '${from}' is not in DESIGN.md's module map`);
        continue;
      }
      const isTest = file.endsWith('.test.ts');
      for (const { spec, line } of findImports(readFileSync(file, 'utf8'))) {
        const where = `${rel}:${line}`;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          const inSrc = relative(srcDir, target);
          if (inSrc.startsWith('..') || inSrc === '') {
            // leaving src/ is only for tests (test/support) and for cli, which wires in examples/
            if (!isTest && allowed !== '*')
              problems.push(`${where}  ${from} → ${relative(root, target)} (outside src/)`);
            continue;
          }
          const to = inSrc.split(sep)[0];
          if (to === from || !inSrc.includes(sep)) continue;
          if (allowed !== '*' && !allowed.includes(to)) {
            problems.push(
              `${where}  ${from} → ${to} (allowed: ${allowed.length ? allowed.join(', ') : 'nothing'})`,
            );
          }
          continue;
        }
        for (const rule of RESTRICTED_PACKAGES) {
          if (rule.test(spec) && !rule.modules.includes(from)) {
            problems.push(
              `${where}  ${from} → ${spec} (${rule.label} only in src/${rule.modules.join(', src/')})`,
            );
          }
        }
      }
    }
  }
  return problems;
}

function selfTest() {
  const root = mkdtempSync(join(tmpdir(), 'check-arrows-'));
  const put = (path, text) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  try {
    put(
      'src/protocol/codes.ts',
      "export const x = 1;\n// import { y } from '../bus/bus.js'; (a comment, not an import)\n",
    );
    put(
      'src/bus/bus.ts',
      "import { x } from '../protocol/codes.js';\nimport { connect } from '@nats-io/transport-node';\n",
    );
    put(
      'src/ctrl/call.ts',
      "import type { Bus } from '../bus/bus.js';\n\nimport {\n  Node,\n} from '../node/index.js';\n",
    );
    put(
      'src/flow/run.ts',
      "import { createSocket } from 'node:dgram';\nconst m = await import('../rpc/x.js');\n",
    );
    put('src/rpc/session.ts', "export * from '@nats-io/nats-core';\nimport '../../test/support/x.js';\n");
    put(
      'src/rpc/session.test.ts',
      "import { h } from '../../test/support/x.js';\nimport { n } from '../node/a.js';\n",
    );
    put(
      'src/cli/main.ts',
      "import { NatsBus } from '../bus/nats-bus.js';\nimport { createServer } from 'node:net';\nimport '../node/index.js';\nimport { ivr } from '../../examples/ivr.js';\n",
    );
    put('src/weird/x.ts', 'export {};\n');
    const got = checkTree(root).sort();
    const expected = [
      'src/ctrl/call.ts:5  ctrl → node (allowed: protocol, bus, rpc, clock)',
      'src/flow/run.ts:1  flow → node:dgram (node:net/node:dgram only in src/bus, src/cli)',
      'src/flow/run.ts:2  flow → rpc (allowed: ctrl, clock)',
      'src/rpc/session.test.ts:2  rpc → node (allowed: protocol, bus, clock)',
      'src/rpc/session.ts:1  rpc → @nats-io/nats-core (@nats-io/* only in src/bus, src/cli)',
      `src/rpc/session.ts:2  rpc → ${join('test', 'support', 'x.js')} (outside src/)`,
      "src/weird/x.ts:1  module 'weird' is not in DESIGN.md's module map",
    ].sort();
    const same = got.length === expected.length && got.every((g, i) => g === expected[i]);
    if (!same) {
      console.error(
        'check-arrows self-test FAILED\nexpected:\n  ' +
          expected.join('\n  ') +
          '\ngot:\n  ' +
          got.join('\n  '),
      );
      return 1;
    }
    console.log(`check-arrows self-test passed (${expected.length} violations caught, clean files passed)`);
    return 0;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function main(argv) {
  if (argv.includes('--self-test')) return selfTest();
  const at = argv.indexOf('--root');
  const root = at === -1 ? process.cwd() : resolve(argv[at + 1] ?? '.');
  const problems = checkTree(root);
  if (problems.length === 0) return 0;
  console.error(`check-arrows: ${problems.length} import(s) break the module arrows of DESIGN.md:`);
  for (const p of problems) console.error(`  ${p}`);
  return 1;
}

// Run only as a script, so tests can import the functions.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
