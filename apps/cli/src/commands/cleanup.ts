import { MatricError, selectDestinations } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { pruneDestinations } from '../prune-destinations.js';
import { command, destinationOption } from './command.js';

export const cleanupCommand = command((host) => ({
  command: 'cleanup',
  describe: 'Keep only the newest N shards of this config on each destination (min_backups still applies)',
  builder: (yargs) =>
    destinationOption(yargs, 'Only this destination (repeatable); default: every enabled one')
      .option('keep', {
        type: 'number',
        demandOption: true,
        requiresArg: true,
        describe: 'How many of the newest shards to keep (at least 1)',
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Show what would be deleted, delete nothing',
      })
      .example('$0 cleanup --keep 5', 'Delete all but the 5 newest shards everywhere')
      .example('$0 cleanup --keep 10 -d local --dry-run', 'What keeping 10 on one destination would delete'),
  handler: (args) =>
    host.run(async (context) => {
      const keep = Number(args.keep);
      if (!Number.isInteger(keep) || keep < 1) {
        throw new MatricError(
          'USAGE',
          `--keep must be a whole number of at least 1, got ${String(args.keep)}`,
          {
            hint: 'to delete one shard, use `matric-backup delete ID`',
          },
        );
      }
      const config = await loadCommandConfig(context);
      return pruneDestinations(context, config, selectDestinations(config, args.destination), {
        dryRun: args.dryRun === true,
        // A retention count: the newest N, and never fewer than the configured min_backups.
        policyOf: (destination) => ({
          keep_last: keep,
          ...(destination.retention?.min_backups !== undefined
            ? { min_backups: destination.retention.min_backups }
            : {}),
        }),
        details: { command: 'cleanup', keep },
      });
    }),
}));
