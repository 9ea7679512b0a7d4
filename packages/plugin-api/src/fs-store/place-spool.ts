import { constants } from 'node:fs';
import { copyFile, link, stat, unlink } from 'node:fs/promises';
import { NO_HARD_LINKS } from '../place-file.js';
import { copyDirect } from './copy-direct.js';
import { isErrno } from './errno.js';

/** link() errors that only mean "no hard link here": another file system, too many links, or none at all. */
const NO_LINK = ['EXDEV', 'EMLINK', ...NO_HARD_LINKS];

/**
 * Puts core's spool file `source` at `temp` (a new name) without writing it again, when both
 * are on one file system: the spool file itself becomes the store's file, by a hard link (a
 * 558 MB shard was copied and then fsynced, doubling what reached the disk). Only one
 * destination takes a spool file that way (core writes one for each destination on its file
 * system); false for every other one, and for any destination on another file system: those
 * copy it (copySpoolFile). So no two destinations ever share a file, and the spool's own name
 * goes when the run removes it.
 *
 * Only a private file is linked (mode 0600, one name, ours, as core's spool file is): linking
 * someone else's file would let later changes to it, or our chmod, reach the stored copy.
 */
export async function linkSpoolFile(source: string, temp: string): Promise<boolean> {
  return (await isPrivate(source)) && (await linkAlone(source, temp));
}

/**
 * Copies core's spool file `source` to `temp` (a new name): a reflink where the file system has
 * them, else a copy written past the page cache (see copy-direct.ts), else a kernel-side one
 * (copy_file_range).
 */
export async function copySpoolFile(source: string, temp: string, signal?: AbortSignal): Promise<void> {
  if (!(await reflink(source, temp)) && !(await copyDirect(source, temp, signal)))
    await copyFile(source, temp, constants.COPYFILE_EXCL);
}

/** A copy that shares the source's blocks (btrfs, XFS); false (and no `temp`) where the file system has none. */
async function reflink(source: string, temp: string): Promise<boolean> {
  try {
    await copyFile(source, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) throw error;
    await unlink(temp).catch(() => undefined);
    return false;
  }
}

async function isPrivate(path: string): Promise<boolean> {
  const info = await stat(path);
  return info.nlink === 1 && (info.mode & 0o7777) === 0o600 && info.uid === process.geteuid?.();
}

/** Links `source` at `temp`; false (and no `temp`) when it cannot, or when another destination linked it too. */
async function linkAlone(source: string, temp: string): Promise<boolean> {
  try {
    await link(source, temp);
  } catch (error) {
    if (isErrno(error, ...NO_LINK)) return false;
    throw error;
  }
  // Two names: the spool's and ours. More means another destination's put linked it at the same
  // time; both then copy, so each keeps a file of its own.
  if ((await stat(temp)).nlink === 2) return true;
  await unlink(temp);
  return false;
}
