import { lstatSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MatricError, makeFolders } from '@matric-backup/plugin-api';
import { onInterrupt } from '../util/interrupt.js';
import { CONFLICT_STRATEGIES, type ConflictStrategy } from './plan.js';

export interface TargetState {
  /** Absolute path of the target folder (its real path when it exists). */
  target: string;
  exists: boolean;
}

/**
 * Where a restore goes, checked before anything is read: a folder or nothing;
 * a folder with something in it only when a conflict strategy says what to do.
 */
export async function inspectTarget(to: string, strategy?: ConflictStrategy): Promise<TargetState> {
  const target = resolve(to);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { target, exists: false };
    throw error;
  }
  if (!info.isDirectory()) {
    throw new MatricError('RESTORE_REFUSED', `restore target ${target} exists and is not a folder`, {
      hint: 'choose a folder that does not exist yet, or a folder',
    });
  }
  if (!strategy && (await readdir(target)).length > 0) {
    throw new MatricError('RESTORE_REFUSED', `restore target ${target} is not empty`, {
      hint: `choose an empty folder, or say what to do with entries that exist: --conflict ${CONFLICT_STRATEGIES.join(' | ')} (see --dry-run first)`,
    });
  }
  // A symlinked target: stage beside the real folder so the moves stay renames.
  return { target: await realpath(target), exists: true };
}

/**
 * The temporary folder the archive is extracted into, on the target's file
 * system so moving into the target is renaming: beside the target
 * (`.<name>.restore-<random>`), or inside it when the target is a mount point.
 */
export interface StagedTarget {
  temp: string;
  /** Device of the temporary folder. */
  device: number;
  /** Removes the temporary folder (what was skipped or replaced), and on failure any parent folder created for the target. */
  cleanup(failed: boolean): Promise<void>;
}

export async function stageTarget({ target, exists }: TargetState): Promise<StagedTarget> {
  const parent = dirname(target);
  const createdParent = exists ? undefined : await makeFolders(parent);
  const removeParent = () =>
    createdParent ? rm(createdParent, { recursive: true, force: true }) : Promise.resolve();
  let temp: string;
  try {
    const mountPoint = exists && lstatSync(target).dev !== lstatSync(parent).dev;
    const inside = () => mkdtemp(join(target, '.matric-restore-'));
    temp = mountPoint
      ? await inside()
      : await mkdtemp(join(parent, `.${basename(target)}.restore-`)).catch((error: unknown) => {
          // A folder of one's own in a parent one cannot write (/srv/alice): stage inside it instead.
          if (exists && isPermissionError(error)) return inside();
          throw error;
        });
  } catch (error) {
    await removeParent();
    throw error;
  }
  // Interrupted before the moves, the target is untouched; after them, only leftovers remain here.
  // maxRetries: the write thread may still be finishing its last operation (see FileWriter.halt),
  // so a folder can gain an entry between the listing and its rmdir (ENOTEMPTY).
  const forget = onInterrupt(() => rmSync(temp, { recursive: true, force: true, maxRetries: 5 }));
  return {
    temp,
    device: lstatSync(temp).dev,
    async cleanup(failed) {
      await rm(temp, { recursive: true, force: true, maxRetries: 3 });
      forget();
      if (failed) await removeParent();
    },
  };
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}
