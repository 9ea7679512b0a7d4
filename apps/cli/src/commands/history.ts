import { MatricError } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { ExitCode, exitCodeOfRun } from '../exit-codes.js';
import { runHistory } from '../operations/history.js';
import { formatBytes, formatDuration, formatTime } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { command } from './command.js';

export const historyCommand = command((host) => ({
  command: 'history',
  describe:
    'Past runs of this config, newest first: per destination the outcome, bytes, duration, attempts, error',
  builder: (yargs) =>
    yargs
      .option('limit', {
        alias: 'n',
        type: 'number',
        default: 20,
        requiresArg: true,
        describe: 'How many runs to show',
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
      const runs = await runHistory(config, { limit });
      if (printer.json) {
        printer.result({ runs: runs.map((run) => ({ ...run, exit_code: exitCodeOfRun(run.status) })) });
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
      for (const run of runs) {
        const first = [
          formatTime(run.started_at),
          run.id,
          run.type ?? '',
          outcome(run.status),
          formatDuration(run.duration_ms),
        ];
        const note = run.error?.message ?? (run.warnings ? `${run.warnings} paths not archived whole` : '');
        if (run.destinations.length === 0) rows.push([...first, '', '', '', '', '', note]);
        run.destinations.forEach((destination, index) => {
          rows.push([
            ...(index === 0 ? first : ['', '', '', '', '']),
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
            'SHARD',
            'TYPE',
            'RUN',
            'TOOK',
            'DESTINATION',
            'RESULT',
            'BYTES',
            'UPLOAD',
            'ATTEMPTS',
            'ERROR',
          ],
          rows,
        ),
      );
      return ExitCode.OK;
    }),
}));
