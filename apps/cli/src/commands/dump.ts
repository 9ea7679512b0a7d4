import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { MatricError } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { dumpShardFile } from '../operations/dump.js';
import { reportReading } from '../output/file-lines.js';
import { formatBytes } from '../output/format.js';
import { command } from './command.js';
import { readingOptions, readingRequest } from './shard-reading.js';

export const dumpCommand = command((host) => ({
  command: 'dump <id> <path>',
  describe:
    'Write one file of a shard to stdout, byte for byte, without restoring the shard (the archive is read up to that file)',
  builder: (yargs) =>
    readingOptions(yargs)
      .positional('id', { type: 'string', describe: 'Shard id, or "latest" (this config\'s newest)' })
      .positional('path', {
        type: 'string',
        describe: 'Archive path of a file, as `ls` shows it (`<source>/...`)',
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        requiresArg: true,
        describe: 'Write to this new file instead of stdout (0600; never replaces one)',
      })
      .example('$0 dump latest etc/fstab', 'The fstab of the newest shard, on stdout')
      .example('$0 dump backup_20250131_020004_kqzmbtwa home/photo.jpg > photo.jpg', 'A binary file, exact')
      .example(
        '$0 dump latest db/dump.sql -o /tmp/dump.sql --json',
        'To a file, with a JSON report on stdout',
      ),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      if (printer.json && args.output === undefined)
        throw new MatricError('USAGE', 'dump --json needs --output FILE: stdout carries the file itself');
      const config = await loadCommandConfig(context);
      const target = args.output === undefined ? undefined : resolve(context.cwd, args.output);
      const out = target
        ? createWriteStream(target, { flags: 'wx', mode: 0o600 })
        : (printer.stdout as NodeJS.WritableStream as import('node:stream').Writable);
      if (target)
        await new Promise<void>((ready, failed) => {
          out.once('open', () => ready());
          out.once('error', (error: Error) =>
            failed(
              new MatricError('USAGE', `cannot write ${target}: ${error.message}`, {
                hint: 'name a new file in a writable folder: dump never replaces a file',
              }),
            ),
          );
        });
      let result: Awaited<ReturnType<typeof dumpShardFile>>;
      try {
        result = await dumpShardFile(
          config,
          {
            id: String(args.id),
            path: String(args.path),
            ...readingRequest(args, context, config),
          },
          out,
        );
      } catch (error) {
        // `dump ... | head`: the reader had enough; that is its choice, not a failure.
        if (!target && (error as NodeJS.ErrnoException).code === 'EPIPE') return ExitCode.OK;
        // A file cut short or failing its checksum is not left looking like the file.
        if (target) {
          out.destroy();
          await rm(target, { force: true });
        }
        throw error;
      }
      if (target) {
        out.end();
        await finished(out);
      }
      if (printer.json) {
        printer.result({ ...result, output: target });
        return ExitCode.OK;
      }
      reportReading(printer, result);
      printer.debug(
        `${result.path}: ${formatBytes(result.size)} from ${result.from}${result.appended_from ? ` with bytes appended in ${result.appended_from.join(', ')}` : ''}, sha256 ${result.sha256} (checked)`,
      );
      return ExitCode.OK;
    }),
}));
