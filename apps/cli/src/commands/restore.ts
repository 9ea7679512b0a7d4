import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { findShard, isDestinationError, MatricError, restoreShard } from '@matric-backup/core';
import { recordAudit } from '../audit.js';
import { loadCommandConfig } from '../context.js';
import { selectDestinations, withDestination } from '../destinations.js';
import { briefError, ExitCode } from '../exit-codes.js';
import { formatBytes, formatCount, formatDuration } from '../output/format.js';
import { createByteBar } from '../output/progress.js';
import { type CommandSpec, destinationNames, destinationOption } from './command.js';

export const restoreCommand: CommandSpec = {
  command: 'restore <id>',
  describe: 'Restore a shard into a new or empty folder, checking every file against its manifest',
  builder: (yargs) =>
    destinationOption(
      yargs,
      'Read from this destination; default: the first in config order that has the shard',
    )
      .positional('id', { type: 'string', describe: 'Shard id, or "latest"' })
      .option('to', {
        type: 'string',
        demandOption: true,
        requiresArg: true,
        describe: 'Target folder: must not exist yet, or be empty',
      })
      .example(
        '$0 restore latest --to /srv/restore',
        'The newest shard of the first destination that has one',
      )
      .example(
        '$0 restore backup_20250131_020004 --to ./restored -d s3-offsite',
        'One shard, from one destination',
      ),
  async run(args, context) {
    const { printer } = context;
    const config = await loadCommandConfig(context);
    const id = String(args.id);
    const to = resolve(context.cwd, String(args.to));
    const candidates = selectDestinations(config, destinationNames(args));

    for (const [index, destination] of candidates.entries()) {
      const isLast = index === candidates.length - 1;
      try {
        const restored = await withDestination(config, destination, async (opened) => {
          const manifest = await findShard(opened, id).catch((error: unknown) => {
            if (error instanceof MatricError && error.code === 'SHARD_NOT_FOUND') return undefined;
            throw error;
          });
          if (!manifest) return undefined;
          printer.debug(`restoring ${manifest.id} from destination "${destination.name}"`);
          const bar = createByteBar(printer, `restore ${manifest.id}`);
          try {
            const result = await restoreShard({
              from: opened,
              manifest,
              to,
              onProgress: (progress) => bar.update(progress.bytes, progress.total),
            });
            return { manifest, result };
          } finally {
            bar.stop();
          }
        });
        if (!restored) continue;
        await recordAudit(printer, config, {
          action: 'restore',
          shard: restored.result.id,
          destinations: [destination.name],
          result: 'success',
          details: { to: restored.result.to, files: restored.result.files },
        });
        if (printer.json) {
          printer.result({ destination: destination.name, ...restored.result });
        } else {
          printer.line(
            `restored shard ${restored.result.id} from destination "${destination.name}" to ${restored.result.to}: ${formatCount(restored.result.files, 'file')}, ${formatBytes(restored.result.bytes)} in ${formatDuration(restored.result.durationMs)}`,
          );
        }
        return ExitCode.OK;
      } catch (error) {
        // A damaged or unreachable copy is what the other destinations are for, as long as nothing was written yet.
        if (isLast || !isCopyProblem(error) || !(await isEmptyOrMissing(to))) throw error;
        printer.warn(`destination "${destination.name}": ${briefError(error)}; trying the next destination`);
      }
    }
    throw new MatricError(
      'SHARD_NOT_FOUND',
      `shard "${id}" is on none of: ${candidates.map((d) => d.name).join(', ')}`,
    );
  },
};

async function isEmptyOrMissing(folder: string): Promise<boolean> {
  try {
    return (await readdir(folder)).length === 0;
  } catch {
    return true;
  }
}

/** Errors of the stored copy or of reaching it, as opposed to refusals about the target folder. */
function isCopyProblem(error: unknown): boolean {
  return isDestinationError(error) || (error instanceof MatricError && error.code === 'VERIFY_FAILED');
}
