import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BuiltinPlugins, describePackage, importPackage, pickPlugin, typesOf } from './loader.js';
import { nodeModulesDirs, resolvePackage } from './resolve-package.js';

export interface PluginListing {
  type: string;
  packageName: string;
  version?: string;
  source: 'builtin' | 'installed';
  /** The Destination API version an installed plugin was built for. */
  apiVersion?: number;
  /** Set when an installed package was found but cannot be used: it fails to load, speaks another API version, or is incomplete. */
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
  const listings: PluginListing[] = Object.entries(options.builtins ?? {}).map(([type, builtin]) => ({
    type,
    packageName: builtin.packageName,
    version: builtin.version,
    source: 'builtin',
  }));
  const builtinPackages = new Set(listings.map((listing) => listing.packageName));
  for (const name of installedPluginPackages(options.configDir)) {
    if (builtinPackages.has(name)) continue;
    const pkg = resolvePackage(name, options.configDir);
    if (!pkg) continue;
    const base = { packageName: pkg.name, version: pkg.version, source: 'installed' as const };
    let exported: unknown;
    try {
      exported = await importPackage(pkg);
    } catch (error) {
      listings.push({ ...base, type: '?', error: messageOf(error) });
      continue;
    }
    const types = typesOf(exported);
    if (types.length === 0) listings.push({ ...base, type: '?', error: 'exports no destination plugin' });
    for (const type of types)
      listings.push({ ...base, type, ...usable(exported, type, describePackage(pkg)) });
  }
  return listings;
}

/** The checks loadPlugin makes (API version, shape), as listing fields instead of a throw. */
function usable(exported: unknown, type: string, from: string): Pick<PluginListing, 'apiVersion' | 'error'> {
  const candidates: unknown[] = Array.isArray(exported) ? exported : [exported];
  const declared = (
    candidates.find((candidate) => (candidate as { type?: unknown })?.type === type) as {
      apiVersion?: unknown;
    }
  )?.apiVersion;
  const apiVersion = typeof declared === 'number' ? declared : undefined;
  try {
    pickPlugin(exported, type, from);
    return { apiVersion };
  } catch (error) {
    return { apiVersion, error: messageOf(error) };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
