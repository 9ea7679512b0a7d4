import type { Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MatricError } from '@matric-backup/core';

/** Where a restore target really leads, or why it may not be written. */
export type RootCheck = { inside: true; path: string } | { inside: false; reason: string };

/**
 * The one check of a restore target against the folders a front end may write
 * under (`backup.api.restore_roots`, read by the API and `mcp`). `target` must
 * be absolute. It is walked one component at a time, as the kernel would: `..`
 * goes up from where the walk really is, a symbolic link is followed, and the
 * part that does not exist yet is taken as it reads (the restore creates it).
 * Refused: a path that does not end strictly inside a root, a link that dangles
 * (what it points at could be created anywhere later), and a link met inside a
 * root that leads out of it. On success, `path` is the resolved target: the
 * restore writes there, not through the links again.
 */
export async function checkRestoreTarget(target: string, roots: readonly string[]): Promise<RootCheck> {
  const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => resolve(root))));
  const rootOf = (path: string) => realRoots.find((root) => within(root, path, true));
  let current: string = sep;
  for (const part of target.split(sep)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    let stats: Stats | undefined;
    try {
      stats = await lstat(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        return { inside: false, reason: `${next} cannot be checked (${(error as Error).message})` };
      }
    }
    if (!stats?.isSymbolicLink()) {
      current = next;
      continue;
    }
    const followed = await realpath(next).catch(() => undefined);
    if (followed === undefined) {
      return { inside: false, reason: `${next} is a symbolic link to nothing (it dangles)` };
    }
    const root = rootOf(current);
    if (root !== undefined && !within(root, followed, true)) {
      return { inside: false, reason: `${next} is a symbolic link leading out of ${root}` };
    }
    current = followed;
  }
  if (realRoots.some((root) => within(root, current, false))) return { inside: true, path: current };
  return { inside: false, reason: `${current} is not inside a restore root` };
}

/** Whether `path` lies inside `root` (or is `root`, when `orSame`); both absolute and resolved. */
function within(root: string, path: string, orSame: boolean): boolean {
  const inside = relative(root, path);
  if (inside === '') return orSame;
  return inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}

/**
 * The restore target for `mcp`: `target` must be absolute and pass
 * checkRestoreTarget. Throws RESTORE_REFUSED otherwise, naming `key`.
 */
export async function targetInsideRoots(
  target: string,
  roots: readonly string[],
  key: string,
): Promise<string> {
  if (roots.length === 0) {
    throw new MatricError('RESTORE_REFUSED', `restoring is off: ${key} lists no folder to restore into`, {
      hint: `add a folder to ${key} in the config (a target must be inside one), then restart the server`,
    });
  }
  if (!isAbsolute(target)) {
    throw new MatricError(
      'RESTORE_REFUSED',
      `the target must be an absolute path, not ${JSON.stringify(target)}`,
      {
        hint: `restore into a folder inside ${roots.join(', ')}`,
      },
    );
  }
  const checked = await checkRestoreTarget(target, roots);
  if (checked.inside) return checked.path;
  throw new MatricError('RESTORE_REFUSED', `cannot restore into ${target}: ${checked.reason} (${key})`, {
    hint: `restore into a new folder inside one of ${roots.join(', ')}`,
  });
}
