/**
 * `xcc cdr listen --directory FILE` reloads FILE on SIGHUP, as an operator uses it: in-process through
 * `main(argv, io)` on a live ESL stream from a local test server, `io.reload()` playing `kill -HUP`.
 * Stories finished after a reload are enriched from the new entries; a bad file keeps the old ones;
 * listen goes on either way. Also: `FileDirectory.reload` on its own and `processIo`'s real SIGHUP.
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeaderMap } from '../src/cdr/index.js';
import type { CallStory } from '../src/cdr/story.js';
import { loadCdrDirectory } from '../src/cli/cdr-directory.js';
import { processIo } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { type FakeIo, fakeIo } from './support/cli-io.js';
import { answeredCallEvents } from './support/cdr-calls.js';
import { startFakeEsl } from './support/fake-esl.js';
import { until } from './support/poll.js';

const S = 1_000_000;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xcc-cdr-cli-reload-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The story id (caller leg uuid) of call `n`. */
const callId = (n: number): string => `aaaaaaaa-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Call `n`: +15551230000 (a customer) calls extension 1001, who answers; 60 s of talk, ending now. */
function callEvents(n: number): HeaderMap[] {
  return answeredCallEvents({
    a: callId(n),
    b: `bbbbbbbb-0000-4000-8000-${String(n).padStart(12, '0')}`,
    base: Date.now() * 1000 - 65 * S,
    core: 'core-reload',
    firstSequence: n * 100 + 1,
  });
}

const ANNA = "'1001': {kind: internal, person: Anna Schmidt, department: Support}";
const BEN = "'1001': {kind: internal, person: Ben Meyer, department: Sales}";
const ACME = '+15551230000: {kind: external, person: ACME Corp}';

/** A running `xcc cdr listen --esl …` (finalising 50 ms after a hang-up) and its fake switch. */
async function startListen(extra: string[]): Promise<{
  io: FakeIo;
  running: Promise<number>;
  call(n: number): Promise<CallStory>;
  end(): Promise<number>;
}> {
  const esl = await startFakeEsl({ password: 'ClueCon' });
  const io = fakeIo();
  const running = main(
    [
      'node',
      'xcc',
      'cdr',
      'listen',
      '--esl',
      esl.address,
      '--password',
      'ClueCon',
      '--finalize-after',
      '0.05',
      ...extra,
    ],
    io,
  );
  await until('listen connected', () => io.stderr.some((l) => l.includes('reading ESL events')));
  const storyOf = (n: number): CallStory | undefined =>
    io.stdout.map((l) => JSON.parse(l) as CallStory).find((s) => s.id === callId(n));
  return {
    io,
    running,
    call: async (n) => {
      esl.send(callEvents(n));
      await until(`the story of call ${n}`, () => storyOf(n) !== undefined);
      return storyOf(n)!;
    },
    end: async () => {
      io.stop$.abort();
      try {
        return await running;
      } finally {
        await esl.close();
      }
    },
  };
}

function extension(story: CallStory): CallStory['parties'][number] | undefined {
  return story.parties.find((p) => p.number === '1001');
}

describe('xcc cdr listen --directory: SIGHUP reloads the file', () => {
  it('an operator edits the directory and sends SIGHUP: stories finished afterwards name the new person and department', async () => {
    const file = join(dir, 'moved.yaml');
    await writeFile(file, [ANNA, ACME].join('\n'));
    const listen = await startListen(['--directory', file]);
    try {
      // Editing alone changes nothing: the listener reads the file when told to.
      await writeFile(file, [BEN, ACME, "'1002': {kind: internal, person: Anna Schmidt}"].join('\n'));
      expect(extension(await listen.call(1))).toMatchObject({
        person: 'Anna Schmidt',
        department: 'Support',
      });

      expect(listen.io.reload()).toBe(1);
      await until('the reload line', () =>
        listen.io.stderr.includes(`xcc cdr listen: directory ${file} reloaded: 3 entries`),
      );
      // Well within the cache's 5 minutes, yet the new entry: the reload dropped the cached answers.
      const after = await listen.call(2);
      expect(extension(after)).toMatchObject({ kind: 'internal', person: 'Ben Meyer', department: 'Sales' });
      expect(after.parties.find((p) => p.number === '+15551230000')).toMatchObject({ person: 'ACME Corp' });
    } finally {
      expect(await listen.end()).toBe(0);
    }
    expect(listen.io.stderr.at(-1)).toBe('xcc cdr listen: 2 stories');
    expect(listen.io.reload()).toBe(0); // the SIGHUP handler went with the command
  });

  it('an operator saves a broken directory and sends SIGHUP: one line, the old entries stay, listen goes on', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, [ANNA, ACME].join('\n'));
    const listen = await startListen(['--directory', file]);
    const failed = (): string[] =>
      listen.io.stderr.filter((l) => l.startsWith('xcc cdr listen: directory reload failed'));
    try {
      const broken: [string | null, RegExp][] = [
        [`${BEN}\n'1002': {kind: internal`, /: --directory .*broken\.yaml: not valid YAML/],
        ["'1001': {kind: colleague}", /: --directory .*broken\.yaml: 1001\.kind: /],
        ['', /: --directory .*broken\.yaml: \(top level\): /], // a half-saved (empty) file
        [null, /: --directory .*broken\.yaml: cannot read: ENOENT$/], // moved away
      ];
      for (const [i, [text, message]] of broken.entries()) {
        if (text === null) await unlink(file);
        else await writeFile(file, text);
        listen.io.reload();
        await until(`failure line ${i + 1}`, () => failed().length === i + 1);
        expect(failed()[i]).toMatch(
          /^xcc cdr listen: directory reload failed, keeping the old one: --directory /,
        );
        expect(failed()[i]).toMatch(message);
      }
      // Still listening, still enriching from the entries it had.
      expect(extension(await listen.call(3))).toMatchObject({
        person: 'Anna Schmidt',
        department: 'Support',
      });

      // Fixed and reloaded again: the new entries are in.
      await writeFile(file, [BEN, ACME].join('\n'));
      listen.io.reload();
      await until('the reload line', () =>
        listen.io.stderr.includes(`xcc cdr listen: directory ${file} reloaded: 2 entries`),
      );
      expect(extension(await listen.call(4))).toMatchObject({ person: 'Ben Meyer', department: 'Sales' });
    } finally {
      expect(await listen.end()).toBe(0);
    }
    expect(listen.io.stderr.at(-1)).toBe('xcc cdr listen: 2 stories');
  });

  it('an operator sends SIGHUP to a listener without --directory: nothing to reload, it keeps running', async () => {
    const listen = await startListen([]);
    try {
      expect(listen.io.reload()).toBe(1); // taken (so Node does not exit on it), and ignored
      expect(extension(await listen.call(5))?.person).toBeUndefined();
    } finally {
      expect(await listen.end()).toBe(0);
    }
    expect(listen.io.stderr.filter((l) => l.includes('directory'))).toEqual([]);
    expect(listen.io.reload()).toBe(0);
  });
});

describe('FileDirectory.reload', () => {
  it('an operator edits the directory: reload() swaps every entry at once and counts them', async () => {
    const file = join(dir, 'unit.json');
    await writeFile(file, JSON.stringify({ directory: { '1001': { kind: 'internal', person: 'Anna' } } }));
    const directory = await loadCdrDirectory(file);
    expect(directory.path).toBe(file);
    expect(directory.lookup('1001')?.person).toBe('Anna');
    const revision = directory.revision;

    await writeFile(
      file,
      JSON.stringify({
        '1001': { kind: 'internal', person: 'Ben', extension: 1001 },
        '1002': { kind: 'internal' },
      }),
    );
    expect(await directory.reload()).toBe(2);
    expect(directory.lookup('1001')).toEqual({ kind: 'internal', person: 'Ben', extension: '1001' });
    expect(directory.revision).not.toBe(revision);
  });

  it('an operator saves a bad directory: reload() throws the load error and keeps the old entries', async () => {
    const file = join(dir, 'unit-bad.yaml');
    await writeFile(file, "'1001': {kind: internal, person: Anna}");
    const directory = await loadCdrDirectory(file);
    const revision = directory.revision;
    await writeFile(file, "'1001': {kind: internal, email: a@b}");
    await expect(directory.reload()).rejects.toThrow(/^--directory .*unit-bad\.yaml: 1001: .*email/);
    expect(directory.lookup('1001')?.person).toBe('Anna');
    expect(directory.size).toBe(1);
    expect(directory.revision).toBe(revision); // nothing changed: caches keep their answers
  });
});

describe('processIo', () => {
  it('an operator sends a real SIGHUP: the reload handler runs, the process lives, and the handler is removed after', async () => {
    const before = process.listenerCount('SIGHUP');
    const { io, dispose } = processIo();
    let reloads = 0;
    const off = io.onReload?.(() => reloads++);
    try {
      expect(process.listenerCount('SIGHUP')).toBe(before + 1);
      // Real signal (this test is about the process): with a handler, Node does not exit on it.
      process.kill(process.pid, 'SIGHUP');
      await until('the reload handler', () => reloads === 1, 5_000);
    } finally {
      off?.();
      dispose();
    }
    expect(process.listenerCount('SIGHUP')).toBe(before);

    // dispose() also lets go of a handler its command forgot.
    const second = processIo();
    second.io.onReload?.(() => undefined);
    second.dispose();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});
