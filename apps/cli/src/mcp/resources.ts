import type { LoadedConfig } from '@matric-backup/core';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { destinationStatusDocument } from '../documents/status.js';
import { listBackups } from '../operations/list.js';
import { readStatus } from '../operations/status.js';
import type { McpContext } from './context.js';
import { cleanResult, errorFields } from './results.js';
import { shardSummary } from './shard-summary.js';

/** A key whose value is a credential whatever it holds; `*_file`/`*_command` keys name where one comes from. */
const SECRET_KEY = /(password|passphrase|secret|token|credential|private_key)(?!.*_(file|command)$)/i;

/** The config, the shard list and the status as resources; the guided disaster-recovery check as a prompt. */
export function addResources(server: McpServer, context: McpContext): void {
  const { config, mask } = context;
  const json = (uri: URL, value: unknown) => ({
    contents: [
      {
        uri: uri.href,
        mimeType: 'application/json',
        text: JSON.stringify(cleanResult(value, mask), null, 2),
      },
    ],
  });

  server.registerResource(
    'config',
    'matric-backup://config',
    {
      title: 'Backup configuration',
      description: 'The loaded backup.yaml (paths resolved, defaults applied), every secret masked as ***',
      mimeType: 'application/json',
    },
    async (uri) => json(uri, configView(config, context.access)),
  );
  server.registerResource(
    'shards',
    'matric-backup://shards',
    {
      title: 'Shards',
      description: "This config's shards on each enabled destination, newest first",
      mimeType: 'application/json',
    },
    async (uri) => {
      const listings = await listBackups(config, { own: true });
      return json(uri, {
        destinations: listings.map((listing) =>
          listing.error !== undefined
            ? { name: listing.name, error: errorFields(listing.error) }
            : {
                name: listing.name,
                shards: listing.complete.map(shardSummary),
                incomplete: listing.incomplete.length,
              },
        ),
      });
    },
  );
  server.registerResource(
    'status',
    'matric-backup://status',
    {
      title: 'Backup status',
      description: "Per destination: this config's newest shard, its age, how many shards and bytes",
      mimeType: 'application/json',
    },
    async (uri) => {
      const report = await readStatus(config);
      return json(uri, {
        ok: report.ok,
        destinations: report.destinations.map((row) =>
          row.error !== undefined
            ? { name: row.name, error: errorFields(row.error) }
            : { name: row.name, ...(row.status && destinationStatusDocument(row.status)) },
        ),
      });
    },
  );

  server.registerPrompt(
    'disaster_recovery_check',
    {
      title: 'Disaster-recovery check',
      description:
        'Walks through checking that the backups of this config could be restored today: freshness, integrity, contents, and a dry-run restore',
      argsSchema: {
        max_age: z.string().optional().describe('How old the newest backup may be, e.g. 36h (default 36h)'),
      },
    },
    ({ max_age }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: recoveryCheck(max_age ?? '36h', context) },
        },
      ],
    }),
  );
}

function recoveryCheck(maxAge: string, context: McpContext): string {
  const roots = context.config.backup.api?.restore_roots ?? [];
  const restoreStep =
    context.access === 'read'
      ? '5. Restore rehearsal: this server is read-only (--access read), so say that a dry-run restore was not possible and which access level it needs (operate).'
      : roots.length === 0
        ? '5. Restore rehearsal: no restore root is configured (backup.api.restore_roots), so say that a dry-run restore was not possible and what to add.'
        : `5. Call restore_backup with id "latest", dry_run true (never false) and a new folder inside ${roots[0]} as "to"; report how many files and bytes it would restore and any problem.`;
  return [
    `Check whether the backups of the config "${context.config.backup.name}" could be restored today, step by step, and report a short verdict per destination (OK / AT RISK / FAILED) with the reason.`,
    `1. Call backup_status with max_age "${maxAge}". Any destination that is not "ok" is at risk: say why (stale, no backup, unreachable) and what its last run said.`,
    '2. Call backup_history with limit 10: note failed or partial runs and repeated errors.',
    '3. Call verify_backup with id "latest" for every destination: a failed verify means that copy cannot be trusted; an incremental shard needs its whole chain (backup_info shows it).',
    '4. Call list_files on the latest shard with a pattern for something that matters (e.g. the database dump, or "**" with a small limit) to confirm it holds what is expected.',
    restoreStep,
    '6. Summarise: the newest restorable point in time, where it is stored, and what the operator should fix first. Do not delete anything.',
  ].join('\n');
}

/** The config as a client may see it: what it backs up, where to, and how; credentials masked. */
function configView(config: LoadedConfig, access: string) {
  const { backup } = config;
  return {
    file: config.file,
    access,
    backup: hideSecrets(backup),
    destinations: config.destinations.map((destination) => ({
      name: destination.name,
      type: destination.type,
      enabled: destination.enabled,
      required: destination.required,
      retention: destination.retention,
      settings: hideSecrets(destination.config),
    })),
  };
}

function hideSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hideSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SECRET_KEY.test(key) && item !== undefined && typeof item !== 'object' ? '***' : hideSecrets(item),
    ]),
  );
}
