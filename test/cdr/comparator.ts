/**
 * The tolerant story comparator of the scenario files: only what a scenario names is compared.
 * Objects: named keys only. Arrays: the expected items must appear in order (a subsequence), so a
 * new segment kind does not break old scenarios. Times (`start`, `end`, `…At`) are seconds relative
 * to the scenario's time base and compared with a tolerance; durations (`…S`) likewise.
 * `null` expects the field to be absent. The result is a list of readable differences.
 */

/** Scenario time base: `t: 0` in a scenario is this instant (µs). */
export const BASE_US = 1_700_000_000_000_000;

const TIME_KEYS = new Set(['start', 'end', 'startedAt', 'answeredAt', 'endedAt', 'createdAt']);

export interface CompareOptions {
  /** Tolerance for times and durations, seconds. Default 1 (FreeSWITCH truncates to seconds). */
  toleranceS?: number;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? 'undefined' : text.length > 160 ? text.slice(0, 157) + '...' : text;
}

/** Differences between what a scenario expects and what the engine produced ([] when it matches). */
export function compare(
  expected: unknown,
  actual: unknown,
  path = '',
  options: CompareOptions = {},
): string[] {
  const tolerance = options.toleranceS ?? 1;
  const key = path.slice(path.lastIndexOf('.') + 1);
  if (expected === null)
    return actual === undefined || actual === null ? [] : [`${path}: expected absent, got ${show(actual)}`];
  if (actual === undefined) return [`${path}: expected ${show(expected)}, got nothing`];
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (TIME_KEYS.has(key)) {
      const seconds = (actual - BASE_US) / 1e6;
      return Math.abs(seconds - expected) <= tolerance
        ? []
        : [`${path}: expected t=${expected}s, got t=${seconds}s`];
    }
    if (key.endsWith('S')) {
      return Math.abs(actual - expected) <= tolerance
        ? []
        : [`${path}: expected ${expected}s, got ${actual}s`];
    }
    return actual === expected ? [] : [`${path}: expected ${expected}, got ${actual}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected a list, got ${show(actual)}`];
    return compareList(expected, actual, path, options);
  }
  if (typeof expected === 'object') {
    if (typeof actual !== 'object' || Array.isArray(actual))
      return [`${path}: expected an object, got ${show(actual)}`];
    const diffs: string[] = [];
    for (const [k, v] of Object.entries(expected as Record<string, unknown>)) {
      diffs.push(
        ...compare(v, (actual as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, options),
      );
    }
    return diffs;
  }
  // Scalars: compare as text, so YAML `1001` matches "1001" and `true` matches true.
  return String(expected) === String(actual)
    ? []
    : [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

/** Ordered-subsequence match of a list. */
function compareList(
  expected: unknown[],
  actual: unknown[],
  path: string,
  options: CompareOptions,
): string[] {
  let from = 0;
  for (let i = 0; i < expected.length; i++) {
    let found = -1;
    for (let j = from; j < actual.length; j++) {
      if (compare(expected[i], actual[j], `${path}[${j}]`, options).length === 0) {
        found = j;
        break;
      }
    }
    if (found === -1) {
      const near = actual[Math.min(from + (i - i), actual.length - 1)];
      const hint = near === undefined ? [] : compare(expected[i], near, `${path}[${from}]`, options);
      return [
        `${path}: expected item #${i} ${show(expected[i])} in order, not found after index ${from - 1}` +
          (hint.length > 0 ? `; nearest differs: ${hint.join('; ')}` : ''),
      ];
    }
    from = found + 1;
  }
  return [];
}
