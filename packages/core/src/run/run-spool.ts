import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MatricError, makeFolders } from '@matric-backup/plugin-api';
import { onInterrupt } from '../util/interrupt.js';
import { ownerTag, removeLeftoversOfGone } from '../util/process-identity.js';

/** `run-<pid>-<start time of that pid, or empty>-<random>`: the owner can be checked from the name alone. */
const RUN_FOLDER = /^run-(\d+)-(\d*)-[0-9a-f]+$/;

export interface RunSpool {
  /** This run's own folder inside the spool folder (0700). */
  dir: string;
  /** Removes the folder and everything in it; synchronous and safe to call twice. */
  remove(): void;
}

/**
 * A spool folder of this run's own inside `spoolDir`. Runs of different
 * configs may share one spool folder (a shared `state_dir`): each only ever
 * writes into and removes its own folder, so one run's cleanup never touches
 * another's files. Folders of runs that are provably gone (their pid no longer
 * runs with the recorded start time: a `kill -9`, a power loss) are removed
 * here; anything else in the spool folder is left alone.
 */
export async function createRunSpool(spoolDir: string): Promise<RunSpool> {
  try {
    await makeFolders(spoolDir, 0o700);
  } catch (error) {
    throw spoolFolderError(spoolDir, error);
  }
  removeLeftoversOfGone(spoolDir, RUN_FOLDER);
  const dir = join(spoolDir, `run-${ownerTag()}-${randomBytes(4).toString('hex')}`);
  const remove = () => rmSync(dir, { recursive: true, force: true });
  // Registered before the folder exists: a signal handled between mkdir and the line after it
  // would otherwise exit with the folder left behind.
  const forget = onInterrupt(remove);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    forget();
    throw spoolFolderError(spoolDir, error);
  }
  return {
    dir,
    remove: () => {
      forget();
      remove();
    },
  };
}

function spoolFolderError(spoolDir: string, error: unknown): MatricError {
  const errno = (error as NodeJS.ErrnoException)?.code;
  return new MatricError(
    errno === 'ENOSPC' || errno === 'EDQUOT' ? 'NO_SPACE' : 'UNKNOWN',
    `could not write the shard to ${spoolDir}: cannot create a spool folder there: ${(error as Error).message}`,
    { cause: error, hint: 'backup.spool_dir must be a folder this user can write, with free space' },
  );
}
