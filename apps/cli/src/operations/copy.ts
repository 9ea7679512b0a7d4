import {
  type CopyOutcome,
  copyShards,
  type Destination,
  type LoadedConfig,
  loadShardOwner,
  MatricError,
  newestOwnShard,
  openDestination,
  type ResolvedDestination,
  retryPolicy,
  type ShardManifest,
} from '@matric-backup/core';
import { recordAudit, type Warn } from '../audit.js';
import { errorRecord } from '../exit-codes.js';

export interface CopyBackupsRequest {
  /** Shard ids or `latest` (this config's newest on the source); empty with `all`. */
  ids: readonly string[];
  /** Every complete shard of the source. */
  all?: boolean;
  from: string;
  to: string;
  dryRun?: boolean;
  /** Called as each shard's copy starts; what it returns hears the archive's bytes stored. */
  onShardStart?: (manifest: ShardManifest) => { update(bytes: number): void; stop(): void };
  /** Each shard's outcome as soon as it is known. */
  onShard?: (row: CopyRow) => void;
  /** Who asked, for the audit line (the daemon's caller). */
  caller?: string;
}

/** One shard of a copy, as commands and the API report it. */
export interface CopyRow {
  id: string;
  type: ShardManifest['type'];
  parent?: string;
  base?: string;
  created_at: string;
  /** The archive's size in bytes. */
  size: number;
  /** `present`: already on the target, left as it is. */
  status: CopyOutcome['status'];
  /** Copied because the selected incremental shard named here needs it (a link of its chain). */
  link_of?: string;
  /** The archive was already on the target, whole, without its sidecar (an earlier copy stopped): only the sidecar was stored. */
  resumed?: boolean;
  /** Bytes written to the target. */
  bytes: number;
  error?: { code: string; message: string; hint?: string };
}

export interface CopyReport {
  from: string;
  to: string;
  dry_run: boolean;
  shards: CopyRow[];
  /** Bytes written to the target in all. */
  bytes: number;
  ok: boolean;
  /** What did not fail the copy but is worth knowing (an archive left without its sidecar, ...). */
  warnings: CopyWarning[];
}

interface CopyWarning {
  /** `INCOMPLETE_LEFT`: an archive stays on the target without its sidecar; `AUDIT_LOG`: no audit line written. */
  code: 'INCOMPLETE_LEFT' | 'AUDIT_LOG';
  message: string;
}

/**
 * Copies shards from one configured destination to another (core's copyShards)
 * and writes the audit line; nothing printed. Either destination may be
 * disabled in the config: naming it is what selects it. Throws USAGE for an
 * unknown or identical pair, SHARD_NOT_FOUND when a named shard is not on the
 * source.
 */
export async function copyBackups(
  config: LoadedConfig,
  request: CopyBackupsRequest,
  warn: Warn,
): Promise<CopyReport> {
  const from = configured(config, request.from, '--from');
  const to = configured(config, request.to, '--to');
  if (from.name === to.name) {
    throw new MatricError('USAGE', `--from and --to both name destination "${from.name}"`, {
      hint: 'copy between two different destinations of the config',
    });
  }
  const owner = await loadShardOwner(config);
  const dryRun = request.dryRun === true;
  const rows: CopyRow[] = [];
  const warnings: CopyWarning[] = [];
  const warnAs = (code: CopyWarning['code']) => (message: string) => {
    warnings.push({ code, message });
    warn(message);
  };
  await withBoth(config, from, to, async (source, target) => {
    await copyShards(source, target, {
      shards: request.all ? 'all' : request.ids,
      latest: (complete) => newestOwnShard(complete, owner, new Date()).newest,
      dryRun,
      policy: retryPolicy(config.backup.retry),
      names: { from: from.name, to: to.name },
      ...(request.onShardStart && { onShardStart: request.onShardStart }),
      warn: warnAs('INCOMPLETE_LEFT'),
      onOutcome: (outcome) => {
        const row = rowOf(outcome);
        rows.push(row);
        request.onShard?.(row);
      },
    });
  });
  const report: CopyReport = {
    from: from.name,
    to: to.name,
    dry_run: dryRun,
    shards: rows,
    bytes: rows.reduce((sum, row) => sum + row.bytes, 0),
    ok: rows.every((row) => row.status !== 'failed'),
    warnings,
  };
  if (!dryRun) {
    await recordAudit(
      config,
      {
        action: 'copy',
        destinations: [from.name, to.name],
        result: report.ok ? 'success' : rows.some((row) => row.status === 'copied') ? 'partial' : 'failed',
        ...(request.caller !== undefined && { caller: request.caller }),
        details: {
          from: from.name,
          to: to.name,
          copied: rows.filter((row) => row.status === 'copied').map((row) => row.id),
          failed: rows.filter((row) => row.status === 'failed').map((row) => row.id),
          bytes: report.bytes,
        },
      },
      warnAs('AUDIT_LOG'),
    );
  }
  return report;
}

function configured(config: LoadedConfig, name: string, option: string): ResolvedDestination {
  const found = config.destinations.find((destination) => destination.name === name);
  if (found) return found;
  const names = config.destinations.map((destination) => destination.name).join(', ');
  throw new MatricError(
    'USAGE',
    `${option}: unknown destination "${name}"; ${config.file} configures ${names}`,
    {
      hint: `name one of the configured destinations with ${option}`,
    },
  );
}

/** Opens both destinations for the duration of `work`, and always closes both. */
async function withBoth(
  config: LoadedConfig,
  from: ResolvedDestination,
  to: ResolvedDestination,
  work: (source: Destination, target: Destination) => Promise<void>,
): Promise<void> {
  const source = await openDestination(config, from);
  try {
    const target = await openDestination(config, to);
    try {
      await work(source, target);
    } finally {
      await target.close().catch(() => undefined);
    }
  } finally {
    await source.close().catch(() => undefined);
  }
}

function rowOf(outcome: CopyOutcome): CopyRow {
  const { manifest } = outcome;
  const hint = (outcome.error as { hint?: unknown } | undefined)?.hint;
  return {
    id: manifest.id,
    type: manifest.type,
    ...(manifest.type === 'incremental' && { parent: manifest.parent, base: manifest.base }),
    created_at: manifest.created_at,
    size: manifest.object.size,
    status: outcome.status,
    ...(outcome.linkOf && { link_of: outcome.linkOf }),
    ...(outcome.resumed && { resumed: true }),
    bytes: outcome.bytes,
    ...(outcome.error !== undefined && {
      error: { ...errorRecord(outcome.error), ...(typeof hint === 'string' && { hint }) },
    }),
  };
}
