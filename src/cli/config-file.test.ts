import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDirectory, loadScript } from './config-file.js';
import { CliError, ExitCode } from './errors.js';

describe('config files (YAML/JSON) for scripts and directories', () => {
  let dir: string;
  const file = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xcc-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a YAML step list and a JSON {script} object alike', async () => {
    const yaml = await file(
      'a.yaml',
      '- wait: 500\n- dtmf: "12#"\n- say: hello\n- hangup: {cause: USER_BUSY}\n',
    );
    expect(await loadScript(yaml)).toEqual([
      { wait: 500 },
      { dtmf: '12#' },
      { say: 'hello' },
      { hangup: { cause: 'USER_BUSY' } },
    ]);
    const json = await file('b.json', JSON.stringify({ script: [{ wait: 1 }] }));
    expect(await loadScript(json)).toEqual([{ wait: 1 }]);
  });

  it('reads a directory at the top level or under `directory`', async () => {
    const top = await file('d.yaml', 'agent: {answer_after_ms: 2000}\n"*": {no_answer: true}\n');
    expect(await loadDirectory(top)).toEqual({ agent: { answer_after_ms: 2000 }, '*': { no_answer: true } });
    const nested = await file('d.json', JSON.stringify({ directory: { busy: { busy: true } } }));
    expect(await loadDirectory(nested)).toEqual({ busy: { busy: true } });
  });

  it.each([
    ['missing file', null, /cannot read .*nope\.yaml: ENOENT/],
    ['invalid YAML', 'a: [1,\n', /is not valid YAML/],
    ['invalid JSON', '{"a":', /is not valid JSON/],
    ['a wrong step value', '- wait: soon\n', /0\.wait: .*number/],
  ])('%s → one-line CliError with exit 2', async (name, text, message) => {
    const path =
      text === null
        ? join(dir, 'nope.yaml')
        : await file(`${name.replace(/ /g, '-')}${name.includes('JSON') ? '.json' : '.yaml'}`, text);
    const err = await loadScript(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.Usage);
    expect((err as CliError).message).toMatch(message);
    expect((err as CliError).message).not.toContain('\n');
  });
});
