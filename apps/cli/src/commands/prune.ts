import { resolve } from 'node:path';
import { selectDestinations } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { pruneDestinations } from '../prune-destinations.js';
import { command, destinationOption } from './command.js';

export const pruneCommand = command((host) => ({
  command: 'prune',
  describe:
    "Apply each destination's retention policy now: list every shard with keep or delete and the reason",
  builder: (yargs) =>
    destinationOption(yargs, 'Only this destination (repeatable); default: every enabled one')
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Show what would be deleted, delete nothing',
      })
      .option('metrics-file', {
        type: 'string',
        requiresArg: true,
        describe:
          "Write Prometheus metrics of this prune here (node_exporter's textfile collector; not the run's file)",
      })
      .example('$0 prune --dry-run', 'Every shard with keep/delete and the rule that decided it')
      .example('$0 prune -d s3-offsite', 'Apply the retention of one destination')
      .example(
        '$0 prune --dry-run --json | jq \'.destinations[].shards[] | select(.action=="delete")\'',
        'What would go, as JSON',
      ),
  handler: (args) =>
    host.run(async (context) => {
      const config = await loadCommandConfig(context);
      return pruneDestinations(context, config, selectDestinations(config, args.destination), {
        dryRun: args.dryRun === true,
        policyOf: (destination) => destination.retention,
        details: { command: 'prune' },
        ...(typeof args.metricsFile === 'string' && { metricsFile: resolve(context.cwd, args.metricsFile) }),
      });
    }),
}));
