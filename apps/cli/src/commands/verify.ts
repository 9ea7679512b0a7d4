import { resolve } from 'node:path';
import { loadCommandConfig } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { reportMaintenance, verifyOutcome } from '../operations/maintenance-report.js';
import { parseSample } from '../operations/sample.js';
import { verifyBackups } from '../operations/verify.js';
import { createByteBar } from '../output/progress.js';
import { failureSummary, printVerifyLine } from '../output/verify-report.js';
import { command, destinationOption } from './command.js';

export const verifyCommand = command((host) => ({
  command: 'verify [id]',
  describe:
    'Re-read stored shards: size and sha256 of the object, then every file against the inner manifest',
  builder: (yargs) =>
    destinationOption(yargs, 'Only this destination (repeatable); default: every enabled one')
      .positional('id', { type: 'string', describe: 'Shard id to verify (default: --latest)' })
      .option('latest', {
        type: 'boolean',
        describe: 'The newest complete shard of each destination (the default)',
      })
      .option('all', { type: 'boolean', describe: 'Every complete shard of each destination' })
      .option('identity', {
        type: 'string',
        requiresArg: true,
        describe:
          'age identity file to check the contents of encrypted shards (default: backup.encryption.identity_file)',
      })
      .option('refuse-escaping-links', {
        type: 'boolean',
        describe:
          'Count symbolic links pointing outside the restore target as problems, as `restore --refuse-escaping-links` would',
      })
      .option('sample', {
        type: 'string',
        requiresArg: true,
        describe:
          'Read only this share of the shards whole (10%) or this many (3), chosen at random; the rest get the checks that need no download. Without an id: every shard',
      })
      .conflicts('all', ['latest', 'id'])
      .conflicts('sample', 'latest')
      .conflicts('latest', 'id')
      .example('$0 verify', 'The newest shard on every enabled destination')
      .example('$0 verify backup_20250131_020004 -d s3-offsite', 'One shard on one destination')
      .option('json-lines', {
        type: 'boolean',
        default: false,
        describe:
          'Print each shard as it is checked, one JSON object a line on stdout (shard_verified events), the result last (finished)',
      })
      .option('metrics-file', {
        type: 'string',
        requiresArg: true,
        describe:
          "Write Prometheus metrics of this verify here (node_exporter's textfile collector; not the run's file)",
      })
      .example('$0 verify --all --json', 'Every shard everywhere, as JSON (exit 1 on any mismatch)')
      .example(
        '$0 verify --sample 10%',
        'A random tenth of the shards read whole, every other one checked by size',
      )
      .example('$0 verify --identity ~/.config/matric-backup/age.key', 'Decrypt to check the contents too'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const config = await loadCommandConfig(context);
      const id = typeof args.id === 'string' ? args.id : undefined;
      const sample = typeof args.sample === 'string' ? parseSample(args.sample) : undefined;
      const encryption = config.backup.encryption;
      const identity =
        typeof args.identity === 'string' ? resolve(context.cwd, args.identity) : encryption?.identity_file;
      const startedAt = Date.now();
      // One destination at a time: each shard's line and progress bar are printed as it is checked.
      const { lines, hints } = await verifyBackups(config, {
        id,
        all: args.all === true,
        destinations: args.destination,
        identity,
        gpgHomedir: encryption?.gpg_homedir,
        refuseEscapingLinks: args.refuseEscapingLinks === true,
        ...(sample && { sample }),
        onShardStart: (destination, shard) => {
          const bar = createByteBar(printer, `${destination} ${shard}`);
          return { update: (progress) => bar.update(progress.bytes, progress.total), stop: () => bar.stop() };
        },
        onWarning: (destination, shard, warning) =>
          printer.warn(`destination "${destination}" shard "${shard}": ${warning}`),
        onLine: (line) => {
          if (!printer.json) printVerifyLine(printer, line);
          printer.event('shard_verified', { ...line, problem_count: line.problems.length });
        },
      });

      const failed = lines.filter((line) => !line.ok);
      await reportMaintenance(
        config,
        {
          ...verifyOutcome(config, lines, startedAt),
          ...(typeof args.metricsFile === 'string' && {
            metricsFile: resolve(context.cwd, args.metricsFile),
          }),
        },
        (message) => printer.warn(message),
      );
      if (printer.json) {
        const results = lines.map((line) => ({ ...line, problem_count: line.problems.length }));
        printer.result({ ok: failed.length === 0, results });
      }
      for (const line of failed) {
        const shard = line.id ? ` shard "${line.id}"` : '';
        printer.error(
          `${printer.errStyle.bad('error:')} verify failed: destination "${line.destination}"${shard}: ${failureSummary(line)}`,
        );
      }
      for (const hint of hints) printer.error(`hint: ${hint}`);
      return failed.length === 0 ? ExitCode.OK : ExitCode.FAILED;
    }),
}));
