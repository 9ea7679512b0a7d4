import {
  CONFLICT_STRATEGIES,
  type ConflictStrategy,
  dependentsOf,
  listShards,
  loadShardOwner,
  MatricError,
  type RunEvent,
  selectDestinations,
  shardOwnership,
} from '@matric-backup/core';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { onEachDestination } from '../destinations.js';
import { restoreDocument } from '../documents/restore.js';
import { runDocument } from '../documents/run.js';
import { copyBackups } from '../operations/copy.js';
import { deleteBackup } from '../operations/delete.js';
import { restoreBackup } from '../operations/restore.js';
import { targetInsideRoots } from '../operations/restore-roots.js';
import { backupNow } from '../operations/run.js';
import { allows } from './access.js';
import { addTool, type McpContext, progressSender, type ToolExtra } from './context.js';
import { toolResult } from './results.js';

/** Who the audit log names for what an MCP client did. */
const CALLER = 'mcp';

/** The config key that lists where `restore_backup` may write. */
const RESTORE_ROOTS_KEY = 'backup.api.restore_roots';

/** The tools that change something: backup, restore and copy from `operate`, delete only at `full`. */
export function addActingTools(server: McpServer, context: McpContext): void {
  const { config, mask, warn } = context;
  if (!allows(context.access, 'operate')) return;

  addTool(server, context, 'backup_now', {
    title: 'Back up now',
    description:
      'Runs a backup of this config now: reads the sources once, builds one shard and stores it on every enabled destination (or those named), then applies retention. Sends progress notifications when the request carries a progress token. Fails with LOCKED while another run of this config is going.',
    input: {
      destinations: z
        .array(z.string())
        .optional()
        .describe('Store the shard only on these configured destinations; default: every enabled one'),
      type: z
        .enum(['full', 'incremental'])
        .optional()
        .describe(
          'full: the whole tree; incremental: only what changed since the previous shard (made full, with the reason, when there is nothing to build on); default: incremental when the config sets backup.incremental, else full',
        ),
      dry_run: z
        .boolean()
        .default(false)
        .describe('Only check the sources and say what would be archived; nothing is written'),
    },
    readOnly: false,
    run: async ({ destinations, type, dry_run }, extra) => {
      const progress = runProgress(extra);
      const summary = await backupNow(
        config,
        { destinations, dryRun: dry_run, onEvent: progress, ...(type && { type }) },
        warn,
      );
      const stored = summary.destinations.filter((destination) => destination.status === 'success');
      const text = summary.dryRun
        ? `dry run: ${summary.plan ? 'the sources can be read' : 'nothing archived'}; nothing was written`
        : `${summary.status}: ${summary.type} shard ${summary.id}${summary.fullReason ? ` (full: ${summary.fullReason})` : ''} stored on ${stored.map((d) => d.name).join(', ') || 'no destination'}${summary.error ? `; ${summary.error.message}` : ''}`;
      const result = toolResult(
        text,
        { ...runDocument(summary), manifest: undefined, shard: summary.manifest },
        mask,
      );
      return summary.status === 'failed' ? { ...result, isError: true } : result;
    },
  });

  addTool(server, context, 'restore_backup', {
    title: 'Restore a backup',
    description: `Restores a shard (or the files matching include globs) into a folder inside the configured restore roots (${RESTORE_ROOTS_KEY}), checking every file. A DRY RUN BY DEFAULT: it reads and checks everything and lists what would change, writing nothing; pass dry_run false to write. The target must be new or empty unless a conflict strategy says what to do with existing files. Never restores in place.`,
    input: {
      id: z.string().default('latest').describe('Shard id, or "latest" for this config\'s newest shard'),
      to: z
        .string()
        .describe(
          `Absolute target folder inside one of the restore roots (${RESTORE_ROOTS_KEY}); created if missing`,
        ),
      dry_run: z
        .boolean()
        .default(true)
        .describe('true (default): only report what would change; false: write'),
      conflict: z
        .enum(CONFLICT_STRATEGIES as [ConflictStrategy, ...ConflictStrategy[]])
        .optional()
        .describe(
          'For a target that is not empty: skip_existing keeps existing files, overwrite replaces them, merge replaces only older ones, rename_new writes the restored file beside the existing one',
        ),
      include: z
        .array(z.string())
        .optional()
        .describe('Restore only archive paths matching these globs, e.g. notes/2024/**'),
      destinations: z
        .array(z.string())
        .optional()
        .describe('Read only from these destinations; default: the first that holds an intact copy'),
    },
    readOnly: false,
    destructive: true,
    run: async ({ id, to, dry_run, conflict, include, destinations }, extra) => {
      const send = progressSender(extra);
      const target = await targetInsideRoots(to, config.backup.api?.restore_roots ?? [], RESTORE_ROOTS_KEY);
      const result = await restoreBackup(
        config,
        {
          id,
          to: target,
          dryRun: dry_run,
          ...(conflict && { conflict }),
          ...(include?.length && { include }),
          ...(destinations && { destinations }),
          caller: CALLER,
          onProgress: (progress) =>
            send(progress.bytes, `reading the shard: ${progress.files} files extracted`, progress.total),
        },
        warn,
      );
      const changes = result.changes.slice(0, 200);
      const text = `${result.dryRun ? 'dry run: would restore' : 'restored'} ${result.files} file(s), ${result.bytes} bytes of ${result.id} from ${result.destination} into ${result.to}${result.dryRun ? '; nothing was written (call again with dry_run false to write)' : ''}`;
      return toolResult(
        text,
        {
          ...restoreDocument({ destination: result.destination }, result),
          changes,
          changes_truncated: result.changes.length > changes.length,
        },
        mask,
      );
    },
  });

  addTool(server, context, 'copy_backup', {
    title: 'Copy backups to another destination',
    description:
      'Copies shards from one configured destination to another (a migration, a second copy offsite): each archive streamed from the source into the target, checked against its sha256 and size, its sidecar stored last. An incremental shard brings the links of its chain the target lacks; shards already on the target are left as they are. Either destination may be disabled in the config. Sends progress notifications when the request carries a progress token.',
    input: {
      ids: z
        .array(z.string())
        .optional()
        .describe(
          'Shard ids, or ["latest"] for this config\'s newest on the source; default ["latest"] unless all',
        ),
      all: z.boolean().default(false).describe('Every complete shard of the source instead of ids'),
      from: z.string().describe('The destination to copy from (its name in the config)'),
      to: z.string().describe('The destination to copy to (its name in the config)'),
      dry_run: z.boolean().default(false).describe('true: only say what would be copied; nothing is written'),
    },
    readOnly: false,
    run: async ({ ids, all, from, to, dry_run }, extra) => {
      if (all && ids?.length) throw new MatricError('USAGE', 'give ids or all, not both');
      const send = progressSender(extra);
      let done = 0;
      const report = await copyBackups(
        config,
        {
          ids: all ? [] : (ids ?? ['latest']),
          all,
          from,
          to,
          dryRun: dry_run,
          caller: CALLER,
          onShardStart: (manifest) => {
            let stored = 0;
            return {
              update: (bytes) => {
                stored = bytes;
                send(done + stored, `copying ${manifest.id}: ${bytes} of ${manifest.object.size} bytes`);
              },
              stop: () => {
                done += stored;
              },
            };
          },
        },
        warn,
      );
      const count = (status: string) => report.shards.filter((row) => row.status === status).length;
      const failed = report.shards.filter((row) => row.status === 'failed');
      const text = report.dry_run
        ? `dry run: would copy ${count('would_copy')} shard(s) from ${from} to ${to} (${count('present')} already there); nothing was written`
        : `copied ${count('copied')} shard(s), ${report.bytes} bytes, from ${from} to ${to} (${count('present')} already there)${failed.map((row) => `; ${row.id} failed: ${row.error?.message ?? 'failed'}`).join('')}`;
      const result = toolResult(text, { ...report }, mask);
      return report.ok ? result : { ...result, isError: true };
    },
  });

  if (!allows(context.access, 'full')) return;

  addTool(server, context, 'delete_backup', {
    title: 'Delete a backup',
    description:
      "Deletes one shard of this config from every destination holding it (or those named). Refused when it would leave a destination with fewer of this config's shards than its retention's min_backups, and for other configs' shards. A DRY RUN BY DEFAULT: pass dry_run false to delete. Cannot be undone.",
    input: {
      id: z.string().describe('The exact shard id (not "latest")'),
      destinations: z
        .array(z.string())
        .optional()
        .describe('Only from these destinations; default: every enabled one'),
      dry_run: z
        .boolean()
        .default(true)
        .describe('true (default): only say what would be deleted; false: delete'),
      with_dependents: z
        .boolean()
        .default(false)
        .describe(
          'Also delete the incremental shards that need this one to be restored (they go first); without it such a shard is refused with HAS_DEPENDENTS naming them',
        ),
    },
    readOnly: false,
    destructive: true,
    run: async ({ id, destinations, dry_run, with_dependents }) => {
      await refuseBelowMinimum(context, id, destinations, with_dependents);
      const outcome = await deleteBackup(
        config,
        { id, destinations, dryRun: dry_run, withDependents: with_dependents, caller: CALLER },
        warn,
      );
      const touched = outcome.destinations.filter((row) => row.status !== 'absent');
      const text = `${outcome.dry_run ? 'dry run: would delete' : 'deleted'} ${id} on ${touched.map((row) => `${row.destination} (${row.status}${row.dependents.length ? `, with ${row.dependents.join(', ')}` : ''})`).join(', ')}`;
      const result = toolResult(text, { ...outcome }, mask);
      return outcome.failed ? { ...result, isError: true } : result;
    },
  });
}

/**
 * Refuses to delete a shard another config wrote, or one whose deletion (with its
 * dependents, when they go too) would leave a destination holding it with fewer of
 * this config's shards than its retention's min_backups: the floor prune keeps
 * holds for an assistant too.
 */
async function refuseBelowMinimum(
  { config }: McpContext,
  id: string,
  destinations: string[] | undefined,
  withDependents: boolean,
): Promise<void> {
  const owner = await loadShardOwner(config);
  const outcomes = await onEachDestination(config, selectDestinations(config, destinations), async (opened) =>
    listShards(opened),
  );
  for (const outcome of outcomes) {
    if (!outcome.ok) throw outcome.error;
    const shard = outcome.value.complete.find((manifest) => manifest.id === id);
    if (!shard) continue;
    const name = outcome.destination.name;
    if (shardOwnership(shard, owner) !== 'own') {
      throw new MatricError('USAGE', `shard ${id} on "${name}" was not written by this config: not deleted`, {
        hint: "delete another config's shards with that config, or with `matric-backup delete` by hand",
      });
    }
    const own = outcome.value.complete.filter((manifest) => shardOwnership(manifest, owner) === 'own').length;
    const going = 1 + (withDependents ? dependentsOf(outcome.value.complete, id).length : 0);
    const minimum = outcome.destination.retention?.min_backups ?? 0;
    if (own - going < minimum) {
      throw new MatricError(
        'USAGE',
        `deleting ${id}${going > 1 ? ` and the ${going - 1} shard(s) that need it` : ''} would leave "${name}" with ${own - going} of this config's shards, below its min_backups of ${minimum}: not deleted`,
        { hint: 'run a backup first, or lower min_backups in the config if fewer backups are really wanted' },
      );
    }
  }
}

/**
 * A run's events as progress: bytes read from the sources, then bytes
 * uploaded to every destination on top; no total (the archive's size is known
 * only once it is built).
 */
function runProgress(extra: ToolExtra): (event: RunEvent) => void {
  const send = progressSender(extra);
  let archived = 0;
  let last = 0;
  const uploaded = new Map<string, number>();
  const uploadedSum = () => [...uploaded.values()].reduce((a, b) => a + b, 0);
  const at = (progress: number, message: string) => {
    last = Math.max(last, progress);
    send(progress, message);
  };
  return (event) => {
    switch (event.type) {
      case 'archive-progress':
      case 'archive-done':
        archived = event.bytesIn;
        at(archived, `archiving: ${event.files} files, ${event.bytesIn} bytes read`);
        break;
      case 'upload-start':
        uploaded.set(event.destination, 0);
        at(archived + 1, `uploading to ${event.destination}`);
        break;
      case 'upload-progress':
        uploaded.set(event.destination, event.bytes);
        at(
          archived + uploadedSum(),
          `uploading to ${event.destination}: ${event.bytes} of ${event.size} bytes`,
        );
        break;
      case 'upload-done':
        at(last + 1, `${event.destination}: ${event.status}`);
        break;
      default:
        break;
    }
  };
}
