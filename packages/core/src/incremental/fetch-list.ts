import type { Destination } from '@matric-backup/plugin-api';
import { ChainTree } from '../restore/chain-tree.js';
import { canDecrypt, decodeChain, decryptStreamFor, type ShardKeys } from '../shard/decode.js';
import { EntryGuard } from '../shard/entry-guard.js';
import { shardLimits } from '../shard/limits.js';
import type { InnerManifest, InnerManifestEntry, ShardManifest } from '../shard/manifest.js';
import { parseInnerManifest } from '../shard/manifest-schema.js';
import { ObjectDigest, pump, settleBoth } from '../shard/read.js';
import { shardExtract, walkArchive } from '../shard/walk.js';
import type { FileList, FileListHeader, FileRecord } from './file-list.js';

/**
 * The file list at `links`' last shard's time (links: base first), rebuilt
 * from each link's inner manifest as read from `dest`. It has each file's size,
 * mtime (whole milliseconds), mode, owner and sha256 but no ctime or inode:
 * a file that looks the same is hashed and compared (see ChangeDetector).
 */
export async function fetchFileList(
  dest: Destination,
  links: readonly ShardManifest[],
  keys: ShardKeys,
  header: Omit<FileListHeader, 'shard' | 'created_at'>,
): Promise<FileList> {
  let tree: ChainTree | undefined;
  let last: InnerManifest | undefined;
  for (const link of links) {
    last = await readInnerManifest(dest, link, keys);
    if (tree) tree.apply(last);
    else tree = new ChainTree(last);
  }
  const newest = links.at(-1)!;
  const records = new Map<string, FileRecord>();
  for (const entry of tree!.manifest(last!).entries) records.set(entry.path, recordOf(entry));
  return { header: { ...header, shard: newest.id, created_at: newest.created_at }, records };
}

function recordOf(entry: InnerManifestEntry): FileRecord {
  const common = { path: entry.path, mode: entry.mode, mtime: entry.mtime, uid: entry.uid, gid: entry.gid };
  if (entry.type === 'directory') return { ...common, type: 'directory' };
  if (entry.type === 'symlink') return { ...common, type: 'symlink', target: entry.target ?? '' };
  return { ...common, type: 'file', size: entry.size ?? 0, ...(entry.sha256 && { sha256: entry.sha256 }) };
}

/** A shard's inner manifest: the archive read through (decrypted, decompressed), its checksum checked. */
async function readInnerManifest(
  dest: Destination,
  manifest: ShardManifest,
  keys: ShardKeys,
): Promise<InnerManifest> {
  if (!canDecrypt(manifest, keys))
    throw new Error(`shard ${manifest.id} is encrypted and no identity_file is set`);
  const decrypt = await decryptStreamFor(manifest, keys);
  const source = await dest.get(manifest.object.name);
  const limits = shardLimits(manifest);
  const extract = shardExtract();
  // Contents are left unread: walkArchive skips them.
  const reading = walkArchive(extract, new EntryGuard(limits), () => undefined);
  const chain = decodeChain(manifest, decrypt, limits.tarBytes, extract);
  const digest = new ObjectDigest();
  const { sinkError } = await pump(source, digest, chain.head, settleBoth(reading, chain.done));
  const damage = digest.problems(manifest)[0];
  if (damage) throw new Error(`shard ${manifest.id}: ${damage.reason}`);
  if (sinkError !== undefined) throw sinkError;
  const json = await reading;
  if (json === undefined) throw new Error(`shard ${manifest.id} has no manifest.json`);
  return parseInnerManifest(json);
}
