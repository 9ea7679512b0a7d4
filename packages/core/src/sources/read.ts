import { closeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SourceConfig } from '../config/schema.js';
import { spoolCommandOutput } from './command.js';
import { type ExcludedListener, folderKey, walkDirectorySync } from './directory.js';
import type { SourceProblems } from './problems.js';
import type { SourceEntry, SourceOrigin } from './types.js';

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
  /**
   * Folders never archived even when a source contains them, each with what it
   * is: the state folder, the folders destinations write into. The spool folder
   * is always one of them.
   */
  leaveOut?: readonly FolderToLeaveOut[];
  /**
   * What of each source's entries goes on (an incremental run's change
   * detector): run inside the walk's synchronous loop, so that it costs no
   * promise per entry.
   */
  select?: (entries: Iterable<SourceEntry>) => Iterable<SourceEntry>;
  /** Hears each path an exclude rule left out (`run -vv`). */
  onExcluded?: ExcludedListener;
}

/** A folder no source may archive, and what it is (for the notice). */
export interface FolderToLeaveOut {
  path: string;
  /** Completes "it is ...": `the state folder`, `the folder of destination local`. */
  what: string;
}

/** Every entry of every source, in config order; each source under `<name>/`. */
export async function* readSources(
  sources: readonly SourceConfig[],
  options: ReadSourcesOptions,
): AsyncGenerator<SourceEntry> {
  const skip = await foldersToSkip([
    { path: options.spoolDir, what: 'the spool folder' },
    ...(options.leaveOut ?? []),
  ]);
  const select = options.select ?? ((entries: Iterable<SourceEntry>) => entries);
  for (const source of sources) {
    if (source.type === 'directory') {
      yield* select(walkDirectorySync(source, options.problems, skip, options.onExcluded));
      continue;
    }
    const file = join(options.dumpDir, `source-${source.name}`);
    const fd = await spoolCommandOutput(source, file, options.configDir);
    try {
      yield* select([
        { type: 'directory', path: source.name, mode: 0o755, mtimeMs: Date.now() },
        { type: 'file', path: `${source.name}/${source.filename}`, absolute: file, fd },
      ]);
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

/**
 * The folders that exist, by `folderKey` (however a source reaches them:
 * symlinked parents, bind mounts), with what each is: walkDirectory leaves
 * them out with a notice.
 */
export async function foldersToSkip(folders: readonly FolderToLeaveOut[]): Promise<Map<string, string>> {
  const skip = new Map<string, string>();
  for (const { path, what } of folders) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory() && !skip.has(folderKey(info))) skip.set(folderKey(info), what);
  }
  return skip;
}
