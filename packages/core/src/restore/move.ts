import { lstatSync, lutimesSync, mkdtempSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';
import { fsPath } from '../util/names.mjs';
import type { RestorePlan } from './plan.js';

/**
 * Carries out the plans' renames from each temporary folder into its target
 * (one for `--to`, one per source for `--in-place`), all or nothing. An
 * entry being replaced is first moved aside into the temporary folder, not
 * deleted, so that if any rename fails (the plan ruled out the predictable
 * reasons) every one already done is undone in reverse order and the target is
 * as it was, down to the modification times of the folders renamed into. When
 * all went well, the folders that were there before keep their own mtime too
 * (the renames into them changed it). The entries moved aside go with the
 * temporary folder afterwards. Just before each
 * rename, every folder above both ends is checked with lstat: a symlink put in
 * place of a folder since the plan (in the target or the temporary folder)
 * stops the moves rather than be written through.
 */
export function moveIntoTarget(batches: ReadonlyArray<MoveBatch>): void {
  // Folders of the targets moved into, and the folders a new target is made in (not the restore's own).
  const insideTimes = timesOf(
    batches.flatMap(({ plan, target }) =>
      plan.moves.filter((move) => move.to).map((move) => dirname(join(target, move.to))),
    ),
  );
  const aboveTimes = timesOf(
    batches.flatMap(({ plan, target }) => (plan.moves.some((move) => !move.to) ? [dirname(target)] : [])),
  );
  const done: Array<{ from: string; to: string }> = [];
  const rename = (from: string, to: string) => {
    renameSync(fsPath(from), fsPath(to));
    done.push({ from, to });
  };
  try {
    for (const { plan, temp, target } of batches) {
      let aside: string | undefined;
      for (const move of plan.moves) {
        foldersAbove(temp, move.from);
        foldersAbove(target, move.to);
        const to = move.to ? join(target, move.to) : target;
        if (move.replace) {
          aside ??= mkdtempSync(join(temp, '.replaced-'));
          rename(to, join(aside, String(done.length)));
        }
        rename(move.from ? join(temp, move.from) : temp, to);
      }
    }
    setTimes(insideTimes);
  } catch (error) {
    const target = batches.map((batch) => batch.target).join(', ');
    const stuck = undo(done);
    setTimes(insideTimes);
    setTimes(aboveTimes);
    const { code } = error as NodeJS.ErrnoException;
    throw new MatricError(
      error instanceof LinkInTheWay
        ? 'RESTORE_REFUSED'
        : code === 'EACCES' || code === 'EPERM'
          ? 'PERMISSION_DENIED'
          : code === 'ENOSPC'
            ? 'NO_SPACE'
            : 'UNKNOWN',
      `moving the restored files into ${target} failed: ${(error as Error).message}; ${
        stuck.length === 0
          ? `every move was undone, ${target} left unchanged`
          : `could not move back: ${stuck.join(', ')}`
      }`,
      { cause: error },
    );
  }
}

/** One target's plan, carried out from its temporary folder (each target has its own, on its file system). */
export interface MoveBatch {
  plan: RestorePlan;
  temp: string;
  target: string;
}

/** A folder on the way of a move is not a real folder (any more). */
class LinkInTheWay extends Error {}

/** Throws LinkInTheWay unless every folder between `root` and the entry `relative` is a real folder. */
function foldersAbove(root: string, relative: string): void {
  for (let end = relative.indexOf('/'); end > 0; end = relative.indexOf('/', end + 1)) {
    const folder = join(root, relative.slice(0, end));
    const info = lstatSync(fsPath(folder), { throwIfNoEntry: false });
    if (!info?.isDirectory()) {
      throw new LinkInTheWay(
        `${folder} is ${info?.isSymbolicLink() ? 'a symbolic link' : info ? 'not a folder' : 'missing'} (changed during the restore?); nothing is written through it`,
      );
    }
  }
}

/** Reverses the renames, newest first; returns the paths that could not be put back. */
function undo(done: Array<{ from: string; to: string }>): string[] {
  const stuck: string[] = [];
  for (const { from, to } of done.reverse()) {
    try {
      renameSync(fsPath(to), fsPath(from));
    } catch {
      stuck.push(from);
    }
  }
  return stuck;
}

/** Puts back the times of folders; lutimes, so a folder swapped for a link since is not written through. */
function setTimes(times: Map<string, { atime: Date; mtime: Date }>): void {
  for (const [folder, info] of times) {
    try {
      if (lstatSync(fsPath(folder), { throwIfNoEntry: false })?.isDirectory())
        lutimesSync(fsPath(folder), info.atime, info.mtime);
    } catch {
      // Only a timestamp: the entries themselves are what must be in place.
    }
  }
}

function timesOf(folders: string[]): Map<string, { atime: Date; mtime: Date }> {
  const times = new Map<string, { atime: Date; mtime: Date }>();
  for (const folder of new Set(folders)) {
    const info = lstatSync(fsPath(folder), { throwIfNoEntry: false });
    if (info?.isDirectory()) times.set(folder, { atime: info.atime, mtime: info.mtime });
  }
  return times;
}
