import { createRequire } from 'node:module';
import type { StoredFormat } from '../archive/transforms.js';
import type { ArchiveResult } from '../archive/write.js';
import {
  MANIFEST_VERSION,
  type ShardChanges,
  type ShardManifest,
  type ShardManifestCommon,
  type ShardWriter,
  type SourceOrigin,
  type SourceWarning,
} from '../shard/manifest.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** `matric-backup/<core version>`, the sidecar's `created_by`. */
const CREATED_BY = `matric-backup/${version}`;

export interface SidecarInput {
  id: string;
  createdAt: Date;
  sourceInstance: string;
  writer: ShardWriter;
  sources: string[];
  origins: SourceOrigin[];
  format: StoredFormat;
  objectKey: string;
  /** Key of the index object; absent only where no index is stored. */
  indexKey?: string;
  archive: Pick<
    ArchiveResult,
    'files' | 'hardlinks' | 'directories' | 'symlinks' | 'bytesIn' | 'size' | 'sha256'
  > & { index?: { size: number; sha256: string } };
  /** Paths not archived whole. */
  warnings?: readonly SourceWarning[];
  /** An incremental shard: its place in the chain and what changed since its parent. */
  incremental?: { parent: string; base: string; chain_length: number; changes: ShardChanges };
}

/** The sidecar `<id>.manifest.json`: format, origin, counts and the checksum of the stored object. */
export function buildShardManifest(input: SidecarInput): ShardManifest {
  const { archive, format } = input;
  const createdAt = input.createdAt.toISOString();
  const common: ShardManifestCommon = {
    version: MANIFEST_VERSION,
    format: 'matric-backup',
    id: input.id,
    created_at: createdAt,
    timestamp: createdAt,
    created_by: CREATED_BY,
    source_instance: input.sourceInstance,
    writer: input.writer,
    type: 'full',
    encryption: format.encryption
      ? { method: format.encryption.method, recipient_count: format.encryption.recipients.length }
      : null,
    compression: format.compression,
    collections: input.sources,
    origins: input.origins,
    counts: {
      files: archive.files,
      directories: archive.directories,
      symlinks: archive.symlinks,
      sources: input.sources.length,
      hardlinks: archive.hardlinks,
    },
    file_count: archive.files,
    size_bytes: archive.bytesIn,
    // Always empty since backup.format was removed; written because earlier versions require the key.
    options: {},
    object: { name: input.objectKey, size: archive.size },
    checksum: `sha256:${archive.sha256}`,
    ...(input.indexKey !== undefined &&
      archive.index && {
        index: { name: input.indexKey, size: archive.index.size, checksum: `sha256:${archive.index.sha256}` },
      }),
    ...(input.warnings?.length ? { warnings: [...input.warnings] } : {}),
  };
  // Spreading keeps `type` where it was: a full shard's sidecar reads as it always did.
  if (!input.incremental) return { ...common, type: 'full' };
  const { parent, base, chain_length, changes } = input.incremental;
  return { ...common, type: 'incremental', parent, base, chain_length, changes: { ...changes } };
}
