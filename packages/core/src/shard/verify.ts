import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';
import { createDecompressStream } from '../archive/compression.js';
import type { Destination } from '../destination/types.js';
import { MatricError } from '../errors.js';
import { ContentsCheck, type SeenEntry } from './contents.js';
import { EntryGuard, RefusedEntry } from './entry-guard.js';
import { byteLimit, LimitExceededError, shardLimits } from './limits.js';
import { INNER_MANIFEST_NAME, type ShardManifest } from './manifest.js';
import { parseInnerManifest } from './manifest-schema.js';
import { ObjectDigest, pump, settleBoth } from './read.js';
import { type GuardedEntry, walkArchive } from './walk.js';

export interface VerifyProgress {
  /** Bytes of the stored object read so far. */
  bytes: number;
  /** Size of the stored object. */
  total: number;
}

export interface VerifyOptions {
  onProgress?: (progress: VerifyProgress) => void;
  /**
   * Identity that decrypts an encrypted shard (an age identity file). Decryption
   * arrives with encryption support; until then an encrypted shard gets its stored
   * object checked and its contents reported as not checked.
   */
  identity?: string;
}

export interface VerifyResult {
  id: string;
  /** No problems, and the contents were checked. */
  ok: boolean;
  /** Human-readable, each naming the object or the path inside the archive. */
  problems: string[];
  /** Things that were not checked, e.g. the contents of an encrypted shard. */
  warnings: string[];
  /** Files whose content was hashed and compared with the inner manifest. */
  filesChecked: number;
  /** Bytes of the stored object read. */
  bytes: number;
}

/**
 * Re-reads a shard's stored object once, streaming: its size and sha256 against
 * the sidecar, then decompresses and untars it and checks every file's size and
 * sha256 against the inner manifest (the archive's last entry). Memory stays flat:
 * file contents are hashed as they stream by, never buffered.
 */
export async function verifyShard(
  dest: Destination,
  manifest: ShardManifest,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  if (manifest.encryption && options.identity !== undefined) {
    throw new MatricError(
      'USAGE',
      `shard ${manifest.id} is encrypted (${manifest.encryption.method}); decryption is not supported yet`,
    );
  }
  const digest = new ObjectDigest();
  const onChunk = (bytes: number) => options.onProgress?.({ bytes, total: manifest.object.size });
  const source = await dest.get(manifest.object.name);

  if (manifest.encryption) {
    for await (const chunk of source) {
      digest.update(chunk as Buffer);
      onChunk(digest.bytes);
    }
    const problems = digest.problems(manifest);
    return {
      id: manifest.id,
      ok: problems.length === 0,
      problems,
      warnings: [
        `contents not checked: the shard is encrypted (${manifest.encryption.method}) and decryption is not supported yet`,
      ],
      filesChecked: 0,
      bytes: digest.bytes,
    };
  }

  const contents = new ContentsCheck();
  const limits = shardLimits(manifest);
  const decompress = createDecompressStream(manifest.compression);
  const extract = tarExtract();
  const reading = walkArchive(extract, new EntryGuard(limits), async (entry, content) => {
    contents.record(entry.path, await seenEntry(entry, content));
  });
  const chain = pipeline(
    decompress,
    byteLimit(limits.tarBytes, (limit) => `the archive decompresses to more than ${limit} bytes`),
    extract,
  );
  // The walker's failure first: it names the entry; the pipeline then only sees a premature close.
  const { sinkError } = await pump(source, digest, decompress, settleBoth(reading, chain), {
    onChunk,
    stopOnSinkFailure: false,
  });

  const problems = digest.problems(manifest);
  if (sinkError !== undefined) {
    const refused = sinkError instanceof RefusedEntry || sinkError instanceof LimitExceededError;
    const message = (sinkError as Error).message ?? String(sinkError);
    problems.push(
      `${manifest.object.name}: ${refused ? 'restore would refuse it' : 'archive unreadable'}: ${message}`,
    );
    problems.push(...contents.report());
  } else {
    const innerJson = await reading;
    if (innerJson === undefined) {
      problems.push(`${INNER_MANIFEST_NAME} missing: it must be the archive's last entry`);
    } else {
      try {
        problems.push(...contents.compare(parseInnerManifest(innerJson), manifest.id));
      } catch (error) {
        problems.push(`${INNER_MANIFEST_NAME} unreadable: ${(error as Error).message}`);
      }
    }
  }
  return {
    id: manifest.id,
    ok: problems.length === 0,
    problems,
    warnings: [],
    filesChecked: contents.filesChecked,
    bytes: digest.bytes,
  };
}

async function seenEntry(entry: GuardedEntry, content: AsyncIterable<Buffer>): Promise<SeenEntry> {
  if (entry.kind !== 'file') return { type: entry.kind, size: entry.size, target: entry.target };
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of content) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { type: 'file', size, sha256: hash.digest('hex') };
}
