/**
 * Flag value parsers for commander: each throws `InvalidArgumentError`, which commander reports as one
 * line (`error: option '--rate <n>' argument 'x' is invalid. expected a positive number`) → exit 2.
 */
import { InvalidArgumentError } from 'commander';

/** A finite number > 0. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError('expected a positive number');
  }
  return n;
}

/** An integer ≥ 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return n;
}

/** An integer ≥ 0. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('expected an integer >= 0');
  }
  return n;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** One NATS subject token (node/ctrl uuids and tenants become subject tokens). */
export function subjectToken(value: string): string {
  if (!TOKEN.test(value)) throw new InvalidArgumentError('expected letters, digits, "_" or "-" only');
  return value;
}

/** A `nats://host:port` (or tls://, ws://) URL; comma-separated lists are allowed (a cluster). */
export function natsUrl(value: string): string {
  for (const part of value.split(',')) {
    const url = part.trim();
    if (!/^(nats|tls|ws|wss):\/\/[^\s/]+(:\d+)?\/?$/.test(url) && !/^[^\s:/]+:\d+$/.test(url)) {
      throw new InvalidArgumentError('expected a NATS URL like nats://127.0.0.1:4222');
    }
  }
  return value;
}

/** `key=value` pairs collected into a record (repeatable flag). */
export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}
