import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import type { SourceConfig } from '../config/schema.js';
import { walkDirectory } from '../sources/directory.js';
import { SourceProblems } from '../sources/problems.js';
import { type FolderToLeaveOut, foldersToSkip } from '../sources/read.js';
import type { WarningSink } from '../sources/types.js';
import type { DryRunPlan } from './types.js';

/**
 * Walks the directory sources as a run would and opens each file once (so an
 * unreadable one is reported here too) without reading it. Command sources are
 * listed, not run: their output may be expensive and they may have effects.
 */
export async function planSources(
  sources: readonly SourceConfig[],
  /** The spool and state folders: left out as a run leaves them out. */
  leaveOut: readonly FolderToLeaveOut[],
  warn: WarningSink,
): Promise<Omit<DryRunPlan, 'key' | 'destinations'>> {
  const skip = await foldersToSkip(leaveOut);
  const problems = new SourceProblems(sources, warn);
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
    for await (const entry of walkDirectory(source, problems, skip)) {
      if (entry.type === 'directory') plan.directories++;
      else if (entry.type === 'symlink') plan.symlinks++;
      else {
        plan.files++;
        plan.bytesIn += sizeOfReadable(problems, source.name, entry);
      }
    }
  }
  return plan;
}

/** The file's size; 0, and reported as a run would, when it cannot be opened. */
function sizeOfReadable(
  problems: SourceProblems,
  source: string,
  entry: { path: string; absolute: string; open?: string | Buffer },
): number {
  let fd: number;
  try {
    fd = openSync(
      entry.open ?? entry.absolute,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
  } catch (error) {
    problems.report({ source, ...entry }, error);
    return 0;
  }
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
