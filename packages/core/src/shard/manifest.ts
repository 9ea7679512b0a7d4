/**
 * Types of the sidecar. The archive's own format (the inner manifest) is
 * archive/format.ts, what a source reports is sources/types.ts; both are
 * re-exported here so readers of a shard find every manifest type in one place.
 */
import type { CompressionAlgorithm, ShardType } from '../archive/format.js';
import type { SourceOrigin, SourceWarning } from '../sources/types.js';

export {
  APPENDED_FOLDER,
  appendedName,
  appendedTo,
  type CompressionAlgorithm,
  INNER_MANIFEST_NAME,
  type InnerManifest,
  type InnerManifestAppend,
  type InnerManifestEntry,
  MANIFEST_VERSION,
  type ShardType,
} from '../archive/format.js';
export type { SourceOrigin, SourceWarning, SourceWarningCode } from '../sources/types.js';

/**
 * The sidecar `<id>.manifest.json`, written last: a shard without it is
 * incomplete. A full shard holds the whole tree; an incremental one holds what
 * changed since its parent and names the chain it belongs to.
 */
export type ShardManifest = FullShardManifest | IncrementalShardManifest;

export interface FullShardManifest extends ShardManifestCommon {
  type: 'full';
}

export interface IncrementalShardManifest extends ShardManifestCommon {
  type: 'incremental';
  /** Id of the shard this one was made against (full or incremental). */
  parent: string;
  /** Id of the full shard at the root of the chain. */
  base: string;
  /** 1 for the first incremental after a full shard, the parent's + 1 after that. */
  chain_length: number;
  /** Entries new, changed and gone since the parent (a removed folder counts once). */
  changes: ShardChanges;
}

export interface ShardChanges {
  created: number;
  modified: number;
  deleted: number;
}

/** Fields every sidecar has, whatever its type. */
export interface ShardManifestCommon {
  version: string;
  format: 'matric-backup';
  id: string;
  /** ISO 8601, UTC. */
  created_at: string;
  /** Same instant as created_at. */
  timestamp: string;
  /** `matric-backup/<version>` */
  created_by: string;
  /** Host name, or `backup.source_instance`. */
  source_instance: string;
  /**
   * Which config wrote the shard: `backup.name` (or its default), the writer tag
   * in the id, and a random id of the run, by which a run recognises its own
   * sidecar when it reads it back. Absent in shards written before writers were
   * recorded.
   */
  writer?: ShardWriter;
  type: ShardType;
  encryption: null | { method: 'age' | 'gpg'; recipient_count: number };
  compression: CompressionAlgorithm;
  /** Source names. */
  collections: string[];
  /** Each source's type and original path, in config order. */
  origins?: SourceOrigin[];
  /** Entries stored in this archive: in an incremental shard, the new and changed ones, the folders above them and the changed folders. */
  counts: {
    /** File entries, hard links included. */
    files: number;
    directories: number;
    symlinks: number;
    sources: number;
    /** File entries that are hard links to an earlier one; absent in shards made before they were kept. */
    hardlinks?: number;
  };
  file_count: number;
  /** Sum of the stored files' sizes before compression. */
  size_bytes: number;
  /** Empty in shards made now; shards of earlier versions may hold the removed `backup.format` options. */
  options: Record<string, unknown>;
  /** The stored archive object: its key relative to the destination's root, size and checksum. */
  object: { name: string; size: number };
  /** `sha256:<hex>` of the stored object. */
  checksum: string;
  /**
   * The shard's index object (its file list, encoded as the archive is), stored
   * before the sidecar. Absent in shards made before index objects: those are
   * listed by reading the archive.
   */
  index?: ShardIndexObject;
  /** Paths not archived whole (the run "completed with warnings"); absent when there were none. */
  warnings?: SourceWarning[];
}

export interface ShardIndexObject {
  /** Key relative to the destination's root, `<id>.index.json.zst[.age|.gpg]`. */
  name: string;
  size: number;
  /** `sha256:<hex>` of the stored object. */
  checksum: string;
}

export interface ShardWriter {
  name: string;
  tag: string;
  run: string;
}

export const SIDECAR_SUFFIX = '.manifest.json';
