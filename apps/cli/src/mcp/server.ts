import { createRequire } from 'node:module';
import type { LoadedConfig } from '@matric-backup/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Printer } from '../output/printer.js';
import type { AccessLevel } from './access.js';
import { addActingTools } from './act-tools.js';
import { createContext } from './context.js';
import { addReadTools } from './read-tools.js';
import { addResources } from './resources.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** An MCP server over the config's operations, offering the tools `access` allows. */
export function createMcpServer(
  config: LoadedConfig,
  access: AccessLevel,
  over: 'stdio' | 'http' = 'stdio',
  warn?: (message: string) => void,
): McpServer {
  const context = createContext(config, access, warn);
  const server = new McpServer(
    { name: 'matric-backup', version },
    {
      capabilities: { logging: {} },
      instructions: instructions(config, access, over),
    },
  );
  addReadTools(server, context);
  addActingTools(server, context);
  addResources(server, context);
  return server;
}

/** Serves MCP on stdin/stdout until the client closes stdin; stdout carries nothing else. */
export async function serveStdio(config: LoadedConfig, access: AccessLevel, printer: Printer): Promise<void> {
  // The printer writes only to stderr here (and `--log-format json` records go there too, see cli.ts).
  const server = createMcpServer(config, access, 'stdio', (message) => printer.warn(message));
  const closed = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
  await server.connect(new StdioServerTransport());
  printer.note(`matric-backup mcp: serving ${config.file} on stdio, access ${access}`);
  await closed;
  await server.close();
}

function instructions(config: LoadedConfig, access: AccessLevel, over: 'stdio' | 'http'): string {
  const acting =
    over === 'http'
      ? "Over serve's HTTP endpoint only the read-only tools are offered: backups, restores and deletions go through the API's jobs, or `matric-backup mcp --access operate` on stdio."
      : {
          read: 'This server is read-only (--access read): backup_now and restore_backup need --access operate, delete_backup --access full.',
          operate:
            'backup_now and restore_backup are available (restore only into backup.api.restore_roots, a dry run unless dry_run is false); delete_backup needs --access full.',
          full: 'backup_now, restore_backup and delete_backup are available; restore and delete are dry runs unless dry_run is false.',
        }[access];
  return `matric-backup: backups of the config "${config.backup.name}" (${config.file}). A backup is a "shard" stored on one or more destinations. Start with backup_status; list_backups gives shard ids. ${acting}`;
}
