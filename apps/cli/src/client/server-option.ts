import type { Argv } from 'yargs';

/** `--server` and `--token-file`, for the commands a running `serve` can answer instead. */
export function serverOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('server', {
      type: 'string',
      requiresArg: true,
      describe:
        'Ask a running `matric-backup serve` instead of doing the work here: unix:/run/matric-backup/api.sock or http://host:port',
    })
    .option('token-file', {
      type: 'string',
      requiresArg: true,
      describe: 'With --server: a file holding the API token (default: $MATRIC_BACKUP_API_TOKEN)',
    });
}
