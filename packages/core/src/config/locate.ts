import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';
import { homeDir } from './paths.js';

export interface LocateConfigOptions {
  /** `-c FILE`; relative to `cwd`. */
  file?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The config file to use, as an absolute path: `-c`, else $MATRIC_BACKUP_CONFIG,
 * else the first of ./backup.yaml, ~/.config/matric-backup/backup.yaml
 * ($XDG_CONFIG_HOME when set) and /etc/matric-backup/backup.yaml that exists.
 * A file named explicitly must exist; nothing falls through past it.
 */
export function locateConfig(options: LocateConfigOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const explicit = options.file
    ? { file: resolve(cwd, options.file), from: '-c' }
    : env.MATRIC_BACKUP_CONFIG
      ? { file: resolve(cwd, env.MATRIC_BACKUP_CONFIG), from: '$MATRIC_BACKUP_CONFIG' }
      : undefined;
  if (explicit) {
    if (isFile(explicit.file)) return explicit.file;
    throw new MatricError(
      'USAGE',
      `config file ${explicit.file} (from ${explicit.from}) does not exist or is not a file`,
      {
        hint: 'check the path, or run `matric-backup init` to write an example config',
      },
    );
  }
  const configHome = env.XDG_CONFIG_HOME || join(homeDir(env), '.config');
  const candidates = [
    resolve(cwd, 'backup.yaml'),
    join(configHome, 'matric-backup', 'backup.yaml'),
    '/etc/matric-backup/backup.yaml',
  ];
  const found = candidates.find(isFile);
  if (found) return found;
  throw new MatricError(
    'USAGE',
    `no config file found; tried -c, $MATRIC_BACKUP_CONFIG, ${candidates.join(', ')}`,
    {
      hint: 'pass one with -c FILE, or run `matric-backup init` to write an example backup.yaml',
    },
  );
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
