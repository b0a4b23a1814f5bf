/**
 * Plugin registration: the ordered directive list (plugin.cfg order decides
 * the chain order, never the Corefile) and how to load each plugin.
 */
import type { Controller } from './controller.js';

/** What a plugin package exports by default. */
export interface PluginDefinition {
  /** Directive name (`whoami`, `forward`, ...). */
  readonly name: string;
  /** Parses the directive's tokens and adds handlers/hooks. Throw ConfigError (c.err/c.argErr) on bad input. */
  setup(c: Controller): void | Promise<void>;
}

export interface RegistryEntry {
  name: string;
  /** Where it came from (the package spec in plugin.cfg), for messages. */
  source: string;
  load(): PluginDefinition | Promise<PluginDefinition>;
}

export class PluginRegistry {
  private readonly entries: RegistryEntry[];
  private readonly byName = new Map<string, RegistryEntry>();
  private readonly loaded = new Map<string, Promise<PluginDefinition>>();

  constructor(entries: RegistryEntry[]) {
    this.entries = [];
    for (const e of entries) {
      if (this.byName.has(e.name)) continue; // first definition wins
      this.entries.push(e);
      this.byName.set(e.name, e);
    }
  }

  /** Builds a registry from plugin definitions already in memory (tests, embedding). */
  static of(defs: PluginDefinition[]): PluginRegistry {
    return new PluginRegistry(defs.map((d) => ({ name: d.name, source: d.name, load: () => d })));
  }

  /** Directive names in chain order. */
  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Loads (once) and returns a plugin's definition. */
  get(name: string): Promise<PluginDefinition> {
    let p = this.loaded.get(name);
    if (!p) {
      const e = this.byName.get(name);
      if (!e) return Promise.reject(new Error(`unknown plugin ${name}`));
      p = Promise.resolve().then(() => e.load());
      this.loaded.set(name, p);
    }
    return p;
  }
}
