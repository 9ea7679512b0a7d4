import { loadCommandConfig } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { listShardFiles } from '../operations/ls.js';
import { longLines, reportReading, shortLines } from '../output/file-lines.js';
import { command } from './command.js';
import { readingOptions, readingRequest } from './shard-reading.js';

export const lsCommand = command((host) => ({
  command: 'ls <id> [patterns..]',
  describe: "List the files of a shard without restoring it (an incremental shard's whole tree at its time)",
  builder: (yargs) =>
    readingOptions(yargs)
      .positional('id', { type: 'string', describe: 'Shard id, or "latest" (this config\'s newest)' })
      .positional('patterns', {
        type: 'string',
        describe:
          'Globs of archive paths (`<source>/...`); each lists what it matches and everything under it',
      })
      .option('long', {
        alias: 'l',
        type: 'boolean',
        default: false,
        describe: 'Mode, owner, size and mtime, like ls -l',
      })
      .example('$0 ls latest', "Every path in this config's newest shard")
      .example("$0 ls backup_20250131_020004_kqzmbtwa 'etc/ssh' -l", 'One folder, with modes and owners')
      .example("$0 ls latest '**/*.conf' -d s3-offsite", 'Matching files, read from one destination')
      .example("$0 ls latest --json | jq -r '.entries[] | select(.size > 1e8) | .path'", 'Files over 100 MB'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const config = await loadCommandConfig(context);
      const result = await listShardFiles(config, {
        id: String(args.id),
        patterns: ([] as unknown[]).concat(args.patterns ?? []).map(String),
        ...readingRequest(args, context, config),
      });
      if (printer.json) {
        printer.result(result);
        return ExitCode.OK;
      }
      reportReading(printer, result);
      for (const line of args.long ? longLines(result.entries) : shortLines(result.entries))
        printer.line(line);
      return ExitCode.OK;
    }),
}));
