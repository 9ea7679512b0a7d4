import { resolve } from 'node:path';
import { MatricError, type RunSummary, selectDestinations } from '@matric-backup/core';
import { serverOptions } from '../client/server-option.js';
import { loadCommandConfig, printConfigWarnings } from '../context.js';
import { runDocument } from '../documents/run.js';
import { exitCodeOfRun } from '../exit-codes.js';
import { backupNow } from '../operations/run.js';
import { runEventLines } from '../output/json-lines.js';
import { logRunEvents } from '../output/log-events.js';
import { createRunObserver } from '../output/progress.js';
import { printRunSummary } from '../output/run-summary.js';
import { createVerboseRunLog } from '../output/run-verbose.js';
import { command, destinationOption } from './command.js';

export const runCommand = command((host) => ({
  command: 'run',
  describe: 'Build one shard from the sources and store it on every enabled destination',
  builder: (yargs) =>
    serverOptions(destinationOption(yargs, 'Only this destination (repeatable); default: every enabled one'))
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Read the sources and report what would be stored, without writing to any destination',
      })
      .option('type', {
        choices: ['full', 'incremental'] as const,
        describe:
          'full: store everything; incremental: only what changed since the last shard (default: incremental when backup.incremental is set)',
      })
      .option('prune', {
        type: 'boolean',
        default: true,
        describe: "Apply each destination's retention after storing the shard (--no-prune to skip)",
      })
      .option('json-lines', {
        type: 'boolean',
        default: false,
        describe:
          'Print the run as events, one JSON object a line on stdout as they happen (started, archive, uploads, warnings, retention, finished)',
      })
      .option('metrics-file', {
        type: 'string',
        requiresArg: true,
        describe: "Write Prometheus metrics here after the run (node_exporter's textfile collector)",
      })
      .example('$0 run -c /etc/matric-backup/backup.yaml', 'Back up to every enabled destination')
      .example('$0 run -d local-primary -d s3-offsite', 'Back up to two of the destinations only')
      .example('$0 run --type full', 'Store everything, starting a new chain of incrementals')
      .example(
        '$0 run --json >> /var/log/matric-backup.jsonl',
        'Append one JSON line per run (jq pretty-prints it)',
      )
      .example(
        '$0 run --json | jq .destinations',
        'Machine-readable summary with the status of each destination',
      )
      .example(
        '$0 run --server unix:/run/matric-backup/api.sock',
        'Ask the running service to back up now, and wait for it',
      )
      .example(
        '$0 run --metrics-file /var/lib/node_exporter/textfile/matric_backup.prom',
        'Also export the outcome for Prometheus',
      ),
  handler: (args) =>
    host.run(async (context) => {
      if (typeof args.server === 'string') {
        if (typeof args.metricsFile === 'string')
          throw new MatricError(
            'USAGE',
            '--metrics-file does not apply with --server: the service has /metrics',
          );
        const { connect } = await import('../client/connection.js');
        const { remoteRun } = await import('../client/remote-run.js');
        return remoteRun(context.printer, await connect(context, args.server, args.tokenFile), {
          ...(args.destination && { destinations: args.destination }),
          dryRun: args.dryRun === true,
          prune: args.prune !== false,
          ...(args.type && { type: args.type }),
        });
      }
      const config = await loadCommandConfig(context);
      printConfigWarnings(context, config);
      const names = args.destination;
      const observer = createRunObserver(context.printer);
      const verbose = createVerboseRunLog(context.printer, config, context.global.verbose);
      const lines = runEventLines(context.printer);
      if (context.printer.jsonLines)
        context.printer.event('started', {
          config: config.file,
          destinations: selectDestinations(config, names).map((entry) => entry.name),
          dry_run: args.dryRun === true,
        });
      let summary: RunSummary;
      try {
        summary = await backupNow(
          config,
          {
            destinations: names,
            dryRun: args.dryRun === true,
            prune: args.prune !== false,
            ...(args.type ? { type: args.type } : {}),
            ...(typeof args.metricsFile === 'string'
              ? { metricsFile: resolve(context.cwd, args.metricsFile) }
              : {}),
            onEvent: (event) => {
              observer.onEvent(event);
              verbose.onEvent(event);
              lines.onEvent(event);
            },
            ...(verbose.onFile && { onFile: verbose.onFile }),
          },
          (message) => context.printer.warn(message),
        );
      } finally {
        observer.stop();
      }
      const exitCode = exitCodeOfRun(summary.status);
      lines.end(summary);
      if (context.printer.json) context.printer.result(runDocument(summary));
      // --log-format json: the events (backup created, cleanup, ...), not the summary for people.
      else if (context.printer.jsonLog) logRunEvents(context.printer.jsonLog, config, summary);
      else printRunSummary(context.printer, config, summary);
      return exitCode;
    }),
}));
