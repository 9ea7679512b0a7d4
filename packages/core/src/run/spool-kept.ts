import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The destinations that keep a spool file where it is, in the order given: those whose folder
 * is on the spool folder's file system, where a local destination links the spool file into
 * place instead of copying it. Each gets a file of its own, written while the shard is made and
 * past the page cache (see SpoolFile), so that three local destinations on one disk cost about
 * what one does. A spool file that is only read for uploads need never reach the disk: it is
 * removed once they are done.
 */
export async function spoolKeepers(
  spoolDir: string,
  destinations: ReadonlyArray<{ name: string; folder: string | undefined }>,
): Promise<string[]> {
  const spool = await deviceOf(spoolDir);
  if (spool === undefined) return [];
  const keepers: string[] = [];
  for (const { name, folder } of destinations)
    if (folder !== undefined && (await deviceOf(folder)) === spool) keepers.push(name);
  return keepers;
}

/** The device of `path`, or of its nearest existing folder (a destination folder is made by its first put). */
async function deviceOf(path: string): Promise<number | undefined> {
  for (let at = path; ; at = dirname(at)) {
    const info = await stat(at).catch(() => undefined);
    if (info) return info.dev;
    if (dirname(at) === at) return undefined;
  }
}

/** The spool file a destination reads or keeps, and for a keeper whose spare was given up, how. */
export interface SpoolFileChoice {
  file: string;
  /**
   * A keeper whose own file was given up (a disk filling up) waits for this destination, the
   * first keeper, to be done, and is then handed the bytes as a stream: it can neither take the
   * first keeper's file by a hard link at the same moment (two that do both back off and copy)
   * nor fill the disk before the first keeper has stored its index and sidecar.
   */
  after?: string;
}

/**
 * Which spool file each destination takes: the first keeper the spool file itself, each further
 * keeper a spare of its own, every other destination the spool file, read for its upload (as
 * does every keeper where no spares could be written: the first to link it keeps it, the
 * others copy it).
 */
export function spoolFileFor(
  keepers: readonly string[],
  { file, spares }: { file: string; spares: ReadonlyArray<string | undefined> },
): (destination: string) => SpoolFileChoice {
  return (destination) => {
    const spare = keepers.indexOf(destination) - 1;
    if (spare < 0 || spare >= spares.length) return { file };
    return spares[spare] ? { file: spares[spare] } : { file, after: keepers[0]! };
  };
}
