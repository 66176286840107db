/**
 * Property checking for the built-in addons: each addon declares a zod schema for its node `property`;
 * a bad property is an error naming the node and the field, raised when the app is validated (before
 * anything connects) and again when the extension is created.
 */
import type { z } from 'zod';

/**
 * Parses `property` with `schema`; throws an `Error` whose one-line message names the node and every
 * bad field, e.g. `node "router": property.flow: expected string`.
 */
export function parseProperty<T>(schema: z.ZodType<T>, name: string, property: unknown): T {
  const parsed = schema.safeParse(property);
  if (parsed.success) return parsed.data;
  const faults = parsed.error.issues.map((issue) => {
    const path = ['property', ...issue.path.map(String)].join('.');
    return `${path}: ${issue.message}`;
  });
  throw new Error(`node "${name}": ${faults.join('; ')}`);
}
