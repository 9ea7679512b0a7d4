import type { InnerManifestEntry, ShardManifest } from '@matric-backup/core';

/** One entry of a shard's tree as `ls` and `find` report it (snake_case, as in --json). */
export interface FileEntry {
  path: string;
  type: InnerManifestEntry['type'];
  /** Files: bytes. */
  size?: number;
  /** Permission bits, e.g. 420 (0644). */
  mode: number;
  /** ISO 8601, UTC, milliseconds. */
  mtime: string;
  uid?: number;
  gid?: number;
  user?: string;
  group?: string;
  /** Symbolic links: what they point to. */
  target?: string;
  /** Files stored as another name of an earlier file (a hard link): that file's archive path. */
  hardlink?: string;
  /** Files: lowercase hex of the content. */
  sha256?: string;
}

export function fileEntry(entry: InnerManifestEntry): FileEntry {
  return {
    path: entry.path,
    type: entry.type,
    ...(entry.type === 'file' && { size: entry.size ?? 0 }),
    mode: entry.mode,
    mtime: new Date(entry.mtime).toISOString(),
    ...(entry.uid !== undefined && { uid: entry.uid }),
    ...(entry.gid !== undefined && { gid: entry.gid }),
    ...(entry.user !== undefined && { user: entry.user }),
    ...(entry.group !== undefined && { group: entry.group }),
    ...(entry.target !== undefined && { target: entry.target }),
    ...(entry.hardlink !== undefined && { hardlink: entry.hardlink }),
    ...(entry.sha256 !== undefined && { sha256: entry.sha256 }),
  };
}

/** The shard a listing describes. */
export interface ShardRef {
  id: string;
  type: ShardManifest['type'];
  created_at: string;
  /** Incremental shards: the chain read, base first, ending with this shard. */
  chain?: string[];
}

export function shardRef(manifest: ShardManifest, chain: readonly ShardManifest[]): ShardRef {
  return {
    id: manifest.id,
    type: manifest.type,
    created_at: manifest.created_at,
    ...(manifest.type === 'incremental' && { chain: chain.map((link) => link.id) }),
  };
}
