import { MatricError, type ShardManifest } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { briefError, ExitCode } from '../exit-codes.js';
import { shardInfo } from '../operations/info.js';
import { formatBytes, formatCount, formatTime } from '../output/format.js';
import { command, destinationOption } from './command.js';

export const infoCommand = command((host) => ({
  command: 'info <id>',
  describe: 'Show the manifest of one shard and every destination that holds it',
  builder: (yargs) =>
    destinationOption(yargs, 'Only look on this destination (repeatable)')
      .positional('id', { type: 'string', describe: 'Shard id, or "latest"' })
      .example('$0 info backup_20250131_020004', 'What is in that shard and where it is')
      .example('$0 info latest -d s3-offsite --json', 'The newest shard on one destination, as JSON'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const config = await loadCommandConfig(context);
      const id = String(args.id);
      const { manifest, locations, failures } = await shardInfo(config, id, {
        destinations: args.destination,
      });
      for (const failure of failures) {
        printer.warn(`could not search destination "${failure.destination}": ${briefError(failure.error)}`);
      }
      if (!manifest)
        throw new MatricError('SHARD_NOT_FOUND', `shard "${id}" is on none of the destinations searched`);

      if (printer.json) {
        printer.result({ manifest, locations });
        return ExitCode.OK;
      }
      const encryption = manifest.encryption
        ? `${manifest.encryption.method}, ${formatCount(manifest.encryption.recipient_count, 'recipient')}`
        : 'none';
      const fields: Array<[string, string]> = [
        ['id', manifest.id],
        ['created', formatTime(manifest.created_at)],
        ...chainFields(manifest),
        ['created by', `${manifest.created_by} on ${manifest.source_instance}`],
        [
          'config',
          manifest.writer ? manifest.writer.name : '(not recorded: written before configs had names)',
        ],
        [
          'sources',
          // Where each folder was read from: where `restore --in-place` puts it back.
          manifest.origins
            ? manifest.origins
                .map((origin) => (origin.path ? `${origin.name} (${origin.path})` : origin.name))
                .join(', ')
            : manifest.collections.join(', '),
        ],
        [
          'contents',
          `${formatCount(manifest.counts.files, 'file')}, ${formatCount(manifest.counts.directories, 'directory', 'directories')}, ${formatCount(manifest.counts.symlinks, 'symlink')}`,
        ],
        [
          'size',
          `${formatBytes(manifest.size_bytes)} (stored: ${formatBytes(manifest.object.size)}, ${manifest.compression})`,
        ],
        ['encryption', encryption],
        ['checksum', manifest.checksum],
      ];
      for (const [label, value] of fields) printer.line(`${label.padEnd(12)}${value}`);
      printer.line('stored on');
      for (const location of locations) printer.line(`  ${location.destination.padEnd(20)}${location.where}`);
      return ExitCode.OK;
    }),
}));

/** An incremental shard's place in its chain, and what changed since its parent. */
function chainFields(manifest: ShardManifest): Array<[string, string]> {
  if (manifest.type === 'full') return [['type', 'full']];
  const { created, modified, deleted } = manifest.changes;
  return [
    ['type', `incremental, link ${manifest.chain_length} after the full shard ${manifest.base}`],
    ['parent', manifest.parent],
    ['changes', `${created} new, ${modified} changed, ${deleted} deleted since the parent`],
  ];
}
