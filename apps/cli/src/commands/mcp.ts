import { loadCommandConfig } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { ACCESS_LEVELS } from '../mcp/access.js';
import { command } from './command.js';

export const mcpCommand = command((host) => ({
  command: 'mcp',
  describe:
    'Serve this config to an AI assistant over MCP (stdio): status, shards, verify, files; backup, restore and delete only as --access allows',
  builder: (yargs) =>
    yargs
      .option('access', {
        choices: ACCESS_LEVELS,
        default: 'read' as const,
        describe:
          'read: look only; operate: also back up and restore (into backup.api.restore_roots); full: also delete',
      })
      .example('$0 mcp -c /etc/matric-backup/backup.yaml', 'What an MCP client starts: read-only tools')
      .example(
        '$0 mcp --access operate',
        'Also let the assistant run a backup and restore into the restore roots',
      ),
  handler: (args) =>
    host.run(async (context) => {
      const config = await loadCommandConfig(context);
      // The SDK loads only here: every other command starts without it.
      const { serveStdio } = await import('../mcp/server.js');
      await serveStdio(config, args.access, context.printer);
      return ExitCode.OK;
    }),
}));
