#!/usr/bin/env node
// Makes sure the `nats-server` binary the integration tests spawn is on PATH (run by `npm pretest`).
// Present → exit 0 quietly. Missing and we are root with apt-get → install the Debian package and
// verify. Otherwise print one line saying how to get it and exit 1.
// test/support/nats-server.ts repeats the lookup (it cannot import an .mjs with types) and the message.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const INSTRUCTION =
  "nats-server is required for the tests: run 'sudo apt-get install nats-server' (Debian) or put the nats-server binary on PATH";

// Debian installs nats-server in /usr/sbin, which ordinary users often lack on PATH.
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of the first executable `name` on PATH (then the sbin folders), or undefined. */
function which(name) {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...SBIN_DIRS]) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function main() {
  if (which('nats-server')) return 0;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && which('apt-get')) {
    // stdio goes to stderr so `npm test` output stays readable but the install is not silent.
    const opts = {
      stdio: ['ignore', process.stderr, process.stderr],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    };
    const update = spawnSync('apt-get', ['update'], opts);
    const install =
      update.status === 0 ? spawnSync('apt-get', ['install', '-y', 'nats-server'], opts) : update;
    if (install.status === 0 && which('nats-server')) return 0;
  }
  console.error(INSTRUCTION);
  return 1;
}

process.exitCode = main();
