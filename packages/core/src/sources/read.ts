import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceConfig } from '../config/schema.js';
import { spoolCommandOutput } from './command.js';
import { folderKey, walkDirectory } from './directory.js';
import type { SourceProblems } from './problems.js';
import type { SourceEntry } from './types.js';

export interface ReadSourcesOptions {
  /**
   * Command output is spooled here (0600) until archived, then removed. The
   * folder itself is never archived, even when a source contains it: the
   * archive is being written into it.
   */
  spoolDir: string;
  /** Prefix of the spool files, so a run's leftovers are recognisable. */
  spoolPrefix: string;
  /** Folder of the config file: a command's relative `cwd` is resolved against it. */
  configDir: string;
  problems: SourceProblems;
}

/** Every entry of every source, in config order; each source under `<name>/`. */
export async function* readSources(
  sources: readonly SourceConfig[],
  options: ReadSourcesOptions,
): AsyncGenerator<SourceEntry> {
  const skip = await foldersToSkip(options.spoolDir);
  for (const source of sources) {
    if (source.type === 'directory') {
      yield* walkDirectory(source, options.problems, skip);
      continue;
    }
    const file = join(options.spoolDir, `${options.spoolPrefix}.source-${source.name}.partial`);
    try {
      await spoolCommandOutput(source, file, options.configDir);
      yield { type: 'directory', path: source.name, mode: 0o755, mtimeMs: Date.now() };
      yield { type: 'file', path: `${source.name}/${source.filename}`, absolute: file };
    } finally {
      // Resumed once the consumer archived the file (or gave up): the dump must not outlive the run.
      await rm(file, { force: true });
    }
  }
}

/** The spool folder, when it exists, as a key walkDirectory skips. */
export async function foldersToSkip(spoolDir: string): Promise<Set<string>> {
  const spool = await stat(spoolDir).catch(() => undefined);
  return new Set(spool ? [folderKey(spool)] : []);
}
