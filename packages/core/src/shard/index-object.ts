import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Destination } from '@matric-backup/plugin-api';
import { isDestinationError, isMatricError } from '@matric-backup/plugin-api';
import { createDecompressStream } from '../archive/compression.js';
import { createDecryptStream } from '../crypto/index.js';
import { isKeyMismatch, type ShardKeys } from './decode.js';
import { readInnerManifest } from './inner-manifest.js';
import { byteLimit, shardLimits } from './limits.js';
import type { InnerManifest, ShardIndexObject, ShardManifest } from './manifest.js';
import { parseInnerManifest } from './manifest-schema.js';

/** Why a shard's file list came from its archive rather than its index object. */
export type IndexFallbackCode =
  /** The shard was made before index objects (its sidecar names none). */
  | 'INDEX_ABSENT'
  /** The sidecar names one; the destination does not have it. */
  | 'INDEX_MISSING'
  /** Its size or sha256 differs from the sidecar's, or it does not decode to this shard's file list. */
  | 'INDEX_DAMAGED';

export interface IndexFallback {
  code: IndexFallbackCode;
  message: string;
}

export interface ShardListing {
  /** The shard's own file list: in an incremental shard, what it stored and what it deleted. */
  inner: InnerManifest;
  /** Where it came from: the index object, or the archive read through. */
  source: 'index' | 'archive';
  /** Set when source is `archive`: why the index was not used. */
  fallback?: IndexFallback;
}

/**
 * A stored shard's file list, from its index object when it has an intact one,
 * else from its archive (streamed through, contents skipped, the inner manifest
 * at its end parsed, the object's checksum checked). A missing or damaged index
 * is never an error of its own, only slower: the archive decides. A key that
 * does not fit is an error either way.
 */
export async function readShardListing(
  dest: Destination,
  manifest: ShardManifest,
  keys: ShardKeys = {},
): Promise<ShardListing> {
  let fallback: IndexFallback;
  if (!manifest.index) {
    fallback = {
      code: 'INDEX_ABSENT',
      message: `shard ${manifest.id} has no index object (made before them)`,
    };
  } else {
    try {
      return { inner: await readIndexObject(dest, manifest, manifest.index, keys), source: 'index' };
    } catch (error) {
      if (!(error instanceof IndexUnusable)) throw error;
      fallback = { code: error.code, message: error.message };
    }
  }
  return { inner: await readInnerManifest(dest, manifest, keys), source: 'archive', fallback };
}

class IndexUnusable extends Error {
  constructor(
    readonly code: Exclude<IndexFallbackCode, 'INDEX_ABSENT'>,
    message: string,
  ) {
    super(message);
  }
}

/** The index object read whole (it is small), checked against the sidecar, decrypted and decoded. */
async function readIndexObject(
  dest: Destination,
  manifest: ShardManifest,
  index: ShardIndexObject,
  keys: ShardKeys,
): Promise<InnerManifest>;
async function readIndexObject(
  dest: Destination,
  manifest: ShardManifest,
  index: ShardIndexObject,
  keys: ShardKeys,
  storedOnly: boolean,
): Promise<InnerManifest | undefined>;
/** With `storedOnly`, only the stored bytes are checked (no key needed) and nothing is decoded. */
async function readIndexObject(
  dest: Destination,
  manifest: ShardManifest,
  index: ShardIndexObject,
  keys: ShardKeys,
  storedOnly = false,
): Promise<InnerManifest | undefined> {
  const damaged = (reason: string) => new IndexUnusable('INDEX_DAMAGED', `index ${index.name}: ${reason}`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of await dest.get(index.name)) {
      size += (chunk as Buffer).length;
      if (size > index.size) break;
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (isDestinationError(error) && error.code === 'NOT_FOUND')
      throw new IndexUnusable('INDEX_MISSING', `index ${index.name} is missing`);
    throw error;
  }
  if (size !== index.size)
    throw damaged(`${size > index.size ? 'more than' : size} bytes stored, the sidecar says ${index.size}`);
  const stored = Buffer.concat(chunks);
  const sha256 = `sha256:${createHash('sha256').update(stored).digest('hex')}`;
  if (sha256 !== index.checksum) throw damaged(`checksum ${sha256} differs from the sidecar's`);
  if (storedOnly) return undefined;

  const parts: Buffer[] = [];
  const limit = shardLimits(manifest).innerManifestBytes;
  const collect = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  const decode = [
    createDecompressStream('zstd'),
    byteLimit(limit, (bytes) => `decodes to more than ${bytes} bytes`),
    collect,
  ];
  try {
    if (manifest.encryption) {
      const decrypt = await createDecryptStream(manifest.encryption.method, {
        identityFile: keys.identity,
        gpgHomedir: keys.gpgHomedir,
      });
      await pipeline([Readable.from([stored]), decrypt, ...decode]);
    } else {
      await pipeline([Readable.from([stored]), ...decode]);
    }
  } catch (error) {
    // The index is intact (its checksum matched): a key that does not fit it does not fit the archive either.
    if (isKeyMismatch(error) || (isMatricError(error) && error.code === 'USAGE')) throw error;
    throw damaged(`unreadable: ${(error as Error).message}`);
  }
  let inner: InnerManifest;
  try {
    inner = parseInnerManifest(Buffer.concat(parts).toString('utf8'));
  } catch (error) {
    throw damaged(`not a file list: ${(error as Error).message}`);
  }
  if (inner.id !== manifest.id) throw damaged(`lists shard ${inner.id}`);
  return inner;
}

/**
 * What verify says about a shard's index object: undefined when it is intact
 * (and, given `inner`, the archive's own file list, lists the same entries),
 * else a sentence for its warnings. Without a key to an encrypted shard only
 * its size and checksum are checked. Never a problem of the shard: `ls` and
 * the other readers fall back to the archive.
 */
export async function checkIndexObject(
  dest: Destination,
  manifest: ShardManifest,
  keys: ShardKeys,
  inner?: InnerManifest,
): Promise<string | undefined> {
  if (!manifest.index) return undefined;
  const fallsBack = 'ls, find, diff and dump read the archive instead';
  try {
    const decoded = await readIndexObject(
      dest,
      manifest,
      manifest.index,
      inner ? keys : { identity: undefined, gpgHomedir: undefined },
      inner === undefined,
    );
    if (inner && decoded && JSON.stringify(decoded.entries) !== JSON.stringify(inner.entries))
      return `index ${manifest.index.name} does not list what the archive holds; ${fallsBack}`;
    return undefined;
  } catch (error) {
    if (!(error instanceof IndexUnusable)) throw error;
    return `${error.message}; ${fallsBack}`;
  }
}
