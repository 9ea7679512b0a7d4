import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MatricError } from '@matric-backup/core';

/**
 * The restore target for a front end that may only write under configured
 * roots (`mcp`): `target` must be absolute and lie strictly inside one of
 * `roots` once symbolic links are followed (a link inside a root pointing out
 * of it does not count). Throws RESTORE_REFUSED otherwise, naming `key`.
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
  const wanted = resolve(target);
  const real = await realPathOfNearest(wanted);
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => resolve(root));
    const inside = relative(realRoot, real);
    if (inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside))
      return wanted;
  }
  throw new MatricError('RESTORE_REFUSED', `${wanted} is not inside a folder of ${key}`, {
    hint: `restore into a new folder inside one of ${roots.join(', ')}`,
  });
}

/** realpath of the deepest part of `path` that exists, the rest appended (a new target does not exist yet). */
async function realPathOfNearest(path: string): Promise<string> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...missing.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      missing.push(current.slice(parent.length).replace(/^\//, ''));
      current = parent;
    }
  }
}
