import { type DestinationPrune, plannedDeletions } from '../prune-outcome.js';
import { formatBytes, formatCount, formatTime } from './format.js';
import type { Printer } from './printer.js';
import { renderTable } from './table.js';

/**
 * Every shard with keep or delete and why (`last 2`, `daily 2026-11-23`,
 * `min_backups`, `size limit`), newest first per destination, incomplete shards
 * after them; then one line per destination with what was (or would be) freed.
 */
export function printPruneReport(printer: Printer, outcomes: DestinationPrune[], dryRun: boolean): void {
  const { style } = printer;
  const rows: string[][] = [];
  for (const { name, result } of outcomes) {
    if (!result) continue;
    const failed = new Set(result.failed.map((failure) => failure.id));
    const action = (planned: 'keep' | 'delete', id: string) => {
      if (planned === 'keep') return style.ok('keep');
      if (dryRun) return style.warn('delete');
      return failed.has(id) ? style.bad('FAILED') : style.warn('deleted');
    };
    for (const decision of result.decisions) {
      const why = decision.reasons.join(', ') || 'no rule keeps it';
      rows.push([
        name,
        decision.id,
        formatTime(decision.createdAt),
        formatBytes(decision.size),
        action(decision.action, decision.id),
        why,
      ]);
    }
    for (const shard of result.legacy) {
      rows.push([
        name,
        shard.id,
        formatTime(shard.createdAt),
        formatBytes(shard.size),
        style.ok('keep'),
        "written before configs had names and not in this config's run history: `matric-backup delete ID` removes it",
      ]);
    }
    for (const leftover of result.leftovers) {
      rows.push([
        name,
        leftover.name,
        formatTime(leftover.modified),
        formatBytes(leftover.size),
        action(leftover.action, leftover.name),
        `temporary object of an unfinished upload of ${leftover.key} (this config), ${leftover.action === 'delete' ? 'older than a day' : 'younger than a day: may still be uploading'}`,
      ]);
    }
    for (const shard of result.incomplete) {
      rows.push([
        name,
        shard.id,
        formatTime(shard.modified),
        formatBytes(shard.size),
        action(shard.action, shard.id),
        `incomplete (${shard.reason}): ${shard.why}`,
      ]);
    }
  }
  if (rows.length > 0) {
    printer.line(renderTable(['DESTINATION', 'ID', 'CREATED', 'SIZE', 'ACTION', 'REASON'], rows));
  }

  for (const { name, policy, result, error } of outcomes) {
    if (error) {
      printer.line(`${name}: ${style.bad('FAILED')} ${error.code}: ${error.message}`);
      continue;
    }
    if (!result) continue;
    const kept = result.decisions.filter((decision) => decision.action === 'keep').length;
    const doomed = plannedDeletions(result);
    const sizeOf = new Map([
      ...result.decisions.map((decision) => [decision.id, decision.size] as const),
      ...result.incomplete.map((shard) => [shard.id, shard.size] as const),
    ]);
    const done = dryRun ? doomed : result.deleted;
    const bytes = done.reduce((sum, id) => sum + (sizeOf.get(id) ?? 0), 0);
    const parts = dryRun
      ? [
          `would keep ${formatCount(kept, 'shard')}`,
          `delete ${formatCount(doomed.length, 'shard')} (${formatBytes(bytes)})`,
        ]
      : [
          `kept ${formatCount(kept, 'shard')}`,
          `deleted ${formatCount(done.length, 'shard')} (${formatBytes(bytes)})`,
        ];
    const unremoved = new Set(result.failed.map((failure) => failure.id));
    const stale = result.leftovers.filter(
      (leftover) => leftover.action === 'delete' && (dryRun || !unremoved.has(leftover.name)),
    );
    if (stale.length > 0) {
      const leftoverBytes = formatBytes(stale.reduce((sum, leftover) => sum + leftover.size, 0));
      parts.push(
        `${dryRun ? 'remove' : 'removed'} ${formatCount(stale.length, 'leftover')} of killed uploads (${leftoverBytes})`,
      );
    }
    if (result.failed.length > 0) parts.push(style.bad(`${result.failed.length} could not be deleted`));
    if (result.foreign > 0)
      parts.push(`${formatCount(result.foreign, 'shard')} of other configs or hosts left alone`);
    if (result.future.length > 0)
      parts.push(style.warn(`${formatCount(result.future.length, 'shard')} dated in the future kept`));
    printer.line(`${name}: ${parts.join(', ')}`);
    if (!policy)
      printer.note(
        `${name}: no retention policy (backup.retention or the destination's retention): every complete shard is kept`,
      );
    for (const failure of result.failed)
      printer.warn(`${name}: could not delete ${failure.id}: ${failure.message}`);
  }
  if (dryRun) printer.note('dry run: nothing was deleted');
}
