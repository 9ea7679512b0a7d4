import { MatricError, parseDuration } from '@matric-backup/core';
import { serverOptions } from '../client/server-option.js';
import { loadCommandConfig } from '../context.js';
import { type DestinationStatusDocument, destinationStatusDocument } from '../documents/status.js';
import { describeError, ExitCode, errorRecord } from '../exit-codes.js';
import { type LastVerify, readStatus } from '../operations/status.js';
import { formatBytes, formatDuration, formatTime } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { command, destinationOption } from './command.js';

interface StatusRow extends Partial<DestinationStatusDocument> {
  name: string;
  type: string;
  /** With --max-age: no shard, or the newest is older. */
  stale?: boolean;
  /** The newest verify of this destination (from the run history); a failed one fails status. */
  last_verify?: LastVerify;
  error?: { code: string; message: string };
}

export const statusCommand = command((host) => ({
  command: 'status',
  describe:
    "Per destination: this config's newest shard and its age, how many and how big; with --max-age a monitoring check",
  builder: (yargs) =>
    serverOptions(destinationOption(yargs, 'Only this destination (repeatable); default: every enabled one'))
      .option('max-age', {
        type: 'string',
        requiresArg: true,
        describe: 'Exit 1 when a destination has no shard newer than this (90s, 45m, 36h, 7d)',
      })
      .example('$0 status', 'The newest backup on every destination, and its age')
      .example(
        '$0 status --max-age 36h',
        'A monitoring check: exit 1 if any destination missed its daily backup',
      )
      .example('$0 status --json', 'The same as JSON')
      .example('$0 status --server unix:/run/matric-backup/api.sock', 'What the running service says'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      let maxAgeMs: number | undefined;
      if (args.maxAge !== undefined) {
        try {
          maxAgeMs = parseDuration(String(args.maxAge));
        } catch (error) {
          throw new MatricError('USAGE', `--max-age: ${(error as Error).message}`);
        }
      }
      if (typeof args.server === 'string') {
        if (args.destination) throw new MatricError('USAGE', '-d does not apply with --server');
        const { connect } = await import('../client/connection.js');
        const { remoteStatus } = await import('../client/remote-status.js');
        return remoteStatus(printer, await connect(context, args.server, args.tokenFile), maxAgeMs);
      }
      const config = await loadCommandConfig(context);
      const report = await readStatus(config, { destinations: args.destination, maxAgeMs });
      const rows = report.destinations.map((row): StatusRow => {
        const base = {
          name: row.name,
          type: row.type,
          ...(row.lastVerify && { last_verify: row.lastVerify }),
        };
        if (row.lastVerify?.status === 'failed') {
          const what =
            row.lastVerify.failed.map((shard) => `${shard.id}: ${shard.message}`).join('; ') ||
            row.lastVerify.error?.message ||
            'failed';
          printer.error(
            `${printer.errStyle.bad('error:')} ${row.name}: the last verify (${formatTime(row.lastVerify.finished_at)}) failed: ${what}`,
          );
        }
        if (row.error !== undefined) {
          printer.error(describeError(row.error, printer.verbose));
          return { ...base, error: errorRecord(row.error) };
        }
        return {
          ...base,
          ...(row.status && destinationStatusDocument(row.status)),
          ...(row.stale === undefined ? {} : { stale: row.stale }),
        };
      });
      if (rows.some((row) => row.last_verify?.status === 'failed'))
        printer.error(
          'hint: restore or copy from a destination whose copy verifies, delete the damaged shard, then `matric-backup verify` again: status counts the newest verify',
        );
      const { ok } = report;
      for (const row of rows) {
        for (const shard of row.future ?? []) {
          printer.warn(
            `${row.name}: shard ${shard.id} is dated ${shard.created_at}, in the future (a wrong clock?): it does not count as fresh`,
          );
        }
      }

      if (printer.json) {
        printer.result({
          ok,
          ...(maxAgeMs === undefined ? {} : { max_age_ms: maxAgeMs }),
          destinations: rows,
        });
      } else {
        const { style } = printer;
        const verdict = (row: StatusRow) => {
          if (row.error) return style.bad(`ERROR ${row.error.code}`);
          if (row.last_verify?.status === 'failed') return style.bad('VERIFY FAILED');
          if (row.stale)
            return style.bad(
              row.newest ? `STALE (older than ${maxAgeText(String(args.maxAge))})` : 'NO BACKUP',
            );
          return row.newest ? style.ok('ok') : style.warn('no backup');
        };
        printer.line(
          renderTable(
            ['DESTINATION', 'NEWEST', 'TYPE', 'CREATED', 'AGE', 'SHARDS', 'SIZE', 'STATUS'],
            rows.map((row) => [
              row.name,
              row.newest?.id ?? '',
              row.newest?.type ?? '',
              row.newest ? formatTime(row.newest.created_at) : '',
              row.age_ms === undefined ? '' : formatAge(row.age_ms),
              row.error ? '' : String(row.count ?? 0),
              row.error ? '' : formatBytes(row.bytes ?? 0),
              verdict(row),
            ]),
          ),
        );
        printer.note(
          `config ${config.backup.name}@${config.backup.source_instance}: only its own shards count`,
        );
        for (const row of rows) {
          for (const shard of row.incomplete ?? []) {
            printer.warn(
              `${row.name}: shard ${shard.id} is incomplete (${shard.reason}); \`matric-backup prune --dry-run\` says whether prune removes it`,
            );
          }
          const others = [
            row.foreign ? `${row.foreign} shard(s) of other configs or hosts` : '',
            row.legacy
              ? `${row.legacy} shard(s) from before configs had names that this config's run history does not claim`
              : '',
          ].filter(Boolean);
          if (others.length > 0) printer.note(`${row.name}: not counted: ${others.join('; ')}`);
        }
      }
      return ok ? ExitCode.OK : ExitCode.FAILED;
    }),
}));

/** Ages of backups are read in days once they exceed two: "3 d 4 h" rather than "76 h 12 min". */
function formatAge(ms: number): string {
  const clamped = Math.max(0, ms);
  if (clamped < 48 * 3_600_000) return formatDuration(clamped);
  const hours = Math.floor(clamped / 3_600_000);
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The --max-age value as given, with the unit a bare number implies. */
function maxAgeText(given: string): string {
  return /^\s*[\d.]+\s*$/.test(given) ? `${given.trim()}s` : given;
}
