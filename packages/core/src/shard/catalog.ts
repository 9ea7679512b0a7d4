import type { Destination, ObjectInfo } from '@matric-backup/plugin-api';
import { isDestinationError, MatricError } from '@matric-backup/plugin-api';
import { mapLimited } from '../util/limit.js';
import type { ShardManifest } from './manifest.js';
import { SIDECAR_SUFFIX } from './manifest.js';
import { parseShardManifest } from './manifest-schema.js';
import { isIndexKey, shardIdOfKey } from './naming.js';
import { readSmallObject } from './read.js';

/** Objects that look like a shard but cannot be used: no sidecar, an unreadable one, or no archive. */
export interface IncompleteShard {
  id: string;
  keys: string[];
  /** Sum of the objects' sizes. */
  size: number;
  /** The newest of the objects' modification times. */
  modified: Date;
  /** Why it is incomplete, e.g. `no sidecar manifest`. */
  reason: string;
}

export interface ShardCatalog {
  /** Newest first by created_at. */
  complete: ShardManifest[];
  incomplete: IncompleteShard[];
}

export interface CatalogOptions {
  /** The destination's configured name, for messages. */
  destination?: string;
  /** Picks `latest` among the complete shards (newest first); default the newest of any writer. */
  latest?: (complete: ShardManifest[]) => ShardManifest | undefined;
}

/** Sidecars are read this many at a time: one round trip each on a remote destination. */
const SIDECAR_READS_IN_PARALLEL = 8;

/**
 * Every shard on `dest`. Only keys at the destination's root count (that is where
 * the run pipeline writes them); other objects are not ours and are ignored.
 */
export async function listShards(dest: Destination): Promise<ShardCatalog> {
  const groups = new Map<string, ObjectInfo[]>();
  for await (const object of dest.list('')) {
    if (object.key.includes('/')) continue;
    const id = shardIdOfKey(object.key);
    if (!id) continue;
    const group = groups.get(id);
    if (group) group.push(object);
    else groups.set(id, [object]);
  }

  const results = await mapLimited([...groups], SIDECAR_READS_IN_PARALLEL, ([id, objects]) =>
    classify(dest, id, objects),
  );
  const complete: ShardManifest[] = [];
  const incomplete: IncompleteShard[] = [];
  for (const result of results) {
    if ('manifest' in result) complete.push(result.manifest);
    else incomplete.push(result);
  }
  complete.sort((a, b) => compareNewestFirst(a.created_at, b.created_at) || b.id.localeCompare(a.id));
  incomplete.sort((a, b) => b.id.localeCompare(a.id));
  return { complete, incomplete };
}

/** The manifest of shard `idOrLatest` (`latest` = newest complete shard). */
export async function findShard(
  dest: Destination,
  idOrLatest: string,
  options: CatalogOptions = {},
): Promise<ShardManifest> {
  const where = options.destination ? ` on destination ${options.destination}` : '';
  const hint = `run \`matric-backup list${options.destination ? ` -d ${options.destination}` : ''}\` to see the shards there`;
  if (idOrLatest === 'latest') {
    const { complete } = await listShards(dest);
    const newest = options.latest ? options.latest(complete) : complete[0];
    if (!newest) throw new MatricError('SHARD_NOT_FOUND', `no complete shard${where}`, { hint });
    return newest;
  }

  const id = idOrLatest;
  if (!shardIdOfKey(`${id}${SIDECAR_SUFFIX}`)) {
    throw new MatricError(
      'SHARD_NOT_FOUND',
      `${JSON.stringify(id)} is not a shard id (like backup_20250101_120000_kqzmbtwa)`,
      {
        hint,
      },
    );
  }
  let text: string;
  try {
    text = await readSmallObject(dest, `${id}${SIDECAR_SUFFIX}`);
  } catch (error) {
    if (isDestinationError(error) && error.code === 'NOT_FOUND') {
      throw new MatricError('SHARD_NOT_FOUND', `shard ${id} not found${where}`, { hint, cause: error });
    }
    throw error;
  }
  try {
    return checkedManifest(id, text);
  } catch (error) {
    throw new MatricError(
      'SHARD_NOT_FOUND',
      `shard ${id}${where} has an unreadable sidecar manifest: ${(error as Error).message}`,
      {
        hint,
        cause: error,
      },
    );
  }
}

async function classify(
  dest: Destination,
  id: string,
  objects: ObjectInfo[],
): Promise<{ manifest: ShardManifest } | IncompleteShard> {
  const incomplete = (reason: string): IncompleteShard => ({
    id,
    keys: objects.map((object) => object.key).sort(),
    size: objects.reduce((sum, object) => sum + object.size, 0),
    modified: new Date(Math.max(...objects.map((object) => object.modified.getTime()))),
    reason,
  });
  const sidecarKey = `${id}${SIDECAR_SUFFIX}`;
  if (!objects.some((object) => object.key === sidecarKey)) return incomplete('no sidecar manifest');

  let manifest: ShardManifest;
  try {
    manifest = checkedManifest(id, await readSmallObject(dest, sidecarKey));
  } catch (error) {
    // Vanished between list and get (a concurrent prune): report it as what is left.
    if (isDestinationError(error) && error.code === 'NOT_FOUND')
      return incomplete('sidecar manifest vanished');
    if (isDestinationError(error)) throw error;
    return incomplete(`unreadable sidecar manifest: ${(error as Error).message}`);
  }
  if (!objects.some((object) => object.key === manifest.object.name)) {
    return incomplete(`archive object ${manifest.object.name} missing`);
  }
  return { manifest };
}

function checkedManifest(id: string, text: string): ShardManifest {
  const manifest = parseShardManifest(text);
  if (manifest.id !== id) throw new Error(`id is ${manifest.id}, expected ${id}`);
  const name = manifest.object.name;
  if (name.includes('/') || name.endsWith(SIDECAR_SUFFIX) || isIndexKey(name) || shardIdOfKey(name) !== id) {
    throw new Error(`object.name ${JSON.stringify(name)} is not an archive of shard ${id}`);
  }
  const index = manifest.index?.name;
  if (index !== undefined && (index.includes('/') || !isIndexKey(index) || shardIdOfKey(index) !== id)) {
    // Not this shard's index: never read nor deleted as one. The shard stays whole (its archive is what
    // counts) and is listed from its archive, as one made before index objects.
    delete manifest.index;
  }
  return manifest;
}

function compareNewestFirst(a: string, b: string): number {
  return Date.parse(b) - Date.parse(a);
}
