import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDuration } from '../util/duration.js';

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

/** A hook as it runs: argv (a `shell:` hook is `/bin/sh -c TEXT`), its folder resolved, its timeout in ms. */
export interface ResolvedHook {
  command: string[];
  /** How messages name it: the argv joined, or the shell text. */
  label: string;
  cwd: string;
  timeoutMs: number;
}

/** A hook runs at most this long unless it says otherwise: a hung `before` must not hold the lock forever. */
const DEFAULT_HOOK_TIMEOUT = '5m';

type HookEntry =
  | string[]
  | { command: string[]; timeout?: string | number; cwd?: string }
  | {
      shell: string;
      timeout?: string | number;
      cwd?: string;
    };

/** Each hook list in one shape: argv, resolved folder (default the config's), timeout in ms. */
export function resolveHookFolders<K extends string>(
  hooks: Record<K, HookEntry[]>,
  configDir: string,
  env: NodeJS.ProcessEnv,
): Record<K, ResolvedHook[]> {
  const one = (hook: HookEntry): ResolvedHook => {
    const options: { timeout?: string | number; cwd?: string } = Array.isArray(hook) ? {} : hook;
    const command = Array.isArray(hook)
      ? hook
      : 'command' in hook
        ? hook.command
        : ['/bin/sh', '-c', hook.shell];
    return {
      command,
      label: Array.isArray(hook) || 'command' in hook ? command.map(quoteArg).join(' ') : hook.shell,
      cwd: options.cwd === undefined ? configDir : resolveConfigPath(options.cwd, configDir, env),
      timeoutMs: parseDuration(options.timeout ?? DEFAULT_HOOK_TIMEOUT),
    };
  };
  return Object.fromEntries(
    Object.entries<HookEntry[]>(hooks).map(([when, list]) => [when, list.map(one)]),
  ) as Record<K, ResolvedHook[]>;
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}
