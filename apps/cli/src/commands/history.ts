import { isBackupRecord, type MaintenanceRecord, MatricError } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { eventHistory, historyEntry } from '../operations/history.js';
import { formatBytes, formatDuration, formatTime } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { command } from './command.js';

export const historyCommand = command((host) => ({
  command: 'history',
  describe:
    'Past runs, verifies and prunes of this config, newest first: per destination the outcome, bytes, duration, attempts, shards, error',
  builder: (yargs) =>
    yargs
      .option('limit', {
        alias: 'n',
        type: 'number',
        default: 20,
        requiresArg: true,
        describe: 'How many entries (runs, verifies, prunes) to show',
      })
      .example('$0 history', 'The last 20 runs')
      .example('$0 history --limit 1 --json', 'The last run, as recorded in the state folder'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const limit = Number(args.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new MatricError(
          'USAGE',
          `--limit must be a whole number of at least 1, got ${String(args.limit)}`,
        );
      }
      const config = await loadCommandConfig(context);
      const runs = await eventHistory(config, { limit });
      if (printer.json) {
        printer.result({ runs: runs.map(historyEntry) });
        return ExitCode.OK;
      }
      if (runs.length === 0) {
        printer.line(`no runs recorded for ${config.file} in ${config.backup.state_dir}`);
        return ExitCode.OK;
      }
      const { style } = printer;
      const outcome = (status: string) =>
        status === 'success'
          ? style.ok(status)
          : status === 'skipped'
            ? style.dim(status)
            : status === 'warning'
              ? style.warn(status)
              : style.bad(status.toUpperCase());
      const rows: string[][] = [];
      for (const record of runs) {
        if (!isBackupRecord(record)) {
          rows.push(...maintenanceRows(record, outcome));
          continue;
        }
        const run = record;
        const first = [
          formatTime(run.started_at),
          // The command's name, as verify and prune rows show theirs (`kind: backup` in --json).
          'run',
          run.id,
          run.type ?? '',
          outcome(run.status),
          formatDuration(run.duration_ms),
        ];
        const note = run.error?.message ?? (run.warnings ? `${run.warnings} paths not archived whole` : '');
        if (run.destinations.length === 0) rows.push([...first, '', '', '', '', '', note]);
        run.destinations.forEach((destination, index) => {
          rows.push([
            ...(index === 0 ? first : ['', '', '', '', '', '']),
            destination.name,
            outcome(destination.status),
            destination.status === 'success' ? formatBytes(destination.bytes) : '',
            formatDuration(destination.duration_ms),
            String(destination.attempts),
            destination.error ? `${destination.error.code}: ${destination.error.message}` : '',
          ]);
        });
      }
      printer.line(
        renderTable(
          [
            'STARTED',
            'KIND',
            'SHARD',
            'TYPE',
            'RUN',
            'TOOK',
            'DESTINATION',
            'RESULT',
            'BYTES',
            'UPLOAD',
            'ATTEMPTS',
            'NOTE',
          ],
          rows,
        ),
      );
      return ExitCode.OK;
    }),
}));

/**
 * A verify's or prune's rows: the shard when it was about one (else how many), then per
 * destination its outcome and what it did: the shards that failed, or those verified or deleted.
 */
function maintenanceRows(record: MaintenanceRecord, outcome: (status: string) => string): string[][] {
  const shards = new Set(
    record.destinations.flatMap((destination) => destination.verified ?? destination.deleted ?? []),
  );
  const first = [
    formatTime(record.started_at),
    record.kind,
    shards.size === 1 ? [...shards][0]! : shards.size > 1 ? `${shards.size} shards` : '',
    '',
    outcome(record.status),
    formatDuration(record.duration_ms),
  ];
  if (record.destinations.length === 0) return [[...first, '', '', '', '', '', record.error?.message ?? '']];
  return record.destinations.map((destination, index) => {
    const done = destination.verified ?? destination.deleted ?? [];
    const verb = record.kind === 'verify' ? 'verified' : 'deleted';
    const note = destination.error
      ? `${destination.error.code}: ${destination.error.message}`
      : destination.failed.length > 0
        ? destination.failed.map((failure) => `${failure.id}: ${failure.message}`).join('; ')
        : done.length === 0
          ? `nothing ${verb}`
          : done.length > 3
            ? `${verb} ${done.length} shards`
            : `${verb} ${done.join(', ')}`;
    return [
      ...(index === 0 ? first : ['', '', '', '', '', '']),
      destination.name,
      outcome(destination.status),
      '',
      '',
      '',
      note,
    ];
  });
}
