import type { LoadedConfig, RunSummary } from '@matric-backup/core';
import { whereIs } from '../destinations.js';
import { formatBytes, formatCount, formatDuration } from './format.js';
import type { Printer } from './printer.js';
import { renderTable } from './table.js';

/**
 * The human report of a run: the shard and, per destination, where it is or
 * why it is not there. The run's error is repeated on stderr (core already
 * warned about failed optional destinations), so stderr alone tells what went wrong.
 */
export function printRunSummary(printer: Printer, config: LoadedConfig, summary: RunSummary): void {
  if (summary.dryRun) {
    printPlan(printer, summary);
    return;
  }
  const { style } = printer;
  const archive = summary.archive;
  const facts = archive
    ? [
        formatCount(archive.files, 'file'),
        `${formatBytes(archive.bytesIn)} read`,
        `${formatBytes(archive.size)} stored as ${summary.manifest?.compression ?? config.backup.compression.algorithm}`,
      ]
    : [];
  facts.push(formatDuration(summary.durationMs));
  printer.line(`shard ${style.bold(summary.id)}  ${facts.join(', ')}`);
  const manifest = summary.manifest;
  if (manifest?.type === 'incremental') {
    const { created, modified, deleted } = manifest.changes;
    printer.line(
      `  incremental of ${manifest.parent} (chain ${manifest.chain_length} from ${manifest.base}): ${created} new, ${modified} changed, ${deleted} deleted`,
    );
    if (summary.parentListFrom)
      printer.line(
        `  no file list of the parent in the state folder: read from its shards on ${summary.parentListFrom}`,
      );
  } else if (summary.fullReason) {
    printer.line(`  full shard: ${summary.fullReason}`);
  }

  const rows = summary.destinations.map((result) => {
    const destination = config.destinations.find((candidate) => candidate.name === result.name);
    const name = result.required ? result.name : `${result.name} (optional)`;
    if (result.status === 'success') {
      const where = destination && archive ? whereIs(destination, archive.key) : '';
      return [style.ok('ok'), name, where];
    }
    if (result.status === 'skipped') return [style.dim('skipped'), name, ''];
    const attempts = result.attempts > 1 ? ` (${result.attempts} attempts)` : '';
    return [
      style.bad('FAILED'),
      name,
      `${result.error?.code ?? 'UNKNOWN'}: ${result.error?.message ?? 'failed'}${attempts}`,
    ];
  });
  if (rows.length > 0) printer.line(indent(renderTable([], rows)));
  for (const result of summary.destinations) {
    const deleted = result.prune?.deleted ?? [];
    // Named, so a shard missed later can be found in this run's output.
    if (deleted.length > 0)
      printer.line(
        `  retention: deleted ${formatCount(deleted.length, 'old shard')} from ${result.name}: ${deleted.join(', ')}`,
      );
  }

  if (summary.error) printer.error(`${printer.errStyle.bad('error:')} ${summary.error.message}`);
  // What to do about it: a full spool disk, an unmounted USB disk, a hung command.
  if (summary.error?.hint) printer.error(`hint: ${summary.error.hint}`);
  if (summary.status === 'warning') {
    // Each path was printed as a warning when it was met; this line says what they mean for the run.
    const count = formatCount(summary.sourceWarnings.length, 'path');
    printer.error(
      `${printer.errStyle.warn('completed with warnings:')} ${count} not archived whole (listed above and in the shard's manifest)`,
    );
  }
  if (summary.status === 'partial') {
    const stored = summary.destinations
      .filter((result) => result.status === 'success')
      .map((result) => result.name);
    printer.error(`partial: the shard is only on ${stored.join(', ')}`);
  }
}

/** A dry run: what the shard would hold and where it would go; nothing was written. */
function printPlan(printer: Printer, summary: RunSummary): void {
  const plan = summary.plan;
  if (plan) {
    const contents = [
      formatCount(plan.files, 'file'),
      formatCount(plan.directories, 'directory', 'directories'),
      formatCount(plan.symlinks, 'symlink'),
    ];
    printer.line(
      `dry run: shard ${printer.style.bold(summary.id)} would hold ${contents.join(', ')}, ${formatBytes(plan.bytesIn)}`,
    );
    for (const { source, command } of plan.commands) {
      printer.line(`  source ${source}: would run ${JSON.stringify(command)} (not run in a dry run)`);
    }
    printer.line(`  would be stored as ${plan.key} on: ${plan.destinations.join(', ')}`);
  }
  if (summary.error) printer.error(`${printer.errStyle.bad('error:')} ${summary.error.message}`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `  ${line}`)
    .join('\n');
}
