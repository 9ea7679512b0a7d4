import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { CommandSourceConfig, DirectorySourceConfig } from '../config/schema.js';
import type { LoadedConfig } from '../config/types.js';
import { findExecutable } from './find-executable.js';
import type { PreflightIssue } from './issues.js';

const WHY: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'does not exist (a part of the path is not a folder)',
  EACCES: 'cannot be reached by this user (a folder above it is not searchable)',
  ELOOP: 'is a symbolic link loop',
};

/**
 * What a run would trip over in the sources: a folder that is missing or that
 * this user cannot list, a command whose program is not found. Nothing is read
 * and no command is run.
 */
export async function checkSources(config: LoadedConfig, env: NodeJS.ProcessEnv): Promise<PreflightIssue[]> {
  const issues: PreflightIssue[] = [];
  for (const [index, source] of config.backup.sources.entries()) {
    const at = ['backup', 'sources', index] as const;
    const message =
      source.type === 'directory'
        ? await directoryProblem(source)
        : await commandProblem(source, config.dir, env);
    if (message) issues.push({ path: [...at, ...message.key], message: message.text });
  }
  return issues;
}

type Problem = { key: (string | number)[]; text: string } | undefined;

async function directoryProblem(source: DirectorySourceConfig): Promise<Problem> {
  const text = (why: string) => `source ${source.name}: ${source.path} ${why}`;
  try {
    // The root may be a symbolic link to the data: the walk follows it, so stat, not lstat.
    if (!(await stat(source.path)).isDirectory()) {
      return {
        key: ['path'],
        text: text('is not a folder; a directory source needs one (use a command source for a single file)'),
      };
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return { key: ['path'], text: text(WHY[code] ?? `cannot be read (${code})`) };
  }
  try {
    await access(source.path, constants.R_OK | constants.X_OK);
  } catch {
    return { key: ['path'], text: text(`is not readable by this user (uid ${process.getuid?.()})`) };
  }
  return undefined;
}

async function commandProblem(
  source: CommandSourceConfig,
  configDir: string,
  env: NodeJS.ProcessEnv,
): Promise<Problem> {
  const cwd = source.cwd ?? configDir;
  const folder = await stat(cwd).catch(() => undefined);
  if (!folder?.isDirectory()) {
    return { key: ['cwd'], text: `source ${source.name}: working folder ${cwd} does not exist` };
  }
  const program = source.command[0]!;
  if (await findExecutable(program, cwd, env.PATH)) return undefined;
  const text = program.includes('/')
    ? `source ${source.name}: command ${program} does not exist or is not executable (relative paths start at ${cwd})`
    : `source ${source.name}: command ${program} is not on PATH (${env.PATH ?? 'PATH is not set'}); install it or give its absolute path`;
  return { key: ['command', 0], text };
}
