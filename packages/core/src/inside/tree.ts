import type { Destination } from '@matric-backup/plugin-api';
import { ChainTree } from '../restore/chain-tree.js';
import { resolveChain } from '../shard/chain.js';
import type { ShardKeys } from '../shard/decode.js';
import { type IndexFallback, readShardListing, type ShardListing } from '../shard/index-object.js';
import type { InnerManifest, InnerManifestEntry, ShardManifest } from '../shard/manifest.js';

/** Where one link's file list came from. */
export interface TreeLink {
  id: string;
  source: 'index' | 'archive';
  /** Why the archive was read instead of the index object. */
  fallback?: IndexFallback;
}

/** The files of one point in time, as `ls`, `find`, `diff` and `dump` see it. */
export interface ShardTree {
  /** The shard asked for. */
  manifest: ShardManifest;
  /** Its chain, base first (the shard alone when it is full). */
  chain: ShardManifest[];
  /** Each link's file list's origin, base first. */
  links: TreeLink[];
  /** Every entry of the tree at the shard's time, parents first. */
  entries: InnerManifestEntry[];
  /**
   * The links whose archives hold the content `path` has at this point, each
   * with its own entry for it, oldest first: the one that stored the file
   * whole (a hard link there names the path whose tar entry carries the
   * bytes), then each later one that stored bytes appended to it (its entry
   * has `append`). Empty when no link stored it.
   */
  holdersOf(path: string): Array<{ link: ShardManifest; entry: InnerManifestEntry }>;
}

/**
 * The tree at `manifest`'s point in time, from its file list and, for an
 * incremental shard, its chain's (all from `dest`): the base's entries with
 * each incremental laid over them, deletions applied, as a restore would
 * place them. Each list comes from the link's index object, or from its
 * archive when the index is absent or damaged (`links` says which).
 */
export async function readShardTree(
  dest: Destination,
  manifest: ShardManifest,
  keys: ShardKeys = {},
  options: {
    destination?: string;
    /** File lists already read, by shard id: a chain's links are read once across many trees (`find`). */
    cache?: Map<string, ShardListing>;
  } = {},
): Promise<ShardTree> {
  const chain = manifest.type === 'incremental' ? await resolveChain(dest, manifest, options) : [manifest];
  const links: TreeLink[] = [];
  const lists: InnerManifest[] = [];
  let tree: ChainTree | undefined;
  for (const link of chain) {
    const listing = options.cache?.get(link.id) ?? (await readShardListing(dest, link, keys));
    options.cache?.set(link.id, listing);
    links.push({
      id: link.id,
      source: listing.source,
      ...(listing.fallback && { fallback: listing.fallback }),
    });
    lists.push(listing.inner);
    if (tree) tree.apply(listing.inner);
    else tree = new ChainTree(listing.inner);
  }
  const entries = tree!.manifest(lists.at(-1)!).entries;
  const own = lists.map((list) => new Map(list.entries.map((entry) => [entry.path, entry])));
  return {
    manifest,
    chain,
    links,
    entries,
    holdersOf(path) {
      // The newest link that stored the path whole holds what it is now, with what later ones appended.
      const holders: Array<{ link: ShardManifest; entry: InnerManifestEntry }> = [];
      for (let index = chain.length - 1; index >= 0; index--) {
        const entry = own[index]!.get(path);
        if (!entry) continue;
        holders.unshift({ link: chain[index]!, entry });
        if (!entry.append) break;
      }
      return holders;
    },
  };
}
