import { createInterface } from 'node:readline/promises';
import {
  type Destination,
  deleteShards,
  MatricError,
  openDestination,
  parseShardId,
  type ResolvedDestination,
  selectDestinations,
  shardObjects,
} from '@matric-backup/core';
import { recordAudit } from '../audit.js';
import { loadCommandConfig } from '../context.js';
import { whereIs } from '../destinations.js';
import { describeError, ExitCode, errorRecord } from '../exit-codes.js';
import { formatBytes } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { withRunLock } from '../run-lock.js';
import { command, destinationOption } from './command.js';

interface Holder {
  resolved: ResolvedDestination;
  opened: Destination;
  keys: string[];
  bytes: number;
}

interface DeletionRow {
  destination: string;
  status: 'deleted' | 'would delete' | 'failed' | 'absent' | 'error';
  keys: string[];
  error?: { code: string; message: string };
}

export const deleteCommand = command((host) => ({
  command: 'delete <id>',
  describe: 'Delete one shard (archive first, then its sidecar) from every destination that holds it',
  builder: (yargs) =>
    destinationOption(yargs, 'Only from this destination (repeatable); default: every enabled one')
      .positional('id', { type: 'string', describe: 'Shard id, e.g. backup_20250131_020004' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Show what would be deleted' })
      .example('$0 delete backup_20250131_020004', 'Asks, then deletes it everywhere')
      .example(
        '$0 delete backup_20250131_020004 -d s3-offsite --yes',
        'From one destination, without asking (scripts)',
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
      const rows: DeletionRow[] = [];
      const holders: Holder[] = [];
      try {
        for (const resolved of selectDestinations(config, args.destination)) {
          try {
            const opened = await openDestination(config, resolved);
            const objects = await shardObjects(opened, id).catch(async (error: unknown) => {
              await opened.close().catch(() => undefined);
              throw error;
            });
            if (objects.length === 0) {
              await opened.close().catch(() => undefined);
              rows.push({ destination: resolved.name, status: 'absent', keys: [] });
              continue;
            }
            const keys = objects.map((object) => object.key);
            const bytes = objects.reduce((sum, object) => sum + object.size, 0);
            holders.push({ resolved, opened, keys, bytes });
          } catch (error) {
            printer.error(describeError(error, printer.verbose));
            rows.push({ destination: resolved.name, status: 'error', keys: [], error: errorRecord(error) });
          }
        }
        if (holders.length === 0 && !rows.some((row) => row.status === 'error')) {
          throw new MatricError(
            'SHARD_NOT_FOUND',
            `shard ${id} is on none of: ${rows.map((r) => r.destination).join(', ')}`,
          );
        }

        if (dryRun) {
          rows.push(
            ...holders.map((h) => ({
              destination: h.resolved.name,
              status: 'would delete' as const,
              keys: h.keys,
            })),
          );
        } else if (holders.length > 0) {
          if (args.yes !== true && !(await confirm(printer, id, holders))) {
            printer.note('nothing deleted');
            return ExitCode.FAILED;
          }
          await withRunLock(config, async () => {
            for (const holder of holders) {
              const outcome = await deleteShards(holder.opened, [{ id, keys: holder.keys }]);
              const failure = outcome.failed[0];
              rows.push({
                destination: holder.resolved.name,
                status: failure ? 'failed' : 'deleted',
                keys: holder.keys,
                ...(failure ? { error: { code: 'DELETE_FAILED', message: failure.message } } : {}),
              });
            }
          });
        }
      } finally {
        await Promise.all(holders.map((holder) => holder.opened.close().catch(() => undefined)));
      }

      const failed = rows.some((row) => row.status === 'failed' || row.status === 'error');
      const touched = rows.filter((row) => row.status !== 'absent');
      await recordAudit(printer, config, {
        action: 'delete',
        shard: id,
        destinations: touched.map((row) => row.destination),
        result: dryRun
          ? 'dry-run'
          : !failed
            ? 'success'
            : rows.some((r) => r.status === 'deleted')
              ? 'partial'
              : 'failed',
        details: { keys: Object.fromEntries(touched.map((row) => [row.destination, row.keys])) },
      });

      if (printer.json) printer.result({ id, dryRun, destinations: rows });
      else {
        const verb = {
          deleted: 'deleted',
          'would delete': 'would delete',
          failed: 'FAILED to delete',
        } as const;
        for (const row of rows) {
          if (row.status === 'absent' || row.status === 'error') continue;
          const holder = holders.find((candidate) => candidate.resolved.name === row.destination)!;
          const where = row.keys.map((key) => whereIs(holder.resolved, key)).join(', ');
          printer.line(
            `${verb[row.status]} ${id} from ${row.destination} (${formatBytes(holder.bytes)}): ${where}`,
          );
          if (row.error) printer.warn(`${row.destination}: ${row.error.message}`);
        }
      }
      return failed ? ExitCode.FAILED : ExitCode.OK;
    }),
}));

/** Asks on the terminal; anything but y/yes keeps the shard. */
async function confirm(printer: Printer, id: string, holders: Holder[]): Promise<boolean> {
  const names = holders.map((holder) => holder.resolved.name).join(', ');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      printer.redact(`Delete shard ${id} from ${names}? This cannot be undone. [y/N] `),
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
