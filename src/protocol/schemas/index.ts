/**
 * protocol/schemas — runtime schemas of the XCC wire (zod 4): shared objects, the `methods` and
 * `events` registries, and validation helpers. Types come from the schemas: `z.input` for senders,
 * `z.output` for receivers. docs/protocol.md describes the same contract in prose.
 */
export * from './ctrl-status.js';
export * from './events.js';
export * from './methods.js';
export * from './native-jsapi.js';
export * from './objects.js';
export {
  StringListSchema,
  UintSchema,
  UuidSchema,
  VarMapSchema,
  wireEnum,
} from './primitives.js';
export * from './validate.js';
