import { INNER_MANIFEST_NAME } from './manifest.js';

/**
 * What is wrong with a shard, one problem per object or archive path: verify
 * lists them all, restore names the first few when it refuses.
 */
export interface ShardProblem {
  /** The archive path (`notes/a.txt`), or the stored object's name for problems of the whole object. */
  path: string;
  code: ShardProblemCode;
  /** A sentence saying what is wrong, without the path. */
  reason: string;
}

export type ShardProblemCode =
  /** The stored object's size or sha256 differs from the sidecar's. */
  | 'OBJECT_SIZE'
  | 'OBJECT_CHECKSUM'
  /** Decrypting, decompressing or untarring failed: nothing after this point was read. */
  | 'ARCHIVE_UNREADABLE'
  /** An entry restore refuses (absolute path, `..`, below a symlink, a device, ...). */
  | 'UNSAFE_ENTRY'
  /** More entries or bytes than the sidecar declares (a decompression bomb): reading stopped. */
  | 'OVER_LIMIT'
  /** A symlink leading outside the target, counted only with --refuse-escaping-links. */
  | 'ESCAPING_LINK'
  /** manifest.json missing, unreadable, or belonging to another shard. */
  | 'INNER_MANIFEST'
  /** An entry of the manifest that the archive does not hold, or the other way round, or twice. */
  | 'MISSING'
  | 'NOT_IN_MANIFEST'
  | 'DUPLICATE'
  /** An entry whose type, link target, size or content differs from the manifest's. */
  | 'TYPE_MISMATCH'
  | 'LINK_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'CONTENT_MISMATCH'
  /** An incremental shard's chain: a link missing, unreadable, or not fitting the one after it. */
  | 'CHAIN';

export function problem(path: string, code: ShardProblemCode, reason: string): ShardProblem {
  return { path, code, reason };
}

/** `path: reason`, as printed. */
export function describeProblem({ path, reason }: ShardProblem): string {
  return `${path}: ${reason}`;
}

/** The archive ended without its inner manifest. */
export function innerManifestMissing(): ShardProblem {
  return problem(
    INNER_MANIFEST_NAME,
    'INNER_MANIFEST',
    "not in the archive: it must be the archive's last entry",
  );
}

export function innerManifestUnreadable(error: unknown): ShardProblem {
  return problem(INNER_MANIFEST_NAME, 'INNER_MANIFEST', `unreadable: ${(error as Error).message}`);
}
