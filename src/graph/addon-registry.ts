/** The addon registry: resolves a node's `addon` name to the factory of its extensions. */
import type { Addon } from './extension.js';

/**
 * Addons by name. A graph is checked against a registry on load: an unknown addon is a spec error
 * naming the node.
 *
 * @example
 * const registry = new AddonRegistry().register('billing', { create: () => new Billing() });
 */
export class AddonRegistry {
  readonly #addons = new Map<string, Addon>();

  /** Registers `addon` under `name`; throws if the name is taken (two addons, one name, is a bug). */
  register(name: string, addon: Addon): this {
    if (name.length === 0) throw new TypeError('addon name must not be empty');
    if (this.#addons.has(name)) throw new TypeError(`addon "${name}" is already registered`);
    this.#addons.set(name, addon);
    return this;
  }

  get(name: string): Addon | undefined {
    return this.#addons.get(name);
  }

  has(name: string): boolean {
    return this.#addons.has(name);
  }

  /** Registered names, sorted (for error messages). */
  names(): string[] {
    return [...this.#addons.keys()].sort();
  }
}
