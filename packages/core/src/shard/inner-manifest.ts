import type { Destination } from '@matric-backup/plugin-api';
import { MatricError } from '@matric-backup/plugin-api';
import { decodeChain, decryptStreamFor, type ShardKeys } from './decode.js';
import { EntryGuard } from './entry-guard.js';
import { shardLimits } from './limits.js';
import type { InnerManifest, ShardManifest } from './manifest.js';
import { parseInnerManifest } from './manifest-schema.js';
import { ObjectDigest, pump, settleBoth } from './read.js';
import { shardExtract, walkArchive } from './walk.js';

/**
 * The inner manifest of a stored shard (every entry's path, type, size, mode,
 * mtime and sha256), without restoring anything: the archive is streamed
 * through decrypt, decompress and untar with the same guard and limits as a
 * restore, file contents skipped, and the manifest (its last entry) parsed. The
 * stored object's size and checksum are checked on the way: a damaged copy is
 * INTEGRITY, not a listing. An encrypted shard needs its key (USAGE without one).
 */
export async function readInnerManifest(
  dest: Destination,
  manifest: ShardManifest,
  keys: ShardKeys = {},
): Promise<InnerManifest> {
  const decrypt = await decryptStreamFor(manifest, keys);
  const source = await dest.get(manifest.object.name);
  const digest = new ObjectDigest();
  const limits = shardLimits(manifest);
  const extract = shardExtract();
  // Contents are left unread: the walker skips them.
  const reading = walkArchive(extract, new EntryGuard(limits), () => undefined);
  const chain = decodeChain(manifest, decrypt, limits.tarBytes, extract);
  // Read to the end whatever happens: the object's checksum tells a damaged copy from a wrong key.
  const { sinkError } = await pump(source, digest, chain.head, settleBoth(reading, chain.done), {
    readOnAfter: () => true,
  });
  const damaged = digest.problems(manifest)[0];
  if (damaged) {
    throw new MatricError('INTEGRITY', `shard ${manifest.id}: ${damaged.reason}`, {
      hint: 'run `matric-backup verify` on it; another destination may hold an intact copy',
    });
  }
  if (sinkError !== undefined) throw sinkError;
  const innerJson = await reading;
  if (innerJson === undefined) {
    throw new MatricError('INTEGRITY', `shard ${manifest.id} has no inner manifest`, {
      hint: 'run `matric-backup verify` on it',
    });
  }
  return parseInnerManifest(innerJson);
}
