import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/** `~/x` is under the home folder; anything else relative is relative to the config file's folder. */
export function resolveConfigPath(path: string, configDir: string, env: NodeJS.ProcessEnv): string {
  if (path === '~') return homeDir(env);
  if (path.startsWith('~/')) return join(homeDir(env), path.slice(2));
  return isAbsolute(path) ? path : resolve(configDir, path);
}

/** $XDG_STATE_HOME/matric-backup, else /var/lib/matric-backup for root, else ~/.local/state/matric-backup. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  if (env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME)) return join(env.XDG_STATE_HOME, 'matric-backup');
  if (process.getuid?.() === 0) return '/var/lib/matric-backup';
  return join(homeDir(env), '.local', 'state', 'matric-backup');
}

interface EncryptionPaths {
  method: 'age' | 'gpg';
  recipients: string[];
  identity_file?: string;
  gpg_homedir?: string;
}

/**
 * The file paths of `backup.encryption` resolved like every other path: the
 * identity file, the gpg home folder and, for age, recipient entries that are
 * files of keys (anything not starting with `age1`; gpg recipients are key ids,
 * never paths).
 */
export function resolveEncryptionPaths<T extends EncryptionPaths>(
  encryption: T,
  configDir: string,
  env: NodeJS.ProcessEnv,
): T {
  const path = (value: string) => resolveConfigPath(value, configDir, env);
  return {
    ...encryption,
    recipients:
      encryption.method === 'age'
        ? encryption.recipients.map((entry) => (entry.startsWith('age1') ? entry : path(entry)))
        : encryption.recipients,
    ...(encryption.identity_file !== undefined && { identity_file: path(encryption.identity_file) }),
    ...(encryption.gpg_homedir !== undefined && { gpg_homedir: path(encryption.gpg_homedir) }),
  };
}
