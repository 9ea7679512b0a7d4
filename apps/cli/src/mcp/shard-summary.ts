import type { ShardManifest } from '@matric-backup/core';

/** A shard in a listing: the manifest's identifying fields (chain fields for an incremental one), not its file lists. */
export function shardSummary(manifest: ShardManifest) {
  return {
    id: manifest.id,
    type: manifest.type,
    ...(manifest.type === 'incremental' && {
      parent: manifest.parent,
      base: manifest.base,
      chain_length: manifest.chain_length,
      changes: manifest.changes,
    }),
    created_at: manifest.created_at,
    sources: manifest.collections,
    file_count: manifest.file_count,
    size_bytes: manifest.size_bytes,
    stored_bytes: manifest.object.size,
    compression: manifest.compression,
    encryption: manifest.encryption?.method ?? null,
    ...(manifest.warnings?.length && { warnings: manifest.warnings.length }),
  };
}
