import {
  ancestorsOf,
  MatricError,
  openDestination,
  parseDuration,
  readShardListing,
  type ShardManifest,
  selectDestinations,
} from '@matric-backup/core';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import picomatch from 'picomatch';
import { z } from 'zod';
import { eventHistory, historyEntry, runHistory } from '../operations/history.js';
import { shardInfo } from '../operations/info.js';
import { type ListedShard, listBackups } from '../operations/list.js';
import { reportMaintenance, verifyOutcome } from '../operations/maintenance-report.js';
import { readStatus } from '../operations/status.js';
import { verifyBackups } from '../operations/verify.js';
import { addTool, type McpContext, progressSender } from './context.js';
import { errorFields, toolResult } from './results.js';
import { shardSummary } from './shard-summary.js';

const destinationNames = z
  .array(z.string())
  .optional()
  .describe('Names of configured destinations to look at; default: every enabled one');
const shardIdInput = z
  .string()
  .default('latest')
  .describe(
    'A shard id such as backup_20250131_020004_ab12cd34, or "latest" for this config\'s newest shard',
  );

/** The tools that only look: offered at every access level. */
export function addReadTools(server: McpServer, context: McpContext): void {
  const { config, mask } = context;

  addTool(server, context, 'backup_status', {
    title: 'Backup status',
    description:
      "Whether this config's backups are healthy: per destination its newest shard, how old it is, how many shards and bytes it holds, the outcome of the last run that wrote to it, and a health verdict (ok, stale, no_backup, error). Start here when asked whether last night's backup ran.",
    input: {
      destinations: destinationNames,
      max_age: z
        .string()
        .optional()
        .describe(
          'A destination whose newest shard is older than this is "stale", e.g. 36h or 7d (units s, m, h, d); default: age is reported, not judged',
        ),
    },
    readOnly: true,
    run: async ({ destinations, max_age }) => {
      const maxAgeMs = max_age === undefined ? undefined : parseMaxAge(max_age);
      const [report, runs] = await Promise.all([
        readStatus(config, { destinations, maxAgeMs }),
        runHistory(config, { limit: 100 }),
      ]);
      const rows = report.destinations.map((row) => {
        const last = runs.find((run) => run.destinations.some((d) => d.name === row.name));
        const lastRun = last && {
          id: last.id,
          started_at: last.started_at,
          run_status: last.status,
          status: last.destinations.find((d) => d.name === row.name)?.status,
          error: last.destinations.find((d) => d.name === row.name)?.error ?? last.error,
        };
        if (row.error !== undefined)
          return {
            name: row.name,
            type: row.type,
            health: 'error',
            error: errorFields(row.error),
            last_run: lastRun,
          };
        const status = row.status!;
        const health = !status.newest ? 'no_backup' : row.stale ? 'stale' : 'ok';
        return {
          name: row.name,
          type: row.type,
          health,
          newest: status.newest,
          age_seconds: status.ageMs === undefined ? undefined : Math.round(status.ageMs / 1000),
          shards: status.count,
          stored_bytes: status.bytes,
          incomplete: status.incomplete,
          future_dated: status.future,
          foreign_shards: status.foreign,
          last_run: lastRun,
        };
      });
      const text = rows
        .map((row) => {
          if (row.health === 'error') return `${row.name}: ERROR ${row.error?.code}: ${row.error?.message}`;
          if (!row.newest) return `${row.name}: no backup of this config`;
          return `${row.name}: ${row.health}, newest ${row.newest.id} (${ageText(row.age_seconds ?? 0)} old), ${row.shards} shard(s)${row.last_run ? `, last run ${row.last_run.status}` : ''}`;
        })
        .join('\n');
      return toolResult(
        text,
        {
          ok: report.ok && rows.every((row) => row.health === 'ok'),
          config: { name: config.backup.name, source_instance: config.backup.source_instance },
          ...(maxAgeMs !== undefined && { max_age_seconds: maxAgeMs / 1000 }),
          destinations: rows,
        },
        mask,
      );
    },
  });

  addTool(server, context, 'list_backups', {
    title: 'List backups',
    description:
      'The shards (backups) on each destination, newest first: id, type (full or incremental, with parent and chain), creation time, files, size before and after compression, sources. Incomplete shards (an interrupted upload) are listed apart. Use the ids with backup_info, verify_backup, list_files and restore_backup.',
    input: {
      destination: z.string().optional().describe('One configured destination; default: every enabled one'),
      limit: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(20)
        .describe('At most this many shards per destination'),
      type: z
        .enum(['full', 'incremental', 'any'])
        .default('any')
        .describe('Only full shards, only incremental ones, or both'),
      own_only: z
        .boolean()
        .default(true)
        .describe(
          "Only this config's shards (false: also other configs' or hosts' shards on a shared destination)",
        ),
    },
    readOnly: true,
    run: async ({ destination, limit, type, own_only }) => {
      const listings = await listBackups(config, {
        destinations: destination === undefined ? undefined : [destination],
        own: own_only,
      });
      const rows = listings.map((listing) => {
        if (listing.error !== undefined)
          return { name: listing.name, type: listing.type, error: errorFields(listing.error) };
        const matching = listing.complete.filter((shard) => type === 'any' || shard.type === type);
        return {
          name: listing.name,
          type: listing.type,
          total: matching.length,
          truncated: matching.length > limit,
          shards: matching.slice(0, limit).map(listedSummary),
          incomplete: listing.incomplete.map((shard) => ({
            id: shard.id,
            reason: shard.reason,
            owner: shard.owner,
            removed_by_prune: shard.removable,
          })),
        };
      });
      const text = rows
        .map((row) =>
          'error' in row && row.error
            ? `${row.name}: ERROR ${row.error.code}: ${row.error.message}`
            : `${row.name}: ${row.total} shard(s)${row.shards?.[0] ? `, newest ${row.shards[0].id}` : ''}${row.incomplete?.length ? `, ${row.incomplete.length} incomplete` : ''}`,
        )
        .join('\n');
      return toolResult(text, { destinations: rows }, mask);
    },
  });

  addTool(server, context, 'backup_info', {
    title: 'Backup details',
    description:
      'The full manifest of one shard (sources and where they were read from, counts, sizes, compression, encryption, checksum, warnings), every destination that holds it, and for an incremental shard its chain (the full shard it builds on, then each incremental up to it): restoring it needs every link.',
    input: { id: shardIdInput, destinations: destinationNames },
    readOnly: true,
    run: async ({ id, destinations }) => {
      const info = await shardInfo(config, id, { destinations });
      if (!info.manifest) throw notFound(id, info.failures);
      const { manifest } = info;
      const chain =
        manifest.type === 'incremental' ? await chainOf(manifest, info.locations[0]?.destination) : undefined;
      const text = [
        `${manifest.id}: ${manifest.type} shard of ${manifest.created_at}, ${manifest.file_count} files, ${manifest.size_bytes} bytes`,
        `stored on: ${info.locations.map((location) => location.destination).join(', ')}`,
        ...(chain ? [`chain: ${chain.join(' -> ')}`] : []),
      ].join('\n');
      return toolResult(
        text,
        {
          manifest,
          locations: info.locations,
          ...(chain && { chain }),
          unsearched: info.failures.map((failure) => ({
            destination: failure.destination,
            error: errorFields(failure.error),
          })),
        },
        mask,
      );
    },
  });

  addTool(server, context, 'verify_backup', {
    title: 'Verify a backup',
    description:
      "Re-reads a stored shard on each destination (its size and sha256, then every file against the manifest inside it) without restoring anything, and says per destination whether it is intact. Reads the whole archive: takes as long as downloading it. An encrypted shard's files are checked only when the config names the key (backup.encryption.identity_file).",
    input: { id: shardIdInput, destinations: destinationNames },
    readOnly: true,
    run: async ({ id, destinations }, extra) => {
      const encryption = config.backup.encryption;
      const warnings: string[] = [];
      const send = progressSender(extra);
      // Several shards are read one after another: progress counts the bytes of all of them.
      let done = 0;
      const startedAt = Date.now();
      const report = await verifyBackups(config, {
        id,
        destinations,
        identity: encryption?.identity_file,
        gpgHomedir: encryption?.gpg_homedir,
        onShardStart: (destination, shard) => {
          let read = 0;
          return {
            update: (progress) => {
              read = progress.bytes;
              send(done + read, `verifying ${shard} on ${destination}: ${read} of ${progress.total} bytes`);
            },
            stop: () => {
              done += read;
            },
          };
        },
      });
      // Recorded in the history and notified as the CLI's verify is.
      await reportMaintenance(config, verifyOutcome(config, report.lines, startedAt), (message) =>
        warnings.push(message),
      );
      const results = report.lines.map((line) => ({
        destination: line.destination,
        id: line.id,
        ok: line.ok,
        files_checked: line.files_checked,
        bytes_read: line.bytes,
        problem_count: line.problems.length,
        problems: line.problems.slice(0, 50),
        // What could not be checked (an encrypted shard's contents without its key), as coded warnings.
        ...(line.warnings && { warnings: line.warnings }),
      }));
      const ok = results.every((result) => result.ok);
      const text = results
        .map((result) =>
          result.ok
            ? `${result.destination} ${result.id}: ok, ${result.files_checked} files checked`
            : `${result.destination} ${result.id || '-'}: FAILED, ${result.problem_count} problem(s); first: ${result.problems[0]?.reason ?? ''}`,
        )
        .join('\n');
      return toolResult(text, { ok, results, warnings, hints: report.hints }, mask);
    },
  });

  addTool(server, context, 'list_files', {
    title: 'List files in a backup',
    description:
      "The files, folders and links inside a shard whose archive path matches a glob, read from the shard's small index object (from its archive when it has none), without restoring anything. Archive paths start with the source name (notes/2024/plan.md). For an incremental shard this lists what changed since its parent (and the paths it records as deleted), not the whole tree.",
    input: {
      id: shardIdInput,
      pattern: z
        .string()
        .default('**')
        .describe('Glob on archive paths, e.g. notes/** or **/*.sql; a folder matching brings nothing else'),
      destination: z
        .string()
        .optional()
        .describe('Read from this destination; default: the first that holds the shard'),
      limit: z.number().int().min(1).max(5000).default(200).describe('At most this many entries'),
    },
    readOnly: true,
    run: async ({ id, pattern, destination, limit }) => {
      const info = await shardInfo(config, id, {
        destinations: destination === undefined ? undefined : [destination],
      });
      if (!info.manifest || !info.locations[0]) throw notFound(id, info.failures);
      const { manifest } = info;
      const from = info.locations[0].destination;
      const [resolved] = selectDestinations(config, [from]);
      const opened = await openDestination(config, resolved!);
      const encryption = config.backup.encryption;
      const { inner } = await readShardListing(opened, manifest, {
        identity: encryption?.identity_file,
        gpgHomedir: encryption?.gpg_homedir,
      }).finally(() => opened.close().catch(() => undefined));
      const matches = picomatch(pattern, { dot: true });
      const matching = inner.entries.filter((entry) => matches(entry.path));
      const entries = matching.slice(0, limit).map((entry) => ({
        path: entry.path,
        type: entry.hardlink ? 'hardlink' : entry.type,
        ...(entry.size !== undefined && { size: entry.size }),
        mode: `0${(entry.mode & 0o7777).toString(8)}`,
        mtime: new Date(entry.mtime).toISOString(),
        ...(entry.target !== undefined && { target: entry.target }),
        ...(entry.hardlink !== undefined && { hardlink_to: entry.hardlink }),
        ...(entry.sha256 !== undefined && { sha256: entry.sha256 }),
      }));
      const deleted = (inner.deleted ?? []).filter((path) => matches(path));
      const text = `${matching.length} of ${inner.entries.length} entries of ${manifest.id} (read from ${from}) match ${pattern}${matching.length > limit ? `; the first ${limit} are listed` : ''}${deleted.length ? `; ${deleted.length} matching path(s) deleted since the parent` : ''}`;
      return toolResult(
        text,
        {
          id: manifest.id,
          type: manifest.type,
          destination: from,
          pattern,
          total_entries: inner.entries.length,
          matched: matching.length,
          truncated: matching.length > limit,
          entries,
          ...(manifest.type === 'incremental' && { deleted }),
        },
        mask,
      );
    },
  });

  addTool(server, context, 'backup_history', {
    title: 'Backup run history',
    description:
      "This config's past backup runs, verifies and prunes (`kind`), newest first, from its state folder: when each started, its outcome (success, warning, partial, failed), the shard id, and per destination the result, bytes, upload time, attempts and error; a verify or prune lists per destination the shards it verified or deleted and those that failed.",
    input: { limit: z.number().int().min(1).max(500).default(10).describe('At most this many runs') },
    readOnly: true,
    run: async ({ limit }) => {
      const runs = (await eventHistory(config, { limit })).map(historyEntry);
      const text =
        runs.length === 0
          ? `no runs recorded for ${config.file}`
          : runs
              .map(
                (run) =>
                  `${run.started_at} ${run.kind}${'id' in run ? ` ${run.id}` : ''} ${run.status}${run.error ? `: ${run.error.message}` : ''}`,
              )
              .join('\n');
      return toolResult(text, { runs }, mask);
    },
  });

  /** The ids of an incremental shard's chain, base first, from the listing of a destination that holds it. */
  async function chainOf(manifest: ShardManifest, destination: string | undefined): Promise<string[]> {
    if (destination === undefined) return [manifest.id];
    const [listing] = await listBackups(config, { destinations: [destination] });
    const ancestors = ancestorsOf(listing?.complete ?? [], manifest.id);
    return [...ancestors.reverse().map((shard) => shard.id), manifest.id];
  }
}

function listedSummary(shard: ListedShard) {
  return { ...shardSummary(shard), owner: shard.owner, future_dated: shard.future };
}

function parseMaxAge(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new MatricError('USAGE', `max_age: ${(error as Error).message}`, {
      hint: 'give a duration such as 36h or 7d',
    });
  }
}

function notFound(id: string, failures: Array<{ destination: string; error: unknown }>): MatricError {
  const unsearched = failures.length
    ? `; could not search ${failures.map((failure) => failure.destination).join(', ')}`
    : '';
  return new MatricError(
    'SHARD_NOT_FOUND',
    `shard "${id}" is on none of the destinations searched${unsearched}`,
    {
      hint: 'call list_backups to see the shards each destination holds',
    },
  );
}

function ageText(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
