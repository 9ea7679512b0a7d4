import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * Where `program` would be run from, the way spawn (execvp) finds it: a name
 * with a slash is a path (relative to `cwd`), anything else is looked up in
 * each PATH folder in order. Undefined when nothing executable is there.
 */
export async function findExecutable(
  program: string,
  cwd: string,
  path: string | undefined,
): Promise<string | undefined> {
  if (program.includes('/')) {
    const file = isAbsolute(program) ? program : resolve(cwd, program);
    return (await isExecutableFile(file)) ? file : undefined;
  }
  // An empty PATH entry means the current folder, as in the shell.
  for (const folder of (path ?? '').split(delimiter)) {
    const file = join(folder === '' ? cwd : resolve(cwd, folder), program);
    if (await isExecutableFile(file)) return file;
  }
  return undefined;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
