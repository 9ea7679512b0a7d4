import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Destination } from '@matric-backup/plugin-api';
import { MatricError } from '@matric-backup/plugin-api';
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
  /** Reads the file, whatever key is asked for. */
  from: Pick<Destination, 'get'>;
  manifest: ShardManifest;
  /** The sidecar found beside the file; undefined: the manifest was made up from the file itself. */
  sidecar?: string;
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
  const from = { get: async () => createReadStream(file, { highWaterMark: 1 << 20 }) };
  const name = basename(file);
  const id = shardIdOfKey(name);
  if (id && !name.endsWith(SIDECAR_SUFFIX)) {
    const sidecar = join(dirname(file), `${id}${SIDECAR_SUFFIX}`);
    const text = await readFile(sidecar, 'utf8').catch(() => undefined);
    if (text !== undefined) return { from, manifest: sidecarManifest(sidecar, text, id, name), sidecar };
  }
  return { from, manifest: await madeUpManifest(file, name, id, info.size) };
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
