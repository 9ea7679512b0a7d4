import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';

export interface ResolvedPackage {
  name: string;
  version?: string;
  /** Absolute path of the module to import. */
  entry: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  exports?: unknown;
}

/**
 * The node_modules folders Node searches from the config file's folder, nearest
 * first: plugins are installed next to the config, not next to matric-backup.
 * Node's global folders ($NODE_PATH, ~/.node_modules) are left out on purpose:
 * they depend on the caller's shell (`pnpm exec` points NODE_PATH at a whole
 * workspace store).
 */
export function nodeModulesDirs(configDir: string): string[] {
  const dirs: string[] = [];
  for (let dir = resolve(configDir); ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') dirs.push(join(dir, 'node_modules'));
    if (dirname(dir) === dir) return dirs;
  }
}

/**
 * Finds package `name` (or a path to a plugin folder or file, relative to the config
 * folder) as Node would from `configDir`, and picks its ESM entry point: the
 * `import` condition of `exports` where there is one. undefined when not installed.
 */
export function resolvePackage(name: string, configDir: string): ResolvedPackage | undefined {
  if (name.startsWith('.') || isAbsolute(name)) return resolvePath(resolve(configDir, name));
  for (const base of nodeModulesDirs(configDir)) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return fromPackageDir(dir, name);
  }
  return undefined;
}

function resolvePath(path: string): ResolvedPackage | undefined {
  if (!existsSync(path)) return undefined;
  if (statSync(path).isDirectory())
    return existsSync(join(path, 'package.json')) ? fromPackageDir(path, path) : undefined;
  const manifest = findManifest(dirname(path));
  return { name: manifest?.name ?? path, version: manifest?.version, entry: path };
}

function fromPackageDir(dir: string, fallbackName: string): ResolvedPackage {
  const manifest = readManifest(join(dir, 'package.json'));
  const target =
    manifest.exports === undefined ? (manifest.main ?? 'index.js') : exportTarget(manifest.exports);
  return {
    name: manifest.name ?? fallbackName,
    version: manifest.version,
    entry: withExtension(resolve(dir, target ?? 'index.js')),
  };
}

const CONDITIONS = ['import', 'node', 'default', 'require'];

/** The `.` entry of an `exports` field for an ESM importer. */
function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) return exports.map(exportTarget).find((target) => target !== undefined);
  if (exports === null || typeof exports !== 'object') return undefined;
  const map = exports as Record<string, unknown>;
  if (Object.keys(map).some((key) => key.startsWith('.'))) return exportTarget(map['.']);
  for (const condition of CONDITIONS) {
    const target = condition in map ? exportTarget(map[condition]) : undefined;
    if (target !== undefined) return target;
  }
  return undefined;
}

/** `main: "lib/index"` means lib/index.js or lib/index/index.js, as require() reads it. */
function withExtension(path: string): string {
  if (existsSync(path) && statSync(path).isFile()) return path;
  return [`${path}.js`, join(path, 'index.js')].find((candidate) => existsSync(candidate)) ?? path;
}

function findManifest(from: string): PackageJson | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return readManifest(file);
    if (dirname(dir) === dir) return undefined;
  }
}

function readManifest(file: string): PackageJson {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch (error) {
    throw new MatricError(
      'PLUGIN_LOAD',
      `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}
