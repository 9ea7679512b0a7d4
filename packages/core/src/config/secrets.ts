import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { redact } from '../util/redact.js';
import { resolveConfigPath } from './paths.js';
import type { ConfigPath, ConfigSource } from './source.js';

const execFileAsync = promisify(execFile);
const COMMAND_TIMEOUT_MS = 60_000;

export interface SecretContext {
  source: ConfigSource;
  /** The config file's folder: relative `K_file` paths and `K_command` run from here. */
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Every secret found, with the key that holds it, for the weak-secret warnings. */
  found?: Array<{ path: ConfigPath; value: string }>;
}

/**
 * For each secret key K of `block`, replaces a `K_file` (the file's content) or
 * `K_command` (the stdout of a command run without a shell) reference by K
 * itself, in place. Returns every secret value the block holds, given directly or
 * by reference. Messages name keys and files, never a value.
 */
export async function resolveSecretRefs(
  block: Record<string, unknown>,
  keys: readonly string[],
  path: ConfigPath,
  context: SecretContext,
): Promise<string[]> {
  const secrets: string[] = [];
  for (const key of keys) {
    const refs = [`${key}_file`, `${key}_command`].filter((ref) => block[ref] !== undefined);
    const given = [key, ...refs].filter((name) => block[name] !== undefined);
    const refValues = refs.map((ref) => [ref, block[ref]] as const);
    for (const ref of refs) delete block[ref];

    if (given.length > 1) {
      context.source.issues.add([...path, given[1]!], `set only one of ${given.join(', ')}`, [
        [...path, key],
      ]);
    } else if (refValues.length === 1) {
      const [ref, value] = refValues[0]!;
      context.source.alias([...path, key], [...path, ref]);
      const result = ref.endsWith('_file')
        ? await readSecretFile(value, context)
        : await runSecretCommand(value, context);
      if ('error' in result) context.source.issues.add([...path, ref], result.error, [[...path, key]]);
      else block[key] = result.value;
    }
    if (typeof block[key] === 'string' && block[key] !== '') {
      secrets.push(block[key]);
      context.found?.push({ path: [...path, key], value: block[key] });
    }
  }
  return secrets;
}

type Outcome = { value: string } | { error: string };

async function readSecretFile(value: unknown, { dir, env }: SecretContext): Promise<Outcome> {
  if (typeof value !== 'string' || value === '')
    return { error: 'must be the path of a file holding the secret' };
  const file = resolveConfigPath(value, dir, env);
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    return { error: `cannot read secret file ${file}: ${why}` };
  }
  const secret = content.replace(/[\r\n]+$/, '');
  return secret === '' ? { error: `secret file ${file} is empty` } : { value: secret };
}

async function runSecretCommand(value: unknown, { dir, env }: SecretContext): Promise<Outcome> {
  const argv = typeof value === 'string' ? value.trim().split(/\s+/) : value;
  if (
    !Array.isArray(argv) ||
    argv.length === 0 ||
    argv[0] === '' ||
    !argv.every((arg) => typeof arg === 'string')
  ) {
    return {
      error: 'must be a command: a list like ["pass", "show", "backup/s3"] or a string split on spaces',
    };
  }
  const [command, ...args] = argv as string[];
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(command!, args, {
      cwd: dir,
      env,
      timeout: COMMAND_TIMEOUT_MS,
      maxBuffer: 1024 * 1024,
      encoding: 'utf8',
    }));
  } catch (error) {
    return { error: `secret command ${command} ${describeFailure(error)}` };
  }
  const secret = stdout.trim();
  return secret === '' ? { error: `secret command ${command} printed nothing` } : { value: secret };
}

function describeFailure(error: unknown): string {
  const failure = error as {
    code?: unknown;
    killed?: boolean;
    signal?: string;
    stdout?: string;
    stderr?: string;
  };
  if (failure.code === 'ENOENT') return 'was not found (is it installed and on PATH?)';
  if (failure.code === 'EACCES') return 'is not executable';
  if (failure.killed && failure.signal) return `did not finish within ${COMMAND_TIMEOUT_MS / 1000} s`;
  const status = typeof failure.code === 'number' ? `exited with code ${failure.code}` : 'failed';
  // A failing command may still have printed (part of) the secret; never echo stdout, and mask it in stderr.
  const stderr =
    redact((failure.stderr ?? '').trim(), [failure.stdout?.trim() ?? ''])
      .split('\n')
      .at(-1) ?? '';
  return stderr ? `${status}: ${stderr.slice(0, 200)}` : status;
}
