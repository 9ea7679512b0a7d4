import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Whether a destination folder is on the spool folder's file system: a local
 * destination there keeps the spool file itself (linked into place, then
 * fsynced), so it is worth writing to the disk while it is made (SpoolFile's
 * writeback). A spool file that is only read for uploads need never reach the
 * disk: it is removed once they are done.
 */
export async function spoolKeptInPlace(spoolDir: string, folders: readonly string[]): Promise<boolean> {
  if (folders.length === 0) return false;
  const spool = await deviceOf(spoolDir);
  if (spool === undefined) return false;
  for (const folder of folders) if ((await deviceOf(folder)) === spool) return true;
  return false;
}

/** The device of `path`, or of its nearest existing folder (a destination folder is made by its first put). */
async function deviceOf(path: string): Promise<number | undefined> {
  for (let at = path; ; at = dirname(at)) {
    const info = await stat(at).catch(() => undefined);
    if (info) return info.dev;
    if (dirname(at) === at) return undefined;
  }
}
