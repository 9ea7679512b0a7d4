import { pathToFileURL } from 'node:url';
import { DESTINATION_API_VERSION, type DestinationPlugin, MatricError } from '@matric-backup/plugin-api';
import { closestName } from '../util/did-you-mean.js';
import { type ResolvedPackage, resolvePackage } from './resolve-package.js';

/** The package plugin authors build against; named in messages. */
const SDK_PACKAGE = '@matric-backup/plugin-api';

/**
 * The first-party plugins the CLI ships with: type -> dynamic import of its module.
 * Core never names a plugin package itself. The object form also tells
 * `listPlugins` which package provides the type.
 */
export interface BuiltinPlugin {
  packageName: string;
  version?: string;
  load: () => Promise<unknown>;
}
export type BuiltinPlugins = Record<string, BuiltinPlugin>;

export interface LoadPluginOptions {
  /** The destination block's `plugin:`: an npm package name, or a path relative to the config folder. */
  packageName?: string;
  /** Folder of the config file; third-party plugins are resolved from here. */
  configDir: string;
  builtins?: BuiltinPlugins;
}

/** Package names tried for `type: foo`, in order. */
function conventionalPackageNames(type: string): string[] {
  return [`matric-backup-plugin-${type}`, `@matric-backup/plugin-${type}`];
}

// npm package-name characters: a type never turns into a path outside node_modules.
const PLUGIN_TYPE = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * The plugin for a destination type: the block's explicit `plugin:` package when
 * given (so a fork can replace a built-in type), else the built-in, else
 * `matric-backup-plugin-<type>` or `@matric-backup/plugin-<type>` installed where
 * the config file is. Throws MatricError PLUGIN_LOAD or PLUGIN_API_VERSION.
 */
export async function loadPlugin(type: string, options: LoadPluginOptions): Promise<DestinationPlugin> {
  const { packageName, configDir, builtins = {} } = options;
  if (packageName !== undefined) {
    const pkg = resolvePackage(packageName, configDir);
    if (!pkg) {
      throw new MatricError(
        'PLUGIN_LOAD',
        `plugin package ${packageName} (for destination type "${type}") is not installed where ${configDir} can find it`,
        { hint: `run \`npm install ${packageName}\` in ${configDir}` },
      );
    }
    return pickPlugin(await importPackage(pkg), type, describePackage(pkg));
  }
  const builtin = builtins[type];
  if (builtin) return pickPlugin(await importBuiltin(builtin), type, builtin.packageName);

  const tried = conventionalPackageNames(type);
  if (PLUGIN_TYPE.test(type)) {
    for (const name of tried) {
      const pkg = resolvePackage(name, configDir);
      if (pkg) return pickPlugin(await importPackage(pkg), type, describePackage(pkg));
    }
  }
  const known = Object.keys(builtins);
  // A typo of a built-in type is far likelier than a plugin nobody installed: say so first.
  const meant = closestName(type, known);
  if (meant !== undefined)
    throw new MatricError('PLUGIN_LOAD', `unknown destination type "${type}"; did you mean "${meant}"?`, {
      hint: `write \`type: ${meant}\` (built in: ${known.join(', ')}); for a plugin of type "${type}", \`npm install ${tried[0]}\` in ${configDir}`,
    });
  throw new MatricError(
    'PLUGIN_LOAD',
    `unknown destination type "${type}": not built in (built in: ${known.length ? known.join(', ') : 'none'}) ` +
      `and neither ${tried.join(' nor ')} is installed where ${configDir} can find it`,
    {
      hint: `install a plugin next to the config (\`npm install ${tried[0]}\` in ${configDir}) or name its package with \`plugin:\``,
    },
  );
}

// Keyed by entry file (packages) or loader function (built-ins): each module is imported once per process.
const packageModules = new Map<string, Promise<unknown>>();
const builtinModules = new WeakMap<() => Promise<unknown>, Promise<unknown>>();

export function importPackage(pkg: ResolvedPackage): Promise<unknown> {
  let loading = packageModules.get(pkg.entry);
  if (!loading) {
    loading = import(pathToFileURL(pkg.entry).href).then(defaultExport, (error: unknown) => {
      throw new MatricError(
        'PLUGIN_LOAD',
        `cannot load plugin package ${pkg.name} (${pkg.entry}): ${messageOf(error)}`,
        {
          cause: error,
          hint: `reinstall it: \`npm install ${pkg.name}\``,
        },
      );
    });
    packageModules.set(pkg.entry, loading);
  }
  return loading;
}

function importBuiltin(builtin: BuiltinPlugin): Promise<unknown> {
  const { load } = builtin;
  let loading = builtinModules.get(load);
  if (!loading) {
    loading = load().then(defaultExport, (error: unknown) => {
      throw new MatricError('PLUGIN_LOAD', `cannot load ${builtin.packageName}: ${messageOf(error)}`, {
        cause: error,
        hint: 'reinstall matric-backup',
      });
    });
    builtinModules.set(load, loading);
  }
  return loading;
}

/** The module's default export; a CommonJS module compiled from ESM nests it once more. */
function defaultExport(module: unknown): unknown {
  let exported = isRecord(module) && 'default' in module ? module.default : module;
  if (isRecord(exported) && !('type' in exported) && 'default' in exported) exported = exported.default;
  return exported;
}

/** Destination types a module's default export provides. */
export function typesOf(exported: unknown): string[] {
  const candidates = Array.isArray(exported) ? exported : [exported];
  return candidates.flatMap((candidate) =>
    isRecord(candidate) && typeof candidate.type === 'string' ? [candidate.type] : [],
  );
}

export function pickPlugin(exported: unknown, type: string, from: string): DestinationPlugin {
  const provided = typesOf(exported);
  if (provided.length === 0) {
    throw new MatricError('PLUGIN_LOAD', `${from} does not export a destination plugin`, {
      hint: `its default export must be defineDestination({...}) from ${SDK_PACKAGE}, or an array of them`,
    });
  }
  const candidates: unknown[] = Array.isArray(exported) ? exported : [exported];
  const plugin = candidates.find((candidate) => isRecord(candidate) && candidate.type === type) as
    | Record<string, unknown>
    | undefined;
  if (!plugin) {
    throw new MatricError(
      'PLUGIN_LOAD',
      `${from} provides destination type ${provided.join(', ')}, not "${type}"`,
    );
  }
  checkApiVersion(plugin.apiVersion, type, from);
  const missing = [
    typeof (plugin.configSchema as { safeParse?: unknown } | undefined)?.safeParse === 'function'
      ? ''
      : 'configSchema',
    typeof plugin.create === 'function' ? '' : 'create',
    isRecord(plugin.capabilities) ? '' : 'capabilities',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new MatricError(
      'PLUGIN_LOAD',
      `${from} for type ${type} is not a valid destination plugin: missing ${missing.join(', ')}`,
      { hint: NOT_BUILT_WITH_SDK },
    );
  }
  return plugin as unknown as DestinationPlugin;
}

const NOT_BUILT_WITH_SDK = `a plugin's default export must be defineDestination({...}) from ${SDK_PACKAGE}; ask its author for a release built that way`;

/**
 * The version is the one the plugin's SDK stamped when it was built; a plugin
 * that set none was not built with defineDestination.
 */
function checkApiVersion(theirs: unknown, type: string, from: string): void {
  if (theirs === DESTINATION_API_VERSION) return;
  if (typeof theirs !== 'number') {
    throw new MatricError(
      'PLUGIN_API_VERSION',
      `plugin ${from} for type ${type} declares no Destination API version (this matric-backup speaks v${DESTINATION_API_VERSION})`,
      { hint: NOT_BUILT_WITH_SDK },
    );
  }
  throw new MatricError(
    'PLUGIN_API_VERSION',
    `plugin ${from} for type ${type} speaks Destination API v${theirs}, this core speaks v${DESTINATION_API_VERSION}`,
    {
      hint:
        theirs < DESTINATION_API_VERSION
          ? `upgrade the plugin to a release for Destination API v${DESTINATION_API_VERSION}`
          : `upgrade matric-backup to a release whose core speaks Destination API v${theirs}, or install an older plugin`,
    },
  );
}

export function describePackage(pkg: ResolvedPackage): string {
  return pkg.version ? `${pkg.name}@${pkg.version}` : pkg.name;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
