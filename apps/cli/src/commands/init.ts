import { stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { MatricError, makeFolders } from '@matric-backup/core';
import { ExitCode } from '../exit-codes.js';
import { INIT_TEMPLATE } from '../init-template.js';
import { command } from './command.js';

export const initCommand = command((host) => ({
  command: 'init [path]',
  describe: 'Write a commented example backup.yaml to start from',
  builder: (yargs) =>
    yargs
      .positional('path', {
        type: 'string',
        default: 'backup.yaml',
        describe: 'File to write (a folder gets backup.yaml inside)',
      })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing file' })
      .example('$0 init', 'Write ./backup.yaml')
      .example('$0 init /etc/matric-backup/backup.yaml', 'Write the system-wide config'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      let file = resolve(context.cwd, String(args.path));
      const existing = await stat(file).catch(() => undefined);
      if (existing?.isDirectory()) file = join(file, 'backup.yaml');
      const exists = existing?.isDirectory()
        ? await stat(file).then(
            () => true,
            () => false,
          )
        : existing !== undefined;
      if (exists && args.force !== true) {
        throw new MatricError('USAGE', `${file} already exists`, { hint: 'pass --force to overwrite it' });
      }
      await makeFolders(dirname(file));
      // 0600: the file may later hold credentials.
      await writeFile(file, INIT_TEMPLATE, { mode: 0o600 });
      if (printer.json) printer.result({ file });
      else {
        printer.line(`wrote ${file}`);
        printer.line(`next: edit its sources and destinations, then run: matric-backup check -c ${file}`);
      }
      return ExitCode.OK;
    }),
}));
