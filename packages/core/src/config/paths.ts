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
