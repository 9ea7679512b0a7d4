import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BuiltinPlugin, BuiltinPlugins } from '@matric-backup/core';

/**
 * The first-party destination plugins, imported only when a config uses their
 * type. Core never names a plugin package; the CLI hands it this map.
 */
export const builtinPlugins: BuiltinPlugins = {
  local: builtin('@matric-backup/plugin-local', () => import('@matric-backup/plugin-local')),
  s3: builtin('@matric-backup/plugin-s3', () => import('@matric-backup/plugin-s3')),
  sftp: builtin('@matric-backup/plugin-sftp', () => import('@matric-backup/plugin-sftp')),
  rsync: builtin('@matric-backup/plugin-sftp', () => import('@matric-backup/plugin-sftp')),
  smb: builtin('@matric-backup/plugin-smb', () => import('@matric-backup/plugin-smb')),
};

function builtin(packageName: string, load: () => Promise<unknown>): BuiltinPlugin {
  return {
    packageName,
    // Read when asked (`matric-backup plugins`), not by every command's start-up.
    get version() {
      return versionOf(packageName);
    },
    load,
  };
}

/** The installed version, for `matric-backup plugins`; read without importing the plugin. */
function versionOf(packageName: string): string | undefined {
  try {
    const manifest = JSON.parse(
      readFileSync(fileURLToPath(import.meta.resolve(`${packageName}/package.json`)), 'utf8'),
    );
    return manifest.name === packageName ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}
