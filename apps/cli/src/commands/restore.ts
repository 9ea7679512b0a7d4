import { resolve } from 'node:path';
import {
  CONFLICT_STRATEGIES,
  isMatricError,
  type LoadedConfig,
  MatricError,
  openShardFile,
  type RestoreOptions,
  type RestoreResult,
  restoreShard,
} from '@matric-backup/core';
import type { Argv } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { type CommandContext, loadCommandConfig } from '../context.js';
import { briefError, ExitCode } from '../exit-codes.js';
import { type RestoreOrigin, recordRestoreAudit, restoreBackup } from '../operations/restore.js';
import { logRestoreEvent } from '../output/log-events.js';
import { createByteBar } from '../output/progress.js';
import { printRestore } from '../output/restore-report.js';
import { parseSizeOption } from '../size.js';
import { type ArgsOf, command, destinationOption } from './command.js';

const builder = (yargs: Argv<GlobalArgs>) =>
  destinationOption(
    yargs,
    'Read from this destination; default: the first in config order whose copy is intact',
  )
    .positional('shard', {
      type: 'string',
      describe: 'Shard id, "latest", or the path of a shard archive file (its sidecar is used if beside it)',
    })
    .option('to', {
      type: 'string',
      requiresArg: true,
      describe: 'Target folder: new or empty, or any folder with --conflict',
    })
    .option('in-place', {
      type: 'boolean',
      describe:
        'Put each folder source back at the path it was backed up from (same checks and --conflict as --to)',
    })
    .conflicts('to', 'in-place')
    .option('conflict', {
      type: 'string',
      choices: CONFLICT_STRATEGIES,
      requiresArg: true,
      describe:
        'For entries that exist in the target: skip_existing, overwrite, merge (replace if the shard is newer), rename_new (keep both)',
    })
    .option('dry-run', {
      type: 'boolean',
      describe: 'Read and check the shard, print what each entry would do; write nothing',
    })
    .option('include', {
      type: 'string',
      array: true,
      requiresArg: true,
      describe: 'Restore only archive paths matching this glob, e.g. "notes/**" (repeatable)',
    })
    .option('max-bytes', {
      type: 'string',
      requiresArg: true,
      describe: 'Refuse if the files to restore add up to more than this (e.g. 50G)',
    })
    .option('preserve-owner', {
      type: 'boolean',
      describe:
        'Give entries their recorded owner and group, by name where this machine has it (default as root; --no-preserve-owner: files belong to you)',
    })
    .option('numeric-owner', {
      type: 'boolean',
      describe: 'With owners kept: use the recorded uid/gid, not the local ids of the recorded names',
    })
    .option('refuse-escaping-links', {
      type: 'boolean',
      describe:
        'Refuse the shard if a symbolic link to restore points outside the target (for archives from untrusted places)',
    })
    .option('identity', {
      type: 'string',
      requiresArg: true,
      describe: 'age identity file of an encrypted shard (default: backup.encryption.identity_file)',
    })
    .example('$0 restore latest --to /srv/restore', 'The newest shard, into a new folder')
    .example(
      '$0 restore latest --to /srv/notes --conflict merge --dry-run',
      'What a merge into a live folder would change',
    )
    .example(
      '$0 restore backup_20250131_020004 --to ./out --include "notes/**" -d s3-offsite',
      'Part of one shard, from one destination',
    )
    .example(
      '$0 restore latest --in-place --conflict overwrite --dry-run',
      'What putting every folder back where it was backed up from would change',
    )
    .example('$0 restore ./backup_20250131_020004.tar.zst.age --to ./out --identity key.txt', 'A shard file');
type RestoreArgs = ArgsOf<typeof builder>;

export const restoreCommand = command((host) => ({
  command: 'restore <shard>',
  describe:
    'Restore a shard into a folder, checking every file against its manifest before anything is moved in',
  builder,
  handler: (args: RestoreArgs) =>
    host.run(async (context) => {
      const shard = String(args.shard);
      const options = restoreOptions(args, context);
      if (isPath(shard)) return restoreFile(shard, args, context, options);

      const config = await loadCommandConfig(context);
      const { printer } = context;
      const bar = createByteBar(printer, `restore ${shard}`);
      let result: RestoreResult & { destination: string };
      try {
        result = await restoreBackup(
          config,
          {
            ...options,
            ...keys(args, context, config),
            id: shard,
            ...(args.destination && { destinations: args.destination }),
            onProgress: (progress) => bar.update(progress.bytes, progress.total),
            onFallback: (name, error) => {
              bar.stop();
              printer.warn(`destination "${name}": ${briefError(error)}; trying the next destination`);
            },
          },
          (message) => printer.warn(message),
        );
      } finally {
        bar.stop();
      }
      const { destination, ...restored } = result;
      report(context, { destination }, restored);
      return ExitCode.OK;
    }),
}));

/** Shard ids never hold `/` or `.`; anything that does names a file. */
function isPath(shard: string): boolean {
  return shard.includes('/') || shard.includes('.');
}

async function restoreFile(
  path: string,
  args: RestoreArgs,
  context: CommandContext,
  options: Omit<RestoreOptions, 'from' | 'manifest'>,
): Promise<ExitCode> {
  if (args.destination) {
    throw new MatricError('USAGE', '-d does not apply when restoring a shard file');
  }
  const config = await optionalConfig(context);
  const file = resolve(context.cwd, path);
  const opened = await openShardFile(file);
  const { printer } = context;
  if (!opened.sidecar) {
    printer.warn(
      `no sidecar manifest beside ${file}: its size and checksum cannot be checked; every file is still checked against the manifest inside the archive`,
    );
  }
  const bar = createByteBar(printer, `restore ${opened.manifest.object.name}`);
  let result: RestoreResult;
  try {
    result = await restoreShard({
      ...options,
      ...keys(args, context, config),
      from: opened.from,
      manifest: opened.manifest,
      ...(opened.chain && { chain: opened.chain }),
      withoutSidecar: !opened.sidecar,
      onProgress: (progress) => bar.update(progress.bytes, progress.total),
    });
  } finally {
    bar.stop();
  }
  if (config) await recordRestoreAudit(config, { file }, result, (message) => printer.warn(message));
  // The warning about the missing sidecar was printed before the long read.
  report(context, { file }, { ...result, warnings: [] });
  return ExitCode.OK;
}

function restoreOptions(
  args: RestoreArgs,
  context: CommandContext,
): Omit<RestoreOptions, 'from' | 'manifest'> {
  const include = args.include;
  return {
    ...(typeof args.to === 'string' && { to: resolve(context.cwd, args.to) }),
    ...(args.inPlace === true && { inPlace: true }),
    ...(include && include.length > 0 && { include }),
    ...(typeof args.conflict === 'string' && { conflict: args.conflict }),
    dryRun: args.dryRun === true,
    ...(typeof args.maxBytes === 'string' && { maxBytes: parseSizeOption(args.maxBytes, '--max-bytes') }),
    ...(typeof args.preserveOwner === 'boolean' && { preserveOwner: args.preserveOwner }),
    numericOwner: args.numericOwner === true,
    refuseEscapingLinks: args.refuseEscapingLinks === true,
  };
}

/** `--identity` (relative to the current folder), else the config's identity file and gpg home. */
function keys(
  args: RestoreArgs,
  context: CommandContext,
  config: LoadedConfig | undefined,
): Pick<RestoreOptions, 'identity' | 'gpgHomedir'> {
  const encryption = config?.backup.encryption;
  const identity =
    typeof args.identity === 'string' ? resolve(context.cwd, args.identity) : encryption?.identity_file;
  return {
    ...(identity !== undefined && { identity }),
    ...(encryption?.gpg_homedir !== undefined && { gpgHomedir: encryption.gpg_homedir }),
  };
}

/** A shard file needs no config; one is still read when given or found, for the keys and the audit log. */
async function optionalConfig(context: CommandContext): Promise<LoadedConfig | undefined> {
  try {
    return await loadCommandConfig(context);
  } catch (error) {
    const named = context.global.config !== undefined || context.env.MATRIC_BACKUP_CONFIG !== undefined;
    if (!named && isMatricError(error) && error.code === 'USAGE') return undefined;
    throw error;
  }
}

function report(context: CommandContext, origin: RestoreOrigin, result: RestoreResult): void {
  const { printer } = context;
  for (const warning of result.warnings) printer.warn(warning.message);
  // --log-format json: the event, not the report for people.
  if (printer.jsonLog && !printer.json)
    logRestoreEvent(printer.jsonLog, { result: { ...result, ...('destination' in origin ? origin : {}) } });
  else printRestore(printer, origin, result);
}
