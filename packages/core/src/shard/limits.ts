import { Transform, type TransformCallback } from 'node:stream';
import type { ShardManifest } from './manifest.js';

/**
 * Upper bounds on what an archive may contain, derived from its sidecar. They
 * turn a decompression bomb (or a tampered archive) into an error long before
 * it fills a disk or memory.
 */
export interface ShardLimits {
  /** Tar entries, the inner manifest included. */
  entries: number;
  /** Sum of the file entries' sizes, the inner manifest excluded. */
  fileBytes: number;
  /** Size of the inner manifest entry. */
  innerManifestBytes: number;
  /** The whole decompressed tar stream. */
  tarBytes: number;
}

/** Generous per-entry room for a manifest line: a long path, a hash, a symlink target. */
const INNER_MANIFEST_BYTES_PER_ENTRY = 8 * 1024;
/** Per-entry tar overhead: header, pax header for long names, padding. */
const TAR_BYTES_PER_ENTRY = 8 * 1024;
const SLACK = 1024 * 1024;

export function shardLimits(manifest: ShardManifest): ShardLimits {
  const { files, directories, symlinks, sources } = manifest.counts;
  // Source root folders may or may not be counted as directories; allow for them.
  const entries = files + directories + symlinks + sources + 1;
  const innerManifestBytes = SLACK + entries * INNER_MANIFEST_BYTES_PER_ENTRY;
  const fileBytes = manifest.size_bytes;
  return {
    entries,
    fileBytes,
    innerManifestBytes,
    tarBytes: fileBytes + innerManifestBytes + entries * TAR_BYTES_PER_ENTRY,
  };
}

/** The inner manifest is read into memory; without a sidecar it is still capped. */
const UNDECLARED_INNER_MANIFEST_BYTES = 256 * 1024 * 1024;

/**
 * Limits for an archive no sidecar describes (`restore FILE` without its
 * manifest): only the user's `maxBytes` bounds the files; a bomb then stops at
 * that limit or at a full disk, in the temporary folder, the target untouched.
 */
export function undeclaredLimits(maxBytes?: number): ShardLimits {
  const unlimited = Number.MAX_SAFE_INTEGER;
  return {
    entries: unlimited,
    fileBytes: maxBytes ?? unlimited,
    innerManifestBytes: UNDECLARED_INNER_MANIFEST_BYTES,
    tarBytes: unlimited,
  };
}

/** Passes bytes through until `limit`, then fails with `message(limit)`. */
export function byteLimit(limit: number, message: (limit: number) => string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) callback(new LimitExceededError(message(limit)));
      else callback(null, chunk);
    },
  });
}

/** The archive holds more than its manifest allows. */
export class LimitExceededError extends Error {
  override name = 'LimitExceededError';
}
