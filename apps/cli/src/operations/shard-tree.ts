import { Transform } from 'node:stream';
import {
  type Destination,
  findShard,
  isDestinationError,
  isMatricError,
  type LoadedConfig,
  loadShardOwner,
  MatricError,
  newestOwnShard,
  openDestination,
  readShardTree,
  type ShardKeys,
  type ShardManifest,
  type ShardOwner,
  type ShardTree,
  selectDestinations,
  type Warning,
  warning,
} from '@matric-backup/core';

/** How a shard is looked up for `ls`, `find`, `diff` and `dump`. */
export interface ShardTreeRequest {
  /** Read only from these destinations, in this order; default every enabled one in config order. */
  destinations?: readonly string[];
  /** Decryption keys; default the config's (backup.encryption). */
  keys?: ShardKeys;
}

/** What reading a shard's tree used: where, how, and what it cost. */
export interface TreeReading {
  destination: string;
  /** Each link's file list: from its index object, or its archive (`fallback` says why). */
  links: Array<{ id: string; source: 'index' | 'archive'; fallback?: { code: string; message: string } }>;
  /** Bytes read from the destination so far: sidecars, index objects, archives. */
  bytes_read: number;
  /** Destinations passed over, and index objects that could not be used. */
  warnings: Warning[];
}

/**
 * Runs `work` on the tree of shard `id` (or `latest`: this config's newest) as
 * the first destination holding a usable copy has it. A destination that cannot
 * be reached, lacks the shard or holds a damaged copy is passed over (a
 * warning), as restore does; a key that does not fit ends it at once. The
 * destination stays open during `work` (dump reads the archive then).
 */
export async function withShardTree<T>(
  config: LoadedConfig,
  id: string,
  request: ShardTreeRequest,
  work: (tree: ShardTree, reading: TreeReading, from: Destination, found: ShardFinding) => Promise<T>,
): Promise<T> {
  const keys = request.keys ?? configKeys(config);
  const locations = selectDestinations(config, request.destinations);
  if (locations.length === 0)
    throw new MatricError('USAGE', 'no destination to read from: every destination is disabled', {
      hint: 'name one with -d',
    });
  const latest = newestOf(await loadShardOwner(config));
  const warnings: Warning[] = [];
  let lastError: unknown;
  for (const location of locations) {
    let opened: Destination | undefined;
    try {
      const counted = countingReads(await openDestination(config, location));
      opened = counted.destination;
      const manifest = await findShard(opened, id, { destination: location.name, latest });
      const tree = await readShardTree(opened, manifest, keys, { destination: location.name });
      const reading: TreeReading = {
        destination: location.name,
        links: tree.links,
        warnings,
        get bytes_read() {
          return counted.bytes();
        },
      };
      warnings.push(...indexWarnings(tree.links, location.name));
      return await work(tree, reading, opened, { keys, latest });
    } catch (error) {
      if (!isOtherCopyWorthTrying(error) || location === locations.at(-1)) throw error;
      lastError = error;
      warnings.push(
        warning('NOT_CHECKED', `${location.name}: ${(error as Error).message}; trying the next destination`, {
          destination: location.name,
        }),
      );
    } finally {
      await opened?.close().catch(() => undefined);
    }
  }
  throw lastError;
}

/** How the shard was found: its keys, and what `latest` means for this config (a second shard is found the same way). */
export interface ShardFinding {
  keys: ShardKeys;
  latest: (complete: ShardManifest[]) => ShardManifest | undefined;
}

/** `latest` for ls, diff and dump: this config's newest shard, or the newest of any when it has none. */
function newestOf(owner: ShardOwner): ShardFinding['latest'] {
  return (complete) => newestOwnShard(complete, owner, new Date()).newest ?? complete[0];
}

/**
 * A warning for each index object that was there to use but could not be (a
 * shard made before index objects is no news: verbose output says so).
 */
export function indexWarnings(
  links: ReadonlyArray<{ id: string; fallback?: { code: string; message: string } }>,
  destination: string,
): Warning[] {
  return links
    .filter((link) => link.fallback && link.fallback.code !== 'INDEX_ABSENT')
    .map((link) =>
      warning('INDEX_UNUSABLE', `${destination}: ${link.fallback!.message}; read the archive instead`, {
        destination,
        shard: link.id,
      }),
    );
}

/** The config's keys: its identity file and gpg home. */
export function configKeys(config: LoadedConfig): ShardKeys {
  const encryption = config.backup.encryption;
  return {
    ...(encryption?.identity_file !== undefined && { identity: encryption.identity_file }),
    ...(encryption?.gpg_homedir !== undefined && { gpgHomedir: encryption.gpg_homedir }),
  };
}

/** A destination's failure or a damaged copy: another destination may do better; a key or a path may not. */
function isOtherCopyWorthTrying(error: unknown): boolean {
  if (isDestinationError(error)) return true;
  return isMatricError(error) && ['SHARD_NOT_FOUND', 'INTEGRITY', 'VERIFY_FAILED'].includes(error.code);
}

/** The destination with every get's bytes counted as they are read. */
export function countingReads(destination: Destination): { destination: Destination; bytes: () => number } {
  let total = 0;
  const counted: Destination = Object.create(destination);
  counted.get = async (key, options) => {
    const source = await destination.get(key, options);
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        total += chunk.length;
        done(null, chunk);
      },
    });
    source.on('error', (error) => count.destroy(error));
    count.on('close', () => source.destroy());
    return source.pipe(count);
  };
  return { destination: counted, bytes: () => total };
}
