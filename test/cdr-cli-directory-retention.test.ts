/**
 * `xcc cdr` enrichment and retention as a user runs them, in-process through `main(argv, io)`:
 * `--directory FILE` on replay and listen (a live ESL stream from a local test server), `xcc cdr prune
 * --older-than`, and `listen --retention` pruning a real SQLite store; a bad directory file or span is
 * one line and exit 2.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeaderMap } from '../src/cdr/index.js';
import { SqliteStore } from '../src/cdr/store/index.js';
import { makeStory } from '../src/cdr/store/test-support.js';
import type { CallStory } from '../src/cdr/story.js';
import { main } from '../src/cli/main.js';
import { fakeIo, xcc } from './support/cli-io.js';
import { answeredCallEvents } from './support/cdr-calls.js';
import { startFakeEsl } from './support/fake-esl.js';
import { until } from './support/poll.js';

const S = 1_000_000;
const DAY_US = 86_400 * S;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xcc-cdr-cli-dr-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const B = 'bbbbbbbb-0000-4000-8000-00000000000b';

/** +15551230000 (a customer) calls extension 1001 (Anna), who answers; 60 s of talk. */
function callEvents(base: number): HeaderMap[] {
  return answeredCallEvents({ a: A, b: B, base, core: 'core-dr' });
}

const DIRECTORY_YAML = [
  '# the shape scenario files use; unquoted + numbers keep their +',
  "'1001': {kind: internal, person: Anna Schmidt, department: Support}",
  '+15551230000: {kind: external, person: ACME Corp}',
].join('\n');

function party(story: CallStory, number: string): CallStory['parties'][number] | undefined {
  return story.parties.find((p) => p.number === number);
}

function expectEnriched(story: CallStory): void {
  expect(story.id).toBe(A);
  expect(party(story, '1001')).toMatchObject({
    kind: 'internal',
    person: 'Anna Schmidt',
    department: 'Support',
  });
  expect(party(story, '+15551230000')).toMatchObject({ kind: 'external', person: 'ACME Corp' });
}

describe('xcc cdr replay --directory', () => {
  it('enriches every party from a YAML directory file (and a JSON one under a directory key)', async () => {
    const events = join(dir, 'call.ndjson');
    await writeFile(
      events,
      callEvents(Date.UTC(2026, 0, 1) * 1000)
        .map((h) => JSON.stringify(h))
        .join('\n'),
    );
    const plain = await xcc('cdr', 'replay', events);
    expect(party((JSON.parse(plain.stdout.join('\n')) as CallStory[])[0]!, '1001')?.person).toBeUndefined();

    const yaml = join(dir, 'directory.yaml');
    await writeFile(yaml, DIRECTORY_YAML);
    const r = await xcc('cdr', 'replay', events, '--directory', yaml);
    expect(r.code).toBe(0);
    expectEnriched((JSON.parse(r.stdout.join('\n')) as CallStory[])[0]!);

    const json = join(dir, 'directory.json');
    await writeFile(
      json,
      JSON.stringify({
        directory: {
          '1001': { kind: 'internal', person: 'Anna Schmidt', department: 'Support' },
          '+15551230000': { kind: 'external', person: 'ACME Corp' },
        },
      }),
    );
    const j = await xcc('cdr', 'replay', events, '--directory', json);
    expect(j.code).toBe(0);
    expectEnriched((JSON.parse(j.stdout.join('\n')) as CallStory[])[0]!);
  });

  it.each([
    ['bad-kind.yaml', "'1001': {kind: colleague}", /--directory .*bad-kind\.yaml: 1001\.kind: /],
    ['extra.yaml', "'1001': {kind: internal, email: a@b}", /--directory .*extra\.yaml: 1001: .*email/],
    ['list.yaml', '- 1001\n- 1002', /--directory .*list\.yaml: \(top level\): /],
    ['broken.yaml', "'1001': {kind: internal", /--directory .*broken\.yaml: not valid YAML/],
    ['broken.json', '{"1001": ', /--directory .*broken\.json: not valid JSON/],
  ])('a bad directory file %s: one line, exit 2', async (name, text, message) => {
    const file = join(dir, name);
    await writeFile(file, text);
    const r = await xcc('cdr', 'replay', join(dir, 'call.ndjson'), '--directory', file);
    expect(r.code).toBe(2);
    expect(r.stdout).toEqual([]);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(message);
  });

  it('a missing directory file: one line, exit 2', async () => {
    const r = await xcc('cdr', 'replay', join(dir, 'call.ndjson'), '--directory', join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/--directory .*nope\.yaml: cannot read: ENOENT/);
  });
});

/** Saves stories that started 200, 100, 80 and 1 day(s) ago; returns the file. */
async function agedDb(name: string): Promise<string> {
  const file = join(dir, name);
  const store = SqliteStore.open({ file });
  const now = Date.now() * 1000;
  for (const days of [200, 100, 80, 1]) {
    await store.save(
      makeStory({ id: `d${days}`, startedAt: now - days * DAY_US, endedAt: now - days * DAY_US + 60 * S }),
    );
  }
  await store.close();
  return file;
}

async function storedIds(file: string): Promise<string[]> {
  const store = SqliteStore.open({ file, readonly: true });
  const ids = (await store.list()).map((s) => s.id);
  await store.close();
  return ids;
}

describe('xcc cdr prune', () => {
  it('--older-than 90d deletes the stories that started more than 90 days ago; --dry-run only counts', async () => {
    const file = await agedDb('prune.db');
    const dry = await xcc('cdr', 'prune', '--older-than', '90d', '--db', `sqlite:${file}`, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stderr).toEqual([
      expect.stringMatching(/^xcc cdr prune: 2 stories started before \S+Z would be deleted from sqlite:/),
    ]);
    expect(await storedIds(file)).toEqual(['d1', 'd80', 'd100', 'd200']);

    const r = await xcc('cdr', 'prune', '--older-than', '90d', '--db', `sqlite:${file}`);
    expect(r.code).toBe(0);
    expect(r.stderr).toEqual([
      expect.stringMatching(/^xcc cdr prune: 2 stories started before \S+Z deleted from sqlite:/),
    ]);
    expect(await storedIds(file)).toEqual(['d1', 'd80']);
    const again = await xcc('cdr', 'prune', '--older-than', '12w', '--db', `sqlite:${file}`);
    expect(again.stderr[0]).toMatch(/: 0 stories started before/);
    expect(await storedIds(file)).toEqual(['d1', 'd80']);
  });

  it.each([
    [['cdr', 'prune', '--db', 'sqlite::memory:'], /required option '--older-than <span>'/],
    [['cdr', 'prune', '--older-than', '90', '--db', 'sqlite::memory:'], /--older-than.*90d/],
    [['cdr', 'prune', '--older-than', '0d', '--db', 'sqlite::memory:'], /--older-than.*more than 0/],
    [['cdr', 'prune', '--older-than', '90d', '--db', 'mysql://x'], /--db/],
  ])('%j: one line, exit 2', async (args, message) => {
    const r = await xcc(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(message);
  });
});

describe('xcc cdr listen --directory --retention', () => {
  it('enriches live stories and prunes the store at start; Ctrl-C ends with exit 0', async () => {
    const esl = await startFakeEsl({ password: 'ClueCon', events: callEvents(Date.now() * 1000) });
    const yaml = join(dir, 'listen-directory.yaml');
    await writeFile(yaml, DIRECTORY_YAML);
    const file = await agedDb('listen-retention.db');
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
        '--db',
        `sqlite:${file}`,
        '--directory',
        yaml,
        '--retention',
        '90d',
      ],
      io,
    );
    try {
      await until('a story on stdout', () => io.stdout.length > 0);
      expectEnriched(JSON.parse(io.stdout[0]!) as CallStory);
      await until('the start-up prune', () =>
        io.stderr.some((l) => l.includes('retention: 2 stories deleted')),
      );
    } finally {
      io.stop$.abort();
    }
    expect(await running).toBe(0);
    expect(io.stderr.at(-1)).toBe('xcc cdr listen: 1 stories, 1 saved, 2 pruned');
    expect(await storedIds(file)).toEqual([A, 'd1', 'd80']);
    await esl.close();
  });

  it('--retention without a store is a usage error (one line, exit 2)', async () => {
    const r = await xcc('cdr', 'listen', '--esl', '127.0.0.1:1', '--password', 'x', '--retention', '90d');
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([expect.stringMatching(/--retention needs a store: give --db/)]);
  });

  it('a bad --directory file stops listen before it connects (one line, exit 2)', async () => {
    const file = join(dir, 'listen-bad.yaml');
    await writeFile(file, "'1001': {kind: maybe}");
    const r = await xcc('cdr', 'listen', '--esl', '127.0.0.1:1', '--password', 'x', '--directory', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([expect.stringMatching(/--directory .*listen-bad\.yaml: 1001\.kind: /)]);
  });
});
