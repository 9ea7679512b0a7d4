import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTemporaryKey } from '../temporary-keys.js';
import { isErrno } from './errno.js';

/**
 * Keys of the regular files under `root` whose key starts with `prefix`, each
 * folder in name order. A prefix is a string prefix, not a folder: `p` matches
 * `p/a`, `p2/b` and `pa`. Only the folder the prefix fully names is walked, and
 * within it only matching entries. Folders, symlinks and temporary files of
 * unfinished puts are not objects; with `temporary`, only those temporary files
 * are yielded.
 */
export async function* walkKeys(
  root: string,
  prefix: string,
  { temporary = false } = {},
): AsyncGenerator<{ key: string; path: string }> {
  const cut = prefix.lastIndexOf('/');
  const base = prefix.slice(0, cut + 1);
  const namePrefix = prefix.slice(cut + 1);
  yield* walk(join(root, base), base, namePrefix, temporary);
}

async function* walk(
  folder: string,
  keyBase: string,
  namePrefix: string,
  temporary: boolean,
): AsyncGenerator<{ key: string; path: string }> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    // A prefix naming no folder (or a file) simply matches nothing.
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return;
    throw error;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (!entry.name.startsWith(namePrefix)) continue;
    const key = keyBase + entry.name;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* walk(path, `${key}/`, '', temporary);
    else if (entry.isFile() && (parseTemporaryKey(entry.name) !== undefined) === temporary)
      yield { key, path };
  }
}
