/**
 * plugin.cfg: which plugins this tsdns has and in what order they run, one
 * `name:package` per line (`#` comments). The package is an npm package name
 * or a path (relative to the plugin.cfg's directory) to a package whose
 * default export is a PluginDefinition. This replaces CoreDNS's "edit
 * plugin.cfg and recompile": point tsdns at a copy of plugin.cfg instead.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PluginRegistry, type PluginDefinition, type RegistryEntry } from '@tsdns/core';

export interface PluginCfgLine {
  name: string;
  spec: string;
  line: number;
}

export function parsePluginCfg(text: string, file: string): PluginCfgLine[] {
  const out: PluginCfgLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/#.*/, '').trim();
    if (raw === '') continue;
    const colon = raw.indexOf(':');
    if (colon <= 0 || colon === raw.length - 1) throw new Error(`${file}:${i + 1} - plugin.cfg: expected NAME:PACKAGE, got ${JSON.stringify(raw)}`);
    out.push({ name: raw.slice(0, colon).trim(), spec: raw.slice(colon + 1).trim(), line: i + 1 });
  }
  return out;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The workspace root when running from the repository (packages/cli/dist/src -> root). */
export const WORKSPACE_ROOT = resolve(here, '..', '..', '..', '..');

/** The plugin.cfg used when none is given: the one shipped at the workspace root. */
export function defaultPluginCfgPath(): string {
  return join(WORKSPACE_ROOT, 'plugin.cfg');
}

function resolvePackage(spec: string, cfgDir: string): string {
  const isPath = spec.startsWith('.') || isAbsolute(spec);
  if (isPath) {
    const p = resolve(cfgDir, spec);
    return createRequire(join(p, 'noop.js')).resolve(p);
  }
  const bases = [cfgDir, WORKSPACE_ROOT, here];
  let lastErr: unknown;
  for (const base of bases) {
    try {
      return createRequire(join(base, 'noop.js')).resolve(spec);
    } catch (e) {
      lastErr = e;
    }
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}

function isDefinition(v: unknown): v is PluginDefinition {
  return typeof v === 'object' && v !== null && typeof (v as PluginDefinition).setup === 'function';
}

/** Builds the registry from a plugin.cfg file; plugins are imported only when a Corefile uses them. */
export function loadPluginCfg(path: string): PluginRegistry {
  if (!existsSync(path)) throw new Error(`plugin.cfg not found: ${path}`);
  const lines = parsePluginCfg(readFileSync(path, 'utf8'), path);
  const cfgDir = dirname(resolve(path));
  const entries: RegistryEntry[] = lines.map((l) => ({
    name: l.name,
    source: l.spec,
    load: async (): Promise<PluginDefinition> => {
      let file: string;
      try {
        file = resolvePackage(l.spec, cfgDir);
      } catch (e) {
        throw new Error(`plugin ${l.name}: cannot find package ${JSON.stringify(l.spec)} (${path}:${l.line}): ${(e as Error).message.split('\n')[0]}`);
      }
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      const def = mod.default;
      if (!isDefinition(def)) throw new Error(`plugin ${l.name}: ${l.spec} has no default export with a setup(c) function`);
      return def.name === l.name ? def : { name: l.name, setup: def.setup.bind(def) };
    },
  }));
  return new PluginRegistry(entries);
}
