import { MatricError } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { type CopyRow, copyBackups } from '../operations/copy.js';
import { formatBytes } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { createByteBar } from '../output/progress.js';
import { command } from './command.js';

export const copyCommand = command((host) => ({
  command: 'copy [ids..]',
  describe:
    'Copy shards from one destination to another: archive first (checked against its sidecar), sidecar last',
  builder: (yargs) =>
    yargs
      .positional('ids', {
        type: 'string',
        array: true,
        describe: "Shard ids, or `latest` (this config's newest on --from)",
      })
      .option('all', { type: 'boolean', describe: 'Every complete shard on --from' })
      .option('from', {
        type: 'string',
        requiresArg: true,
        demandOption: true,
        describe: 'Destination to read',
      })
      .option('to', {
        type: 'string',
        requiresArg: true,
        demandOption: true,
        describe: 'Destination to write',
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Show what would be copied' })
      .example('$0 copy latest --from disk --to offsite', 'The newest shard (with its chain)')
      .example('$0 copy --all --from old-nas --to new-nas --dry-run', 'What a migration would copy')
      .example('$0 copy backup_20250131_020004_kqzmbtwa --from s3 --to disk --json', 'One shard, as JSON'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const named = (args.ids ?? []).length > 0;
      if (named === (args.all === true)) {
        throw new MatricError(
          'USAGE',
          named
            ? 'name shards or give --all, not both'
            : 'name the shards to copy (an id or latest), or give --all',
          { hint: 'e.g. `matric-backup copy latest --from disk --to offsite`' },
        );
      }
      const config = await loadCommandConfig(context);
      const dryRun = args.dryRun === true;
      const report = await copyBackups(
        config,
        {
          ids: (args.ids ?? []).map(String),
          all: args.all === true,
          from: String(args.from),
          to: String(args.to),
          dryRun,
          onShardStart: (manifest) => {
            const bar = createByteBar(printer, `${manifest.id} -> ${String(args.to)}`);
            return { update: (bytes) => bar.update(bytes, manifest.object.size), stop: () => bar.stop() };
          },
          onShard: (row) => {
            if (!printer.json) printRow(printer, row);
          },
        },
        (message) => printer.warn(message),
      );
      if (printer.json) printer.result(report);
      else printTotals(printer, report.shards, report.bytes, dryRun, report.to);
      for (const row of report.shards) {
        if (row.error?.hint) printer.error(`hint: ${row.error.hint}`);
      }
      return report.ok ? ExitCode.OK : ExitCode.FAILED;
    }),
}));

const VERB: Record<CopyRow['status'], string> = {
  copied: 'copied',
  present: 'present',
  would_copy: 'would copy',
  failed: 'FAILED',
};

function printRow(printer: Printer, row: CopyRow): void {
  const { style } = printer;
  const verb = VERB[row.status].padEnd(10);
  const shown =
    row.status === 'failed' ? style.bad(verb) : row.status === 'present' ? style.dim(verb) : style.ok(verb);
  const what = `${row.type.padEnd(11)} ${formatBytes(row.size).padStart(10)}`;
  const notes = [
    row.link_of && `link of ${row.link_of}`,
    row.status === 'present' && 'already there',
    row.resumed && 'archive was already there: sidecar stored',
    row.error && `${row.error.code}: ${row.error.message}`,
  ].filter(Boolean);
  printer.line(`  ${shown} ${row.id}  ${what}${notes.length ? `  ${notes.join('; ')}` : ''}`);
}

function printTotals(printer: Printer, rows: CopyRow[], bytes: number, dryRun: boolean, to: string): void {
  const count = (status: CopyRow['status']) => rows.filter((row) => row.status === status).length;
  const parts = [
    dryRun ? `${count('would_copy')} to copy` : `${count('copied')} copied (${formatBytes(bytes)})`,
    `${count('present')} already on ${to}`,
    `${count('failed')} failed`,
  ];
  printer.line(parts.join(', '));
}
