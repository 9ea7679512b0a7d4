import { link, lstat, rename, unlink } from 'node:fs/promises';
import { DestinationError } from './errors.js';

// What link() gives on a filesystem without hard links (FAT, exFAT, some FUSE and network mounts).
export const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Gives a finished temporary file (written and fsynced) its final name on a
 * filesystem, for a put. Without `ifAbsent` a rename replaces an existing file
 * atomically. With `ifAbsent` a hard link gives the file its name only if that
 * name is free: the kernel refuses an existing one (EEXIST), so of two writers
 * racing for one name exactly one wins and nothing is replaced; the temporary
 * name is then removed. On a filesystem without hard links the name is checked
 * just before the rename (a narrow race the caller's read-back must catch).
 * Throws DestinationError ALREADY_EXISTS when the name is taken; the temporary
 * file is left for the caller to remove.
 */
export async function placeFile(temporary: string, target: string, { ifAbsent = false } = {}): Promise<void> {
  if (!ifAbsent) return rename(temporary, target);
  try {
    await link(temporary, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw alreadyExists(target, error);
    if (!NO_HARD_LINKS.has(code)) throw error;
    if (
      await lstat(target).then(
        () => true,
        () => false,
      )
    )
      throw alreadyExists(target);
    return rename(temporary, target);
  }
  // The file has its name now: the temporary one may already be gone (a put aborted at this
  // moment removes it), and that must not turn a stored object into a failed put.
  await unlink(temporary).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

function alreadyExists(target: string, cause?: unknown): DestinationError {
  return new DestinationError('ALREADY_EXISTS', `${target} exists; it was left as it is`, {
    cause,
    retryable: false,
  });
}
