import {
  type Destination,
  deleteChainsSafely,
  dependentsOf,
  type LoadedConfig,
  listShards,
  MatricError,
  objectKeysOf,
  openDestination,
  parseShardId,
  type ResolvedDestination,
  selectDestinations,
  shardObjects,
} from '@matric-backup/core';
import { recordAudit, type Warn } from '../audit.js';
import { onEachDestination } from '../destinations.js';
import { errorRecord } from '../exit-codes.js';
import { withRunLock } from '../run-lock.js';

/** A destination that holds the shard: its objects, before they are deleted. */
export interface ShardHolder {
  destination: ResolvedDestination;
  keys: string[];
  bytes: number;
  /** Incremental shards there that need this one (with `withDependents`: deleted too, first). */
  dependents: Dependent[];
}

interface DeletionRow {
  destination: string;
  status: 'deleted' | 'would delete' | 'failed' | 'absent' | 'error';
  keys: string[];
  /** Bytes of the shard's objects there (0 where absent or unreadable), its dependents' included. */
  bytes: number;
  /** Incremental shards deleted with it there (`withDependents`), children before parents. */
  dependents: string[];
  error?: { code: string; message: string };
}

export interface DeleteRequest {
  id: string;
  /** Only from these destinations; default every enabled one. */
  destinations?: string[];
  dryRun?: boolean;
  /**
   * Also delete the incremental shards that need this one (its dependents):
   * without it, a shard with dependents on a selected destination is refused,
   * as deleting it alone would leave them unrestorable.
   */
  withDependents?: boolean;
  /** Asked once the holders are known, before anything is deleted; false keeps the shard. */
  confirm?: (holders: ShardHolder[]) => Promise<boolean>;
  /** A destination that could not be read (it becomes an `error` row; the others go on). */
  onDestinationError?: (destination: string, error: unknown) => void;
  /** Who asked, for the audit line (the daemon's caller). */
  caller?: string;
}

export interface DeleteOutcome {
  id: string;
  dry_run: boolean;
  /** `confirm` said no: nothing was deleted and no audit line written. */
  cancelled: boolean;
  /** Some destination failed to delete or could not be read. */
  failed: boolean;
  destinations: DeletionRow[];
}

/**
 * Deletes one shard (archive first, then its sidecar) from every selected
 * destination that holds it, and records the audit line. Its dependents are
 * listed, `confirm` asked and the objects deleted under the config's run lock
 * (LOCKED while a run holds it). A shard on none of them is SHARD_NOT_FOUND; an
 * id that is not a shard id is USAGE. Prints nothing.
 */
export async function deleteBackup(
  config: LoadedConfig,
  request: DeleteRequest,
  warn: Warn,
): Promise<DeleteOutcome> {
  const { id } = request;
  const dryRun = request.dryRun === true;
  if (!parseShardId(id)) {
    throw new MatricError('USAGE', `"${id}" is not a shard id (like backup_20250131_020004)`, {
      hint: 'run `matric-backup list` to see the shards',
    });
  }
  const rows: DeletionRow[] = [];
  const holders: Array<ShardHolder & { opened: Destination }> = [];
  // Listed, asked and deleted under one run lock: a run in between would make an
  // incremental on the shard being deleted, orphaned by the deletion.
  const listAndDelete = async (): Promise<boolean> => {
    for (const destination of selectDestinations(config, request.destinations)) {
      try {
        const opened = await openDestination(config, destination);
        const objects = await shardObjects(opened, id).catch(async (error: unknown) => {
          await opened.close().catch(() => undefined);
          throw error;
        });
        if (objects.length === 0) {
          await opened.close().catch(() => undefined);
          rows.push({ destination: destination.name, status: 'absent', keys: [], bytes: 0, dependents: [] });
          continue;
        }
        const keys = objects.map((object) => object.key);
        const dependents = await dependentsThere(opened, id).catch(async (error: unknown) => {
          await opened.close().catch(() => undefined);
          throw error;
        });
        const bytes = [...objects, ...dependents].reduce((sum, object) => sum + object.size, 0);
        holders.push({ destination, opened, keys, bytes, dependents });
      } catch (error) {
        request.onDestinationError?.(destination.name, error);
        rows.push({
          destination: destination.name,
          status: 'error',
          keys: [],
          bytes: 0,
          dependents: [],
          error: errorRecord(error),
        });
      }
    }
    if (holders.length === 0 && !rows.some((row) => row.status === 'error')) {
      throw new MatricError(
        'SHARD_NOT_FOUND',
        `shard ${id} is on none of: ${rows.map((r) => r.destination).join(', ')}`,
      );
    }

    const needed = holders.filter((holder) => holder.dependents.length > 0);
    if (needed.length > 0 && request.withDependents !== true) throw hasDependents(id, needed);

    if (dryRun) {
      rows.push(
        ...holders.map((h) => ({
          destination: h.destination.name,
          status: 'would delete' as const,
          keys: h.keys,
          bytes: h.bytes,
          dependents: dependentIds(h),
        })),
      );
      return true;
    }
    if (holders.length === 0) return true;
    if (request.confirm && !(await request.confirm(holders))) return false;
    for (const holder of holders) {
      // The incrementals first, newest link first: an interruption never orphans one.
      const outcome = await deleteChainsSafely(holder.opened, [
        ...holder.dependents,
        { id, keys: holder.keys },
      ]);
      const failure = outcome.failed[0];
      rows.push({
        destination: holder.destination.name,
        status: failure ? 'failed' : 'deleted',
        keys: holder.keys,
        bytes: holder.bytes,
        dependents: dependentIds(holder),
        ...(failure
          ? { error: { code: 'DELETE_FAILED', message: `${failure.id}: ${failure.message}` } }
          : {}),
      });
    }
    return true;
  };
  try {
    // A dry run deletes nothing, so it does not wait for (or block) a run.
    const confirmed = dryRun ? await listAndDelete() : await withRunLock(config, listAndDelete);
    if (!confirmed) return { id, dry_run: dryRun, cancelled: true, failed: false, destinations: rows };
  } finally {
    await Promise.all(holders.map((holder) => holder.opened.close().catch(() => undefined)));
  }

  const failed = rows.some((row) => row.status === 'failed' || row.status === 'error');
  const touched = rows.filter((row) => row.status !== 'absent');
  await recordAudit(
    config,
    {
      action: 'delete',
      shard: id,
      destinations: touched.map((row) => row.destination),
      result: dryRun
        ? 'dry-run'
        : !failed
          ? 'success'
          : rows.some((r) => r.status === 'deleted')
            ? 'partial'
            : 'failed',
      ...(request.caller !== undefined && { caller: request.caller }),
      details: { keys: Object.fromEntries(touched.map((row) => [row.destination, row.keys])) },
    },
    warn,
  );
  return { id, dry_run: dryRun, cancelled: false, failed, destinations: rows };
}

interface Dependent {
  id: string;
  parent: string;
  keys: string[];
  /** Of its archive. */
  size: number;
}

/** The complete incremental shards on `dest` that need shard `id`, children after their parents. */
async function dependentsThere(dest: Destination, id: string): Promise<Dependent[]> {
  const { complete } = await listShards(dest);
  const links = complete.map((manifest) => ({
    id: manifest.id,
    manifest,
    ...(manifest.type === 'incremental' && { parent: manifest.parent }),
  }));
  return dependentsOf(links, id).map(({ manifest, parent }) => ({
    id: manifest.id,
    parent: parent!,
    keys: objectKeysOf(manifest),
    size: manifest.object.size,
  }));
}

/** Newest first: the order they are deleted in. */
function dependentIds(holder: Pick<ShardHolder, 'dependents'>): string[] {
  return holder.dependents.map((dependent) => dependent.id).reverse();
}

/**
 * Refuses (HAS_DEPENDENTS) the deletion of shard `id` where incremental shards
 * need it, without locking or deleting anything: a front end that runs the
 * deletion later (the API's job) answers at once. deleteBackup checks again
 * under the run lock, as a run in between may have made one. A destination that
 * cannot be read is left to that deletion to report.
 */
export async function refuseWithDependents(
  config: LoadedConfig,
  request: { id: string; destinations?: string[] },
): Promise<void> {
  const outcomes = await onEachDestination(
    config,
    selectDestinations(config, request.destinations),
    async (opened) =>
      (await shardObjects(opened, request.id)).length > 0 ? dependentsThere(opened, request.id) : [],
  );
  const needed = outcomes.flatMap((outcome) =>
    outcome.ok && outcome.value.length > 0
      ? [{ destination: outcome.destination, dependents: outcome.value }]
      : [],
  );
  if (needed.length > 0) throw hasDependents(request.id, needed);
}

function hasDependents(
  id: string,
  holders: ReadonlyArray<Pick<ShardHolder, 'destination' | 'dependents'>>,
): MatricError {
  const where = holders
    .map((holder) => `${holder.destination.name}: ${dependentIds(holder).join(', ')}`)
    .join('; ');
  // No hint of its own: each front end words how to ask for them too (exit-codes.ts).
  return new MatricError(
    'HAS_DEPENDENTS',
    `refusing to delete ${id}: incremental shards are restored through it, and would be left unrestorable (${where})`,
  );
}
