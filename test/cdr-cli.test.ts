/**
 * `xcc cdr` as a user runs it, in-process through `main(argv, io)`: list/show against real SQLite files
 * (and PostgreSQL through the same address syntax), replay of event files, live listening on ESL (a
 * local test server speaking the ESL protocol) and on NATS, and one clear line with exit 2 for every
 * bad flag.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/bus/index.js';
import { encodeEventPlainFrame, type HeaderMap } from '../src/cdr/index.js';
import { decodeStory, SqliteStore } from '../src/cdr/store/index.js';
import { makeStory, T0 } from '../src/cdr/store/test-support.js';
import type { CallStory } from '../src/cdr/story.js';
import { main } from '../src/cli/main.js';
import { startNatsServer } from './support/nats-server.js';
import { fakeIo, xcc } from './support/cli-io.js';
import { startFakeEsl } from './support/fake-esl.js';
import { until } from './support/poll.js';

const S = 1_000_000;

let dir: string;
let db: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xcc-cdr-cli-'));
  db = `sqlite:${join(dir, 'stories.db')}`;
  const store = SqliteStore.open({ file: join(dir, 'stories.db') });
  for (let i = 0; i < 5; i++) {
    await store.save(
      makeStory({
        id: `story-${i}`,
        startedAt: T0 + i * 3600 * S,
        endedAt: T0 + i * 3600 * S + 60 * S,
        disposition: i === 3 ? 'abandoned' : 'answered',
        from: i === 2 ? 'tel:+15550002222' : 'tel:+15551230000',
        parties:
          i === 2
            ? [{ id: 'tel:+15550002222', role: 'caller', number: '+15550002222', kind: 'external' }]
            : makeStory({ id: 'x' }).parties,
      }),
    );
  }
  await store.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('xcc cdr list', () => {
  it('prints one summary line per story, newest first, and a count on stderr', async () => {
    const r = await xcc('cdr', 'list', '--db', db);
    expect(r.code).toBe(0);
    expect(r.stdout).toHaveLength(5);
    expect(r.stdout[0]).toBe(
      '2026-01-01 04:00:00  story-4  +15551230000 → 1000  answered  60.0s talk 50.0s  queue_wait>agent_talk',
    );
    expect(r.stdout.map((l) => l.split('  ')[1])).toEqual([
      'story-4',
      'story-3',
      'story-2',
      'story-1',
      'story-0',
    ]);
    expect(r.stderr).toEqual(['xcc cdr list: 1–5 of 5']);
  });

  it('filters by number, disposition and time, and pages', async () => {
    const ids = (r: { stdout: string[] }): string[] => r.stdout.map((l) => l.split('  ')[1]!);
    expect(ids(await xcc('cdr', 'list', '--db', db, '--number', '+15550002222'))).toEqual(['story-2']);
    expect(ids(await xcc('cdr', 'list', '--db', db, '--disposition', 'abandoned,busy'))).toEqual(['story-3']);
    expect(
      ids(
        await xcc('cdr', 'list', '--db', db, '--from', '2026-01-01T01:00Z', '--to', '2026-01-01T03:00:00Z'),
      ),
    ).toEqual(['story-2', 'story-1']);
    const page = await xcc('cdr', 'list', '--db', db, '--limit', '2', '--offset', '1');
    expect(ids(page)).toEqual(['story-3', 'story-2']);
    expect(page.stderr).toEqual(['xcc cdr list: 2–3 of 5']);
    const none = await xcc('cdr', 'list', '--db', db, '--number', '999');
    expect(none.code).toBe(0);
    expect(none.stdout).toEqual([]);
    expect(none.stderr).toEqual(['xcc cdr list: no stories match (0 in all with these filters)']);
  });

  it('--json prints whole stories, one per line', async () => {
    const r = await xcc('cdr', 'list', '--db', db, '--json', '--limit', '1');
    const story = JSON.parse(r.stdout[0]!) as CallStory;
    expect(story).toEqual(
      makeStory({ id: 'story-4', startedAt: T0 + 4 * 3600 * S, endedAt: T0 + 4 * 3600 * S + 60 * S }),
    );
  });

  it('takes the store from XCC_CDR_DB', async () => {
    // commander reads option environment variables from process.env.
    process.env.XCC_CDR_DB = db;
    try {
      const r = await xcc('cdr', 'list', '--limit', '1');
      expect(r.code).toBe(0);
      expect(r.stdout).toHaveLength(1);
    } finally {
      delete process.env.XCC_CDR_DB;
    }
  });

  it.each([
    [['--db', 'mysql://h/db'], /--db.*unknown store.*sqlite:FILE/],
    [['--db', 'sqlite:'], /--db.*needs a file name/],
    [['--from', 'yesterday'], /--from.*ISO date/],
    [['--limit', '0'], /--limit.*positive integer/],
    [['--offset', '-1'], /--offset/],
    [['--disposition', 'Answered'], /--disposition/],
    [['--from', '2026-02-01', '--to', '2026-01-01'], /--from is after --to/],
    [['--bogus'], /unknown option '--bogus'/],
  ])('bad flags %j: one line, exit 2', async (flags, message) => {
    const r = await xcc('cdr', 'list', '--db', db, ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(message);
    expect(r.stdout).toEqual([]);
  });

  it('a missing SQLite file is exit 2 with a hint, and is not created', async () => {
    const missing = `sqlite:${join(dir, 'missing.db')}`;
    const r = await xcc('cdr', 'list', '--db', missing);
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(
      /^xcc: --db sqlite:.*missing\.db: cannot open SQLite database .*no stories yet/,
    );
    const again = await xcc('cdr', 'list', '--db', missing);
    expect(again.code).toBe(2);
  });

  it('an unreachable PostgreSQL is exit 2 in one line, password hidden', async () => {
    const r = await xcc('cdr', 'list', '--db', 'postgres://postgres:hunter2@127.0.0.1:1/test');
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/^xcc: --db postgres:.*127\.0\.0\.1:1/);
    expect(r.stderr[0]).not.toContain('hunter2');
  });
});

describe('xcc cdr show', () => {
  it('prints the story as JSON', async () => {
    const r = await xcc('cdr', 'show', 'story-2', '--db', db);
    expect(r.code).toBe(0);
    const story = JSON.parse(r.stdout.join('\n')) as CallStory;
    expect(story.id).toBe('story-2');
    expect(story.from).toBe('tel:+15550002222');
  });

  it('an unknown id is exit 1 in one line', async () => {
    const r = await xcc('cdr', 'show', 'nope', '--db', db);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([`xcc: no story nope in ${db}`]);
  });

  it('needs an id', async () => {
    const r = await xcc('cdr', 'show', '--db', db);
    expect(r.code).toBe(2);
    expect(r.stderr[0]).toMatch(/missing required argument 'id'/);
  });
});

// ---- replay and listen: real engine, real files and sockets --------------------------------------

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

/** One inbound call: +15551230000 dials 1000, bridged to extension 1001, 60 s of talk. */
function callEvents(base = T0): HeaderMap[] {
  const at = (s: number, seq: number, name: string, uuid: string, extra: HeaderMap): HeaderMap => ({
    'Event-Name': name,
    'Core-UUID': 'core-1',
    'Event-Sequence': String(seq),
    'Event-Date-Timestamp': String(base + s * S),
    'Unique-ID': uuid,
    ...extra,
  });
  const a = {
    'Call-Direction': 'inbound',
    'Caller-Caller-ID-Number': '+15551230000',
    'Caller-Destination-Number': '1000',
  };
  const b = {
    'Call-Direction': 'outbound',
    'Caller-Caller-ID-Number': '+15551230000',
    'Caller-Destination-Number': '1001',
    'Other-Leg-Unique-ID': A,
    'Channel-Call-UUID': A,
  };
  const bridge = { 'Bridge-A-Unique-ID': A, 'Bridge-B-Unique-ID': B, 'Other-Leg-Unique-ID': B };
  return [
    at(0, 1, 'CHANNEL_CREATE', A, a),
    at(1, 2, 'CHANNEL_ANSWER', A, a),
    at(2, 3, 'CHANNEL_CREATE', B, b),
    at(5, 4, 'CHANNEL_ANSWER', B, b),
    at(5, 5, 'CHANNEL_BRIDGE', A, { ...a, ...bridge }),
    at(65, 6, 'CHANNEL_UNBRIDGE', A, { ...a, ...bridge }),
    at(65, 7, 'CHANNEL_HANGUP_COMPLETE', B, { ...b, 'Hangup-Cause': 'NORMAL_CLEARING' }),
    at(66, 8, 'CHANNEL_HANGUP_COMPLETE', A, { ...a, 'Hangup-Cause': 'NORMAL_CLEARING' }),
  ];
}

/** What every path (replay, ESL, NATS→ESL shape) must make of {@link callEvents}. */
function expectTheCall(story: CallStory): void {
  expect(story.id).toBe(A);
  expect(story.from).toBe('tel:+15551230000');
  expect(story.to).toBe('tel:1000');
  expect(story.disposition).toBe('answered');
  expect(story.talkS).toBe(60);
  expect(story.parties.map((p) => p.number)).toContain('1001');
}

describe('xcc cdr replay', () => {
  it('prints the stories of an ESL plain capture as a JSON array (format from the extension)', async () => {
    const file = join(dir, 'call.esl');
    await writeFile(
      file,
      callEvents()
        .map((h) => encodeEventPlainFrame(h))
        .join(''),
    );
    const r = await xcc('cdr', 'replay', file);
    expect(r.code).toBe(0);
    const stories = JSON.parse(r.stdout.join('\n')) as CallStory[];
    expect(stories).toHaveLength(1);
    expectTheCall(stories[0]!);
    expect(r.stderr).toEqual(['xcc cdr replay: 8 events → 1 stories']);
  });

  it('reads NDJSON and YAML with --format, prints --ndjson, and saves with --db', async () => {
    const nd = join(dir, 'call.txt');
    await writeFile(
      nd,
      callEvents()
        .map((h) => JSON.stringify(h))
        .join('\n'),
    );
    const replayDb = `sqlite:${join(dir, 'replay.db')}`;
    const r = await xcc('cdr', 'replay', nd, '--format', 'ndjson', '--ndjson', '--db', replayDb);
    expect(r.code).toBe(0);
    expect(r.stdout).toHaveLength(1);
    expectTheCall(JSON.parse(r.stdout[0]!) as CallStory);
    expect(r.stderr[0]).toMatch(/1 saved in sqlite:.*replay\.db$/);
    const shown = await xcc('cdr', 'show', A, '--db', replayDb);
    expect(shown.code).toBe(0);
    expectTheCall(JSON.parse(shown.stdout.join('\n')) as CallStory);
    // Replaying again is idempotent: still one story.
    await xcc('cdr', 'replay', nd, '--format', 'ndjson', '--db', replayDb);
    expect((await xcc('cdr', 'list', '--db', replayDb)).stdout).toHaveLength(1);

    const yaml = join(dir, 'call.yaml');
    const { stringify } = await import('yaml');
    await writeFile(yaml, stringify(callEvents()));
    const y = await xcc('cdr', 'replay', yaml);
    expectTheCall((JSON.parse(y.stdout.join('\n')) as CallStory[])[0]!);
  });

  it('a bad entry fails with exit 2 naming it, unless --skip-bad', async () => {
    const file = join(dir, 'bad.ndjson');
    await writeFile(
      file,
      [...callEvents().map((h) => JSON.stringify(h)), '{"no":"event name"}', '{oops'].join('\n'),
    );
    const r = await xcc('cdr', 'replay', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/^xcc: .*bad\.ndjson: .*line 9.*--skip-bad/);
    const skipped = await xcc('cdr', 'replay', file, '--skip-bad');
    expect(skipped.code).toBe(0);
    expect(skipped.stderr.filter((l) => l.includes('skipped:'))).toHaveLength(2);
    expect(skipped.stderr.at(-1)).toBe('xcc cdr replay: 8 events → 1 stories, 2 entries skipped');
  });

  it.each([
    [['cdr', 'replay', '/nonexistent/calls.esl'], /cannot read \/nonexistent\/calls\.esl/],
    [['cdr', 'replay', 'calls.bin'], /cannot tell the format.*--format/],
    [['cdr', 'replay', 'x.esl', '--format', 'xml'], /--format.*esl-plain, esl-json, ndjson, yaml, json/],
    [['cdr', 'replay'], /missing required argument 'file'/],
  ])('%j: one line, exit 2', async (args, message) => {
    const r = await xcc(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(message);
  });
});

describe('xcc cdr listen', () => {
  it('--esl: logs in, reads events live, prints and saves each story; Ctrl-C ends with exit 0', async () => {
    const esl = await startFakeEsl({ password: 'ClueCon', events: callEvents(Date.now() * 1000) });
    const listenDb = join(dir, 'listen-esl.db');
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
        `sqlite:${listenDb}`,
      ],
      io,
    );
    try {
      await until('a story on stdout', () => io.stdout.length > 0);
      expectTheCall(JSON.parse(io.stdout[0]!) as CallStory);
      expect(esl.commands).toEqual(['auth ClueCon', 'event plain ALL']);
    } finally {
      io.stop$.abort();
    }
    expect(await running).toBe(0);
    expect(io.stderr.at(-1)).toBe('xcc cdr listen: 1 stories, 1 saved');
    const store = SqliteStore.open({ file: listenDb, readonly: true });
    expectTheCall((await store.get(A))!);
    await store.close();
    await esl.close();
  });

  it('--esl with a wrong password: one line, exit 2', async () => {
    const esl = await startFakeEsl({ password: 'ClueCon' });
    const r = await xcc('cdr', 'listen', '--esl', esl.address, '--password', 'wrong');
    await esl.close();
    expect(r.code).toBe(2);
    expect(r.stderr.at(-1)).toMatch(/^xcc: ESL 127\.0\.0\.1:\d+: ESL authentication refused: -ERR invalid$/);
  });

  it('--nats: turns Event.Channel traffic into stories and publishes them on cn.xswitch.cdr.story', async () => {
    const nats = await startNatsServer();
    const bus = await NatsBus.connect({ servers: [nats.url], name: 'cdr-cli-test' });
    const published: CallStory[] = [];
    const sub = bus.subscribe('cn.xswitch.cdr.story', {
      callback: (m) => published.push(decodeStory(m.data)),
    });
    const io = fakeIo();
    const running = main(
      ['node', 'xcc', 'cdr', 'listen', '--nats', nats.url, '--publish', '--finalize-after', '0.05'],
      io,
    );
    try {
      await until('the listener', () => io.stderr.some((l) => l.includes('reading XCC events')));
      await bus.flush();
      const node = 'node-1';
      const uuid = '11111111-2222-4333-8444-555555555555';
      const send = (subject: string, method: string, params: Record<string, unknown>): void =>
        bus.publish(subject, new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', method, params })));
      const base = {
        node_uuid: node,
        uuid,
        direction: 'inbound',
        cid_number: '+15557770000',
        dest_number: '2000',
      };
      send('cn.xswitch.ctrl', 'Event.Channel', { ...base, state: 'START' });
      send('cn.xswitch.ctrl.ctrl-1', 'Event.Channel', { ...base, state: 'ANSWERED' });
      send('cn.xswitch.ctrl.ctrl-1', 'Event.Channel', { ...base, state: 'READY' });
      send('cn.xswitch.ctrl.ctrl-1', 'Not.AnEvent', { uuid });
      send('cn.xswitch.cdr', 'Event.CDR', {
        node_uuid: node,
        uuid,
        cdr: { hangup_cause: 'NORMAL_CLEARING', billsec: '3' },
      });
      send('cn.xswitch.ctrl.ctrl-1', 'Event.Channel', {
        ...base,
        state: 'DESTROY',
        cause: 'NORMAL_CLEARING',
      });
      await until('a published story', () => published.length > 0 && io.stdout.length > 0);
      const printed = JSON.parse(io.stdout[0]!) as CallStory;
      expect(printed.id).toBe(uuid);
      expect(printed.from).toBe('tel:+15557770000');
      expect(printed.to).toBe('tel:2000');
      expect(printed.legs.map((l) => l.cause)).toEqual(['NORMAL_CLEARING']);
      expect(published[0]).toEqual(printed);
    } finally {
      io.stop$.abort();
      sub.unsubscribe();
    }
    try {
      expect(await running).toBe(0);
      expect(io.stderr.at(-1)).toBe('xcc cdr listen: 1 stories, 1 published on cn.xswitch.cdr.story');
    } finally {
      await bus.close();
      await nats.stop();
    }
  });

  it.each([
    [['--esl', '127.0.0.1:8021'], /--esl needs --password/],
    [
      ['--esl', '127.0.0.1:8021', '--password', 'x', '--nats', 'nats://127.0.0.1:4222'],
      /choose one event source/,
    ],
    [['--esl', 'not a host:x'], /--esl.*HOST:PORT/],
    [['--esl', '127.0.0.1:70000', '--password', 'x'], /--esl.*HOST:PORT/],
    [['--esl', '127.0.0.1', '--password', 'x', '--esl-format', 'xml'], /--esl-format/],
    [['--finalize-after', '0'], /--finalize-after.*positive number/],
    [['--esl-user', 'cdr@default'], /--esl-user goes with --esl/],
    [['--nats', 'nats://127.0.0.1:1'], /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/],
  ])('%j: one line, exit 2', async (flags, message) => {
    const r = await xcc('cdr', 'listen', ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(message);
  });
});
