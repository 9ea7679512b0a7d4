import { resolve } from 'node:path';
import {
  type Destination,
  findShard,
  isMatricError,
  listShards,
  loadShardOwner,
  MatricError,
  newestOwnShard,
  type ResolvedDestination,
  type ShardManifest,
  type ShardOwner,
  selectDestinations,
  verifyShard,
} from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { onEachDestination } from '../destinations.js';
import { briefError, ExitCode } from '../exit-codes.js';
import { createByteBar } from '../output/progress.js';
import {
  failureSummary,
  printVerifyLine,
  type VerifyLine,
  type VerifyProblem,
} from '../output/verify-report.js';
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
      .conflicts('all', ['latest', 'id'])
      .conflicts('latest', 'id')
      .example('$0 verify', 'The newest shard on every enabled destination')
      .example('$0 verify backup_20250131_020004 -d s3-offsite', 'One shard on one destination')
      .example('$0 verify --all --json', 'Every shard everywhere, as JSON (exit 1 on any mismatch)')
      .example('$0 verify --identity ~/.config/matric-backup/age.key', 'Decrypt to check the contents too'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const config = await loadCommandConfig(context);
      const owner = await loadShardOwner(config);
      const id = typeof args.id === 'string' ? args.id : undefined;
      const encryption = config.backup.encryption;
      const identity =
        typeof args.identity === 'string' ? resolve(context.cwd, args.identity) : encryption?.identity_file;
      const lines: VerifyLine[] = [];
      /** Hints of the errors that failed a shard (a key that does not fit, ...), each printed once. */
      const hints = new Set<string>();
      const add = (destination: ResolvedDestination, line: Omit<VerifyLine, 'destination'>) => {
        const entry = { destination: destination.name, ...line };
        lines.push(entry);
        if (!printer.json) printVerifyLine(printer, entry);
      };
      // One destination at a time: each shard's line and progress bar are printed as it is checked.
      const outcomes = await onEachDestination(
        config,
        selectDestinations(config, args.destination),
        async (opened, destination) => {
          const shards = await selectShards(opened, args.all === true ? 'all' : (id ?? 'latest'), owner);
          if (shards === 'absent') return;
          if (shards.length === 0) {
            const none = { code: 'SHARD_NOT_FOUND', reason: 'no complete shard' };
            add(destination, { id: '', ok: false, problems: [none], filesChecked: 0, bytes: 0 });
            return;
          }
          for (const manifest of shards) {
            const bar = createByteBar(printer, `${destination.name} ${manifest.id}`);
            const result = await verifyShard(opened, manifest, {
              identity,
              gpgHomedir: encryption?.gpg_homedir,
              refuseEscapingLinks: args.refuseEscapingLinks === true,
              onProgress: (progress) => bar.update(progress.bytes, progress.total),
            })
              .finally(() => bar.stop())
              .catch((error: unknown) => {
                if (isMatricError(error) && error.hint) hints.add(error.hint);
                return {
                  id: manifest.id,
                  ok: false,
                  problems: [errorProblem(error)],
                  filesChecked: 0,
                  bytes: 0,
                };
              });
            for (const warning of 'warnings' in result ? result.warnings : []) {
              printer.warn(`destination "${destination.name}" shard "${manifest.id}": ${warning}`);
            }
            add(destination, {
              id: manifest.id,
              ok: result.ok,
              problems: result.problems,
              filesChecked: result.filesChecked,
              bytes: result.bytes,
            });
          }
        },
        { oneAtATime: true },
      );
      for (const outcome of outcomes) {
        if (!outcome.ok) {
          const problems = [errorProblem(outcome.error)];
          add(outcome.destination, { id: id ?? '', ok: false, problems, filesChecked: 0, bytes: 0 });
        }
      }
      if (lines.length === 0)
        throw new MatricError('SHARD_NOT_FOUND', `shard "${id}" is on none of the destinations searched`);

      const failed = lines.filter((line) => !line.ok);
      if (printer.json) {
        const results = lines.map((line) => ({ ...line, problemCount: line.problems.length }));
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

/** The shards to verify on one destination; 'absent' when a named shard simply is not there. */
async function selectShards(
  destination: Destination,
  which: string,
  owner: ShardOwner,
): Promise<ShardManifest[] | 'absent'> {
  if (which === 'all') return (await listShards(destination)).complete;
  try {
    const latest = (complete: ShardManifest[]) => newestOwnShard(complete, owner, new Date()).newest;
    return [await findShard(destination, which, { latest })];
  } catch (error) {
    if (!(isMatricError(error) && error.code === 'SHARD_NOT_FOUND')) throw error;
    return which === 'latest' ? [] : 'absent';
  }
}

/** An error that kept a shard or a destination from being checked, as a problem of no one path. */
function errorProblem(error: unknown): VerifyProblem {
  const code = (error as { code?: unknown })?.code;
  return { code: typeof code === 'string' ? code : 'UNKNOWN', reason: briefError(error) };
}
