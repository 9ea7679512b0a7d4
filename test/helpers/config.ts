import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SourceSpec {
  name: string;
  type: 'directory' | 'command';
  [key: string]: unknown;
}

export interface DestinationSpec {
  name: string;
  type: string;
  [key: string]: unknown;
}

/**
 * Writes a backup.yaml (as JSON, which is YAML too) whose state folder is inside
 * `dir`, so every test has its own lock and spool.
 */
export async function writeConfig(
  dir: string,
  backup: { sources: SourceSpec[]; destinations: DestinationSpec[]; [key: string]: unknown },
  name = 'backup.yaml',
): Promise<string> {
  const file = join(dir, name);
  const document = { backup: { state_dir: join(dir, 'state'), ...backup } };
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

/** Every file below `root` (relative paths), or [] when it does not exist. */
export async function filesUnder(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => !entry.isDirectory())
      .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
