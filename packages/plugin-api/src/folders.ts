import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p`: creates `path` and the folders above it that are missing, and
 * returns the first folder it created (undefined when `path` existed), as
 * `mkdir(path, { recursive: true })` does. Written out because Node's own
 * recursive mkdir never returns when a filesystem refuses a new folder with
 * ENOENT although its parent exists (`/proc`, `/sys`): it makes the parent
 * again and retries, forever, at full CPU (Node 20; `/proc/x` hung a run).
 * Here a second ENOENT is the answer.
 */
export async function makeFolders(path: string, mode?: number): Promise<string | undefined> {
  try {
    await mkdir(path, { mode });
    return path;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return existingFolder(path, error);
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw error;
    const first = await makeFolders(parent, mode);
    try {
      await mkdir(path, { mode });
    } catch (again) {
      // Another process made it meanwhile; the folders above that this call made are still its.
      if ((again as NodeJS.ErrnoException).code === 'EEXIST')
        return (await existingFolder(path, again)) ?? first;
      throw again;
    }
    return first ?? path;
  }
}

/** A name that exists is fine only as a folder; a file there keeps mkdir's EEXIST. */
async function existingFolder(path: string, error: unknown): Promise<undefined> {
  if (!(await stat(path)).isDirectory()) throw error;
  return undefined;
}
