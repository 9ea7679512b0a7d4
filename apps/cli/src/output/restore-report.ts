import type { PlannedChange, RestoreAction, RestoreResult } from '@matric-backup/core';
import { restoreDocument } from '../documents/restore.js';
import type { RestoreOrigin } from '../operations/restore.js';
import { formatBytes, formatCount, formatDuration } from './format.js';
import type { Printer } from './printer.js';

const PAST: Record<RestoreAction, string> = {
  create: 'created',
  overwrite: 'overwrote',
  skip: 'skipped',
  rename: 'renamed',
};

/**
 * `--dry-run` prints every entry's action and a summary; a restore prints one
 * line, then the renamed entries, so nobody has to guess where a file went
 * (overwritten and skipped ones too with --verbose). With --json: the result,
 * with every change in a dry run and the non-create ones otherwise.
 */
export function printRestore(printer: Printer, origin: RestoreOrigin, result: RestoreResult): void {
  const from = 'destination' in origin ? `destination "${origin.destination}"` : origin.file;
  // An incremental shard: the links it was rebuilt from, base first.
  const chain = result.chain ? ` (with its chain: ${result.chain.slice(0, -1).join(', ')})` : '';
  if (printer.json) {
    printer.result(restoreDocument(origin, result));
    return;
  }
  const { summary } = result;
  const counts = (['create', 'overwrite', 'skip', 'rename'] as const)
    .filter((action) => summary[action] > 0)
    .map((action) => `${result.dryRun ? action : PAST[action]} ${summary[action]}`)
    .join(', ');
  if (result.dryRun) {
    for (const change of result.changes) printer.line(changeLine(change));
    printer.line(
      `dry run: shard ${result.id}${chain} from ${from} into ${result.to}: would ${counts || 'change nothing'} (${formatCount(result.files, 'file')}, ${formatBytes(result.bytes)}); nothing was written`,
    );
    return;
  }
  printer.line(
    `restored shard ${result.id}${chain} from ${from} to ${result.to}: ${formatCount(result.files, 'file')}, ${formatBytes(result.bytes)} in ${formatDuration(result.durationMs)}${result.conflict ? ` (${counts})` : ''}`,
  );
  for (const change of result.changes) {
    if (change.action === 'rename' || (change.action !== 'create' && printer.verbose)) {
      printer.line(`  ${changeLine(change)}`);
    }
  }
}

function changeLine(change: PlannedChange): string {
  const folder = change.kind === 'directory' ? '/' : '';
  const as = change.as ? ` -> ${change.as}${folder}` : '';
  const reason = change.reason ? ` (${change.reason})` : '';
  return `${change.action.padEnd(9)} ${change.path}${folder}${as}${reason}`;
}
