import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import { DestinationError, MatricError } from '@matric-backup/plugin-api';
import { resolveChain } from '../shard/chain.js';
import {
  type CompressionAlgorithm,
  MANIFEST_VERSION,
  type ShardManifest,
  SIDECAR_SUFFIX,
} from '../shard/manifest.js';
import { parseShardManifest } from '../shard/manifest-schema.js';
import { shardIdOfKey } from '../shard/naming.js';

/** A shard archive given by its path (`restore FILE`), ready for restoreShard. */
export interface ShardFile {
  /**
   * Reads the file by its name, and other objects of its folder by theirs (the
   * sidecars and archives of an incremental shard's chain, copied beside it).
   */
  from: Pick<Destination, 'get'>;
  manifest: ShardManifest;
  /** The sidecar found beside the file; undefined: the manifest was made up from the file itself. */
  sidecar?: string;
  /** An incremental shard's chain, base first, found beside it (restoreShard's `chain`). */
  chain?: ShardManifest[];
}

const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * A shard archive file copied out of a destination. Its sidecar
 * (`<id>.manifest.json` beside it) is used when present, so the object's size
 * and checksum are checked as from a destination. Without one, the format comes
 * from the name and the first bytes, and restoreShard must be told
 * `withoutSidecar` (the sha256 of every file is still checked against the
 * manifest inside the archive).
 */
export async function openShardFile(path: string): Promise<ShardFile> {
  const file = resolve(path);
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new MatricError('USAGE', `cannot read shard file ${file}: ${error.code ?? error.message}`);
  });
  if (!info.isFile()) throw new MatricError('USAGE', `${file} is not a file`);
  const name = basename(file);
  const from = { get: async (key: string) => readBeside(file, name, key) };
  const id = shardIdOfKey(name);
  if (id && !name.endsWith(SIDECAR_SUFFIX)) {
    const sidecar = join(dirname(file), `${id}${SIDECAR_SUFFIX}`);
    const text = await readFile(sidecar, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const manifest = sidecarManifest(sidecar, text, id, name);
      const chain = manifest.type === 'incremental' ? await resolveChain(from, manifest) : undefined;
      return { from, manifest, sidecar, ...(chain && { chain }) };
    }
  }
  return { from, manifest: await madeUpManifest(file, name, id, info.size) };
}

/** `key` is a name in the file's folder; anything else is no object of this shard's folder. */
async function readBeside(file: string, name: string, key: string): Promise<Readable> {
  const path = key === name ? file : join(dirname(file), key);
  if (key !== name && (key.includes('/') || key.startsWith('.'))) {
    throw new DestinationError('NOT_FOUND', `${key} is not a name in ${dirname(file)}`);
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  // Open before handing it out, so that a missing file is NOT_FOUND, as from a destination.
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new DestinationError('NOT_FOUND', `${path} does not exist`, { cause: error })
          : error,
      ),
    );
  });
  return stream;
}

function sidecarManifest(sidecar: string, text: string, id: string, name: string): ShardManifest {
  let manifest: ShardManifest;
  try {
    manifest = parseShardManifest(text);
  } catch (error) {
    throw new MatricError('USAGE', `sidecar ${sidecar} is unreadable: ${(error as Error).message}`, {
      hint: 'move it away to restore the archive without it',
    });
  }
  if (manifest.id !== id || manifest.object.name !== name) {
    throw new MatricError('USAGE', `sidecar ${sidecar} describes ${manifest.object.name}, not ${name}`, {
      hint: 'give the archive its original name, or move the sidecar away',
    });
  }
  return manifest;
}

async function madeUpManifest(
  file: string,
  name: string,
  id: string | undefined,
  size: number,
): Promise<ShardManifest> {
  const head = Buffer.alloc(512);
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const encryption = head.subarray(0, AGE_MAGIC.length).equals(AGE_MAGIC)
    ? 'age'
    : name.endsWith('.gpg')
      ? 'gpg'
      : null;
  const compression = encryption ? compressionByName(name) : compressionByBytes(head);
  if (!compression) {
    throw new MatricError('USAGE', `${file} is not a shard archive`, {
      hint: 'expected a .tar, .tar.zst or .tar.gz file, optionally encrypted (.age, .gpg)',
    });
  }
  const now = new Date().toISOString();
  return {
    version: MANIFEST_VERSION,
    format: 'matric-backup',
    id: id ?? name.replace(/\.tar(\.zst|\.gz)?(\.age|\.gpg)?$/, ''),
    created_at: now,
    timestamp: now,
    created_by: 'unknown',
    source_instance: 'unknown',
    type: 'full',
    encryption: encryption && { method: encryption, recipient_count: 0 },
    compression,
    collections: [],
    counts: { files: 0, directories: 0, symlinks: 0, sources: 0 },
    file_count: 0,
    size_bytes: 0,
    options: {},
    object: { name, size },
    checksum: `sha256:${'0'.repeat(64)}`,
  };
}

function compressionByName(name: string): CompressionAlgorithm {
  const plain = name.replace(/\.(age|gpg)$/, '');
  if (plain.endsWith('.tar.gz') || plain.endsWith('.tgz')) return 'gzip';
  if (plain.endsWith('.tar')) return 'none';
  // matric-backup's default; an encrypted file's first bytes cannot tell.
  return 'zstd';
}

function compressionByBytes(head: Buffer): CompressionAlgorithm | undefined {
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  return undefined;
}
