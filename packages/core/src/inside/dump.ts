import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import { MatricError } from '@matric-backup/plugin-api';
import { decodeChain, decryptStreamFor, type ShardKeys } from '../shard/decode.js';
import { EntryGuard } from '../shard/entry-guard.js';
import { shardLimits } from '../shard/limits.js';
import { appendedName, type ShardManifest } from '../shard/manifest.js';
import { ObjectDigest, pump, settleBoth } from '../shard/read.js';
import { shardExtract, walkArchive } from '../shard/walk.js';
import type { ShardTree } from './tree.js';

export interface DumpResult {
  /** The archive path written out. */
  path: string;
  /** The shard whose archive held its bytes (a link of the chain for an incremental shard). */
  from: string;
  /** A file that only grew: the later links whose archives held the bytes appended to it, oldest first. */
  appended_from?: string[];
  size: number;
  sha256: string;
  /** Bytes of the stored archive read: reading stops once the file's entry is done. */
  bytes_read: number;
}

/** Thrown through the tar walk once the wanted entry is written: nothing after it is read. */
class Done extends Error {}

/**
 * Writes the content of file `path` of `tree` to `out`, exactly as stored.
 * Only the archive of the link that holds it is read, from its start (tar,
 * compressed and encrypted, has no index into it) to the end of the file's
 * entry, and no further; for a file that only grew since, then each later
 * link's appended bytes the same way, oldest first. The bytes are hashed on the way and checked against
 * the file list: a mismatch is INTEGRITY, after the bytes were written (they
 * are streamed, not held). Folders and symbolic links are NOT_A_FILE, a path
 * the tree does not have is PATH_NOT_FOUND.
 */
export async function dumpFile(
  dest: Destination,
  tree: ShardTree,
  path: string,
  out: Writable,
  keys: ShardKeys = {},
): Promise<DumpResult> {
  const id = tree.manifest.id;
  const entry = tree.entries.find((candidate) => candidate.path === path);
  if (!entry) {
    throw new MatricError('PATH_NOT_FOUND', `${path} is not in shard ${id}`, {
      hint: `run \`matric-backup ls ${id}\` to see its paths (they start with the source's name)`,
    });
  }
  if (entry.type !== 'file') {
    const what = entry.type === 'directory' ? 'a folder' : `a symbolic link to ${entry.target}`;
    throw new MatricError('NOT_A_FILE', `${path} is ${what} in shard ${id}; dump writes out one file`, {
      hint:
        entry.type === 'directory'
          ? `run \`matric-backup ls ${id} '${path}/*'\` to see what it holds, or restore it with --include`
          : 'dump the path it points to instead',
    });
  }
  const holders = tree.holdersOf(path);
  if (holders.length === 0 || holders[0]!.entry.append)
    throw new MatricError('INTEGRITY', `no link of the chain of ${id} stored ${path} whole`);
  // The file as stored whole, then each link's appended bytes, oldest first.
  const whole = createHash('sha256');
  let size = 0;
  let bytesRead = 0;
  for (const [index, { link, entry: stored }] of holders.entries()) {
    const name = index === 0 ? (stored.hardlink ?? path) : appendedName(path);
    const piece = await writeEntry(dest, link, name, out, whole, keys);
    bytesRead += piece.bytesRead;
    size += piece.size;
    const { append } = stored;
    if (append && (piece.size !== stored.size! - append.from || piece.sha256 !== append.sha256)) {
      throw new MatricError(
        'INTEGRITY',
        `${path} in shard ${link.id}: ${piece.size} appended bytes with sha256 ${piece.sha256} were written, the file list says ${stored.size! - append.from} bytes with sha256 ${append.sha256}`,
        { hint: 'run `matric-backup verify` on it; another destination may hold an intact copy' },
      );
    }
  }
  const from = holders[0]!.link.id;
  const sha256 = whole.digest('hex');
  if (size !== entry.size || (entry.sha256 !== undefined && sha256 !== entry.sha256)) {
    const links = holders.map(({ link }) => link.id).join(', ');
    throw new MatricError(
      'INTEGRITY',
      `${path} in shard${holders.length > 1 ? 's' : ''} ${links}: ${size} bytes with sha256 ${sha256} were written, the file list says ${entry.size} bytes with sha256 ${entry.sha256}`,
      { hint: 'run `matric-backup verify` on it; another destination may hold an intact copy' },
    );
  }
  return {
    path,
    from,
    ...(holders.length > 1 && { appended_from: holders.slice(1).map(({ link }) => link.id) }),
    size,
    sha256,
    bytes_read: bytesRead,
  };
}

/**
 * Writes the content of the tar entry `name` of `link`'s archive to `out`,
 * adding it to `whole` too; reads the archive from its start to that entry's
 * end, and no further.
 */
async function writeEntry(
  dest: Destination,
  link: ShardManifest,
  name: string,
  out: Writable,
  whole: Hash,
  keys: ShardKeys,
): Promise<{ size: number; sha256: string; bytesRead: number }> {
  const decrypt = await decryptStreamFor(link, keys);
  const source = await dest.get(link.object.name);
  const digest = new ObjectDigest();
  const limits = shardLimits(link);
  const extract = shardExtract();
  const hash = createHash('sha256');
  let size = 0;
  let found = false;
  const reading = walkArchive(extract, new EntryGuard(limits), async (seen, content) => {
    if (seen.path !== name || seen.kind !== 'file') return;
    found = true;
    for await (const chunk of content) {
      hash.update(chunk);
      whole.update(chunk);
      size += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    throw new Done();
  });
  const chain = decodeChain(link, decrypt, limits.tarBytes, extract);
  const { sinkError } = await pump(source, digest, chain.head, settleBoth(reading, chain.done));
  source.destroy();
  if (!(sinkError instanceof Done)) {
    if (sinkError !== undefined) throw sinkError;
    const damaged = digest.problems(link)[0];
    throw new MatricError(
      'INTEGRITY',
      damaged
        ? `shard ${link.id}: ${damaged.reason}`
        : `shard ${link.id}: the archive ends without ${name}${found ? ' whole' : ''}`,
      { hint: 'run `matric-backup verify` on it; another destination may hold an intact copy' },
    );
  }
  return { size, sha256: hash.digest('hex'), bytesRead: digest.bytes };
}
