/**
 * Types of the sidecar. The archive's own format (the inner manifest) is
 * archive/format.ts, what a source reports is sources/types.ts; both are
 * re-exported here so readers of a shard find every manifest type in one place.
 */
import type { CompressionAlgorithm } from '../archive/format.js';
import type { SourceOrigin, SourceWarning } from '../sources/types.js';

export {
  type CompressionAlgorithm,
  INNER_MANIFEST_NAME,
  type InnerManifest,
  type InnerManifestEntry,
  MANIFEST_VERSION,
} from '../archive/format.js';
export type { SourceOrigin, SourceWarning, SourceWarningCode } from '../sources/types.js';

/** The sidecar `<id>.manifest.json`, written last: a shard without it is incomplete. */
export interface ShardManifest {
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
  type: 'full';
  encryption: null | { method: 'age' | 'gpg'; recipient_count: number };
  compression: CompressionAlgorithm;
  /** Source names. */
  collections: string[];
  /** Each source's type and original path, in config order. */
  origins?: SourceOrigin[];
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
  /** Sum of the file sizes before compression. */
  size_bytes: number;
  /** Empty in shards made now; shards of earlier versions may hold the removed `backup.format` options. */
  options: Record<string, unknown>;
  /** The stored archive object: its key relative to the destination's root, size and checksum. */
  object: { name: string; size: number };
  /** `sha256:<hex>` of the stored object. */
  checksum: string;
  /** Paths not archived whole (the run "completed with warnings"); absent when there were none. */
  warnings?: SourceWarning[];
}

export interface ShardWriter {
  name: string;
  tag: string;
  run: string;
}

export const SIDECAR_SUFFIX = '.manifest.json';
