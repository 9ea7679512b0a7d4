import { mkdir, mkdtemp, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MatricError } from '../errors.js';

/**
 * The restore target and the temporary folder beside it (same filesystem, so the
 * final move is a rename). Nothing touches the target until `commit`; `discard`
 * puts everything back as it was.
 */
export interface StagedTarget {
  /** Absolute path of the target folder. */
  target: string;
  /** Where the archive is extracted: `.<basename>.restore-<random>` beside the target. */
  temp: string;
  /** Moves the temp folder's contents into the target. */
  commit(): Promise<void>;
  /** Removes the temp folder and any parent folder this restore created. */
  discard(): Promise<void>;
}

const refuse = (message: string) =>
  new MatricError('RESTORE_REFUSED', message, {
    hint: 'choose a folder that does not exist yet, or an empty one',
  });

export async function stageTarget(to: string): Promise<StagedTarget> {
  let target = resolve(to);
  let existed = false;
  try {
    const info = await stat(target);
    if (!info.isDirectory()) throw refuse(`restore target ${target} exists and is not a folder`);
    if ((await readdir(target)).length > 0) throw refuse(`restore target ${target} is not empty`);
    // A symlinked target: stage beside the real folder so the final move stays a rename.
    target = await realpath(target);
    existed = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }

  const parent = dirname(target);
  const createdParent = await mkdir(parent, { recursive: true });
  const discardParent = () =>
    createdParent ? rm(createdParent, { recursive: true, force: true }) : Promise.resolve();
  let temp: string;
  try {
    temp = await mkdtemp(join(parent, `.${basename(target)}.restore-`));
  } catch (error) {
    await discardParent();
    throw error;
  }

  return {
    target,
    temp,
    async commit() {
      if (!existed) {
        // Fails with EEXIST/ENOTEMPTY if someone filled the target meanwhile.
        await rename(temp, target);
        return;
      }
      await moveEntries(temp, target);
      await rmdir(temp);
    },
    async discard() {
      await rm(temp, { recursive: true, force: true, maxRetries: 3 });
      await discardParent();
    },
  };
}

/** Moves every entry of `from` into `to`; on failure moves the moved ones back. */
async function moveEntries(from: string, to: string): Promise<void> {
  const moved: string[] = [];
  try {
    for (const name of await readdir(from)) {
      await rename(join(from, name), join(to, name));
      moved.push(name);
    }
  } catch (error) {
    for (const name of moved.reverse()) await rename(join(to, name), join(from, name)).catch(() => undefined);
    throw error;
  }
}
