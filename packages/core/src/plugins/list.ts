import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BuiltinPlugins, importPackage, typesOf } from './loader.js';
import { nodeModulesDirs, resolvePackage } from './resolve-package.js';

export interface PluginListing {
  type: string;
  packageName: string;
  version?: string;
  source: 'builtin' | 'installed';
  /** Set when an installed package was found but could not be loaded. */
  error?: string;
}

export interface ListPluginsOptions {
  /** Folder of the config file: installed plugins are looked up from here. */
  configDir: string;
  builtins?: BuiltinPlugins;
}

/**
 * The built-in types, then every `matric-backup-plugin-*` and
 * `@matric-backup/plugin-*` package Node would find from the config folder
 * (nearest copy of each), with the types each provides.
 */
export async function listPlugins(options: ListPluginsOptions): Promise<PluginListing[]> {
  const listings: PluginListing[] = Object.entries(options.builtins ?? {}).map(([type, builtin]) =>
    typeof builtin === 'function'
      ? { type, packageName: 'built-in', source: 'builtin' }
      : { type, packageName: builtin.packageName, version: builtin.version, source: 'builtin' },
  );
  const builtinPackages = new Set(listings.map((listing) => listing.packageName));
  for (const name of installedPluginPackages(options.configDir)) {
    if (builtinPackages.has(name)) continue;
    const pkg = resolvePackage(name, options.configDir);
    if (!pkg) continue;
    const base = { packageName: pkg.name, version: pkg.version, source: 'installed' as const };
    try {
      const types = typesOf(await importPackage(pkg));
      if (types.length === 0) listings.push({ ...base, type: '?', error: 'exports no destination plugin' });
      for (const type of types) listings.push({ ...base, type });
    } catch (error) {
      listings.push({ ...base, type: '?', error: error instanceof Error ? error.message : String(error) });
    }
  }
  return listings;
}

function installedPluginPackages(configDir: string): string[] {
  const names = new Set<string>();
  for (const dir of nodeModulesDirs(configDir)) {
    for (const entry of entries(dir)) if (entry.startsWith('matric-backup-plugin-')) names.add(entry);
    for (const entry of entries(join(dir, '@matric-backup'))) {
      if (entry.startsWith('plugin-')) names.add(`@matric-backup/${entry}`);
    }
  }
  return [...names].sort();
}

function entries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
