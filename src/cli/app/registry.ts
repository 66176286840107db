/**
 * The built-in app addons, by name: `main`, `billing`, `report`, `metrics`, `call-router`. A registry
 * built without deps only validates graphs (creating an extension from it throws).
 */
import type { z } from 'zod';
import { type Addon, AddonRegistry } from '../../graph/index.js';
import { BillingProperty, billingAddon } from './billing.js';
import { CallRouterProperty, callRouterAddon } from './call-router.js';
import type { AppDeps } from './deps.js';
import { MainProperty, mainAddon } from './main-extension.js';
import { MetricsProperty, metricsAddon } from './metrics.js';
import { ReportProperty, reportAddon } from './report.js';

/** Addon names an app graph may use. */
export const APP_ADDONS = ['main', 'billing', 'report', 'metrics', 'call-router'] as const;
export type AppAddonName = (typeof APP_ADDONS)[number];

/** Property schema of each app addon, for validating an app file before anything runs. */
export const APP_PROPERTIES: Readonly<Record<AppAddonName, z.ZodType>> = {
  main: MainProperty,
  billing: BillingProperty,
  report: ReportProperty,
  metrics: MetricsProperty,
  'call-router': CallRouterProperty,
};

/** The app registry wired to `deps` (or, without deps, a registry that only validates). */
export function createAppRegistry(deps?: AppDeps): AddonRegistry {
  const addons: Record<AppAddonName, Addon> =
    deps === undefined
      ? (Object.fromEntries(APP_ADDONS.map((name) => [name, validationOnly(name)])) as Record<
          AppAddonName,
          Addon
        >)
      : {
          main: mainAddon,
          billing: billingAddon,
          report: reportAddon(deps),
          metrics: metricsAddon(deps),
          'call-router': callRouterAddon(deps),
        };
  const registry = new AddonRegistry();
  for (const name of APP_ADDONS) registry.register(name, addons[name]);
  return registry;
}

function validationOnly(name: string): Addon {
  return {
    create: () => {
      throw new Error(`addon "${name}" of a validation registry cannot create extensions`);
    },
  };
}
