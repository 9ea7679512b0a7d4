import { closeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SourceConfig } from '../config/schema.js';
import type { SourceOrigin } from '../shard/manifest.js';
import { spoolCommandOutput } from './command.js';
import { folderKey, walkDirectory } from './directory.js';
import type { SourceProblems } from './problems.js';
import type { SourceEntry } from './types.js';

export interface ReadSourcesOptions {
  /**
   * The spool folder: never archived, even when a source contains it (the
   * archive is being written into it).
   */
  spoolDir: string;
  /** This run's own folder inside it, where command output is spooled (see spoolCommandOutput). */
  dumpDir: string;
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
    const file = join(options.dumpDir, `source-${source.name}`);
    const fd = await spoolCommandOutput(source, file, options.configDir);
    try {
      yield { type: 'directory', path: source.name, mode: 0o755, mtimeMs: Date.now() };
      yield { type: 'file', path: `${source.name}/${source.filename}`, absolute: file, fd };
    } finally {
      // Resumed once the consumer archived the file (or gave up): closing the unlinked dump frees it.
      closeSync(fd);
    }
  }
}

/** Each source's name, type and absolute path, for the manifests (`restore --in-place` reads them). */
export function sourceOrigins(sources: readonly SourceConfig[]): SourceOrigin[] {
  return sources.map((source) =>
    source.type === 'directory'
      ? { name: source.name, type: 'directory', path: resolve(source.path) }
      : { name: source.name, type: 'command' },
  );
}

/** The spool folder, when it exists, as a key walkDirectory skips. */
export async function foldersToSkip(spoolDir: string): Promise<Set<string>> {
  const spool = await stat(spoolDir).catch(() => undefined);
  return new Set(spool ? [folderKey(spool)] : []);
}
