import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseCallerScript } from '../src/node/sim/index.js';

const dir = join(import.meta.dirname, 'scripts');

describe('the example caller scripts the README points at are valid', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s', (file) => {
    const steps = parseCallerScript(parse(readFileSync(join(dir, file), 'utf8')));
    expect(steps.length).toBeGreaterThan(0);
  });
});
