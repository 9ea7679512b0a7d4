import { createRequire } from 'node:module';
import { MatricError, parseDuration } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { createEventLog } from '../output/event-log.js';
import { command } from './command.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export const serveCommand = command((host) => ({
  command: 'serve',
  describe:
    "Run as a service: the config's schedule, one backup at a time, and an HTTP API on a unix socket (SIGHUP reloads the config)",
  builder: (yargs) =>
    yargs
      .option('stop-timeout', {
        type: 'string',
        default: '5m',
        requiresArg: true,
        describe: 'On SIGTERM, how long running jobs get to finish before they are aborted and cleaned up',
      })
      .example(
        '$0 serve -c /etc/matric-backup/backup.yaml',
        'Serve the API on backup.api.socket, run the schedule',
      )
      .example(
        'curl --unix-socket /run/matric-backup/api.sock -H "Authorization: Bearer $TOKEN" http://localhost/api/v1/backup/status',
        'Ask the service how its backups are',
      ),
  handler: (args) =>
    host.run(async (context) => {
      let stopTimeoutMs: number;
      try {
        stopTimeoutMs = parseDuration(String(args.stopTimeout));
      } catch (error) {
        throw new MatricError('USAGE', `--stop-timeout: ${(error as Error).message}`);
      }
      // Fastify, pino and the scheduler load here, never for the other commands.
      const { serve } = await import('../serve/daemon.js');
      const { printer } = context;
      const log =
        printer.jsonLog ??
        (await createEventLog({
          format: 'text',
          verbose: printer.verbose,
          redact: (text) => printer.redact(text),
        }));
      return serve({ load: () => loadCommandConfig(context), env: context.env, version, stopTimeoutMs, log });
    }),
}));
