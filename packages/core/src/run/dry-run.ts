import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import type { SourceConfig } from '../config/schema.js';
import { walkDirectory } from '../sources/directory.js';
import { sourceReadError } from '../sources/errors.js';
import { foldersToSkip } from '../sources/read.js';
import type { WarningSink } from '../sources/types.js';
import type { DryRunPlan } from './types.js';

/**
 * Walks the directory sources as a run would and opens each file once (so an
 * unreadable one fails here too) without reading it. Command sources are
 * listed, not run: their output may be expensive and they may have effects.
 */
export async function planSources(
  sources: readonly SourceConfig[],
  spoolDir: string,
  warn: WarningSink,
): Promise<Omit<DryRunPlan, 'key' | 'destinations'>> {
  const skip = await foldersToSkip(spoolDir);
  const plan: Omit<DryRunPlan, 'key' | 'destinations'> = {
    files: 0,
    directories: 0,
    symlinks: 0,
    bytesIn: 0,
    commands: [],
  };
  for (const source of sources) {
    if (source.type === 'command') {
      plan.commands.push({ source: source.name, command: [...source.command] });
      plan.directories++;
      continue;
    }
    for await (const entry of walkDirectory(source, warn, skip)) {
      if (entry.type === 'directory') plan.directories++;
      else if (entry.type === 'symlink') plan.symlinks++;
      else {
        plan.files++;
        plan.bytesIn += sizeOfReadable(source.name, entry.absolute);
      }
    }
  }
  return plan;
}

function sizeOfReadable(source: string, path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    throw sourceReadError(source, path, error);
  }
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
