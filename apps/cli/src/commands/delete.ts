import { createInterface } from 'node:readline/promises';
import { MatricError, parseShardId } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { whereIs } from '../destinations.js';
import { describeError, ExitCode } from '../exit-codes.js';
import { deleteBackup, type ShardHolder } from '../operations/delete.js';
import { formatBytes } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { command, destinationOption } from './command.js';

export const deleteCommand = command((host) => ({
  command: 'delete <id>',
  describe: 'Delete one shard (archive first, then its sidecar) from every destination that holds it',
  builder: (yargs) =>
    destinationOption(yargs, 'Only from this destination (repeatable); default: every enabled one')
      .positional('id', { type: 'string', describe: 'Shard id, e.g. backup_20250131_020004' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Show what would be deleted' })
      .option('with-dependents', {
        type: 'boolean',
        default: false,
        describe: 'Also delete the incremental shards restored through this one (refused without it)',
      })
      .example('$0 delete backup_20250131_020004', 'Asks, then deletes it everywhere')
      .example(
        '$0 delete backup_20250131_020004 -d s3-offsite --yes',
        'From one destination, without asking (scripts)',
      )
      .example(
        '$0 delete backup_20250131_020004 --with-dependents --dry-run',
        'A base shard and every incremental shard of its chain',
      ),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const id = String(args.id);
      const dryRun = args.dryRun === true;
      if (!parseShardId(id)) {
        throw new MatricError('USAGE', `"${id}" is not a shard id (like backup_20250131_020004)`, {
          hint: 'run `matric-backup list` to see the shards',
        });
      }
      const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
      if (!dryRun && args.yes !== true && !interactive) {
        throw new MatricError(
          'USAGE',
          `refusing to delete ${id} without --yes: there is no terminal to ask on`,
          {
            hint: 'add --yes to delete without asking, or --dry-run to see what would be deleted',
          },
        );
      }
      const config = await loadCommandConfig(context);
      const outcome = await deleteBackup(
        config,
        {
          id,
          ...(args.destination && { destinations: args.destination }),
          dryRun,
          withDependents: args.withDependents === true,
          ...(args.yes !== true && { confirm: (holders) => confirm(printer, id, holders) }),
          onDestinationError: (_name, error) => printer.error(describeError(error, printer.verbose)),
        },
        (message) => printer.warn(message),
      );
      if (outcome.cancelled) {
        printer.note('nothing deleted');
        return ExitCode.FAILED;
      }

      if (printer.json)
        printer.result({
          id,
          dry_run: dryRun,
          destinations: outcome.destinations.map(({ bytes: _bytes, ...row }) => row),
        });
      else {
        const verb = {
          deleted: 'deleted',
          'would delete': 'would delete',
          failed: 'FAILED to delete',
        } as const;
        for (const row of outcome.destinations) {
          if (row.status === 'absent' || row.status === 'error') continue;
          const destination = config.destinations.find((candidate) => candidate.name === row.destination)!;
          const where = row.keys.map((key) => whereIs(destination, key)).join(', ');
          printer.line(
            `${verb[row.status]} ${id} from ${row.destination} (${formatBytes(row.bytes)}): ${where}`,
          );
          if (row.dependents.length > 0) {
            printer.line(`  with the incremental shards that need it: ${row.dependents.join(', ')}`);
          }
          if (row.error) printer.warn(`${row.destination}: ${row.error.message}`);
        }
      }
      return outcome.failed ? ExitCode.FAILED : ExitCode.OK;
    }),
}));

/** Asks on the terminal; anything but y/yes keeps the shard. */
async function confirm(printer: Printer, id: string, holders: ShardHolder[]): Promise<boolean> {
  const names = holders.map((holder) => holder.destination.name).join(', ');
  const dependents = [...new Set(holders.flatMap((holder) => holder.dependents.map((shard) => shard.id)))];
  const also = dependents.length > 0 ? ` and the ${dependents.length} incremental shard(s) that need it` : '';
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      printer.redact(`Delete shard ${id}${also} from ${names}? This cannot be undone. [y/N] `),
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
