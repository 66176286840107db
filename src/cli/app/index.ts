/**
 * cli/app — controller applications described as graphs (`xcc ctrl app.json`): the app file loader and
 * validator, the built-in addons (`main`, `billing`, `report`, `metrics`, `call-router`), the per-call
 * pipeline addons (`call-billing`, `recorder`, `speech-recognizer`) and `createApp`, which wires them
 * to a bus and a clock. The graph engine itself is `src/graph` (which knows nothing of calls).
 */
export { type AppFile, loadAppFile, validateApp } from './app-file.js';
export { type BillingRecord, type BillingReport, BillingExtension } from './billing.js';
export {
  CALL_EVENTS,
  type CallAnswer,
  type CallEnd,
  type CallEventName,
  type CallStart,
  type FlowOutcome,
  type PipelineSummary,
} from './call-record.js';
export { CallRouterExtension, type RouterStatus } from './call-router.js';
export type { AppDeps } from './deps.js';
export { MainExtension } from './main-extension.js';
export { formatMetrics, MetricsExtension, type MetricsCounters } from './metrics.js';
export { createPerCallRegistry, PER_CALL_ADDONS, type PerCallContext } from './per-call-addons.js';
export { APP_ADDONS, type AppAddonName, createAppRegistry } from './registry.js';
export { ReportExtension } from './report.js';
export { type CreateAppOptions, createApp, describeFailures } from './run-app.js';
