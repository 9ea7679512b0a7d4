import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { type Extract as TarExtract, extract as tarExtract } from 'tar-stream';
import { createDecompressStream } from '../archive/compression.js';
import type { Destination } from '../destination/types.js';
import { MatricError } from '../errors.js';
import { ContentsCheck, type SeenEntry } from './contents.js';
import { byteLimit, LimitExceededError, type ShardLimits, shardLimits } from './limits.js';
import { INNER_MANIFEST_NAME, type ShardManifest } from './manifest.js';
import { parseInnerManifest } from './manifest-schema.js';
import { ObjectDigest, pump } from './read.js';

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
  const reading = readEntries(extract, contents, limits);
  const chain = pipeline(
    decompress,
    byteLimit(limits.tarBytes, (limit) => `the archive decompresses to more than ${limit} bytes`),
    extract,
  );
  // The entry reader's failure first: it names the limit; the pipeline then only sees a premature close.
  const { sinkError } = await pump(source, digest, decompress, settleBoth(reading, chain), {
    onChunk,
    stopOnSinkFailure: false,
  });

  const problems = digest.problems(manifest);
  if (sinkError !== undefined) {
    problems.push(
      `${manifest.object.name}: archive unreadable: ${(sinkError as Error).message ?? sinkError}`,
    );
  } else {
    const innerText = await reading;
    if (innerText === undefined) {
      problems.push(`${INNER_MANIFEST_NAME} missing: it must be the archive's last entry`);
    } else {
      try {
        problems.push(...contents.compare(parseInnerManifest(innerText), manifest.id));
      } catch (error) {
        problems.push(`${INNER_MANIFEST_NAME} unreadable: ${(error as Error).message}`);
      }
    }
  }
  if (sinkError !== undefined) problems.push(...contents.report());
  return {
    id: manifest.id,
    ok: problems.length === 0,
    problems,
    warnings: [],
    filesChecked: contents.filesChecked,
    bytes: digest.bytes,
  };
}

/** Resolves when both have settled; rejects with the first failure. */
async function settleBoth(a: Promise<unknown>, b: Promise<unknown>): Promise<void> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
}

type TarEntry = TarExtract extends AsyncIterable<infer Entry> ? Entry : never;

/** Walks the tar entries, recording each; resolves with the inner manifest's text. */
async function readEntries(
  extract: TarExtract,
  contents: ContentsCheck,
  limits: ShardLimits,
): Promise<string | undefined> {
  let innerText: string | undefined;
  let entries = 0;
  let fileBytes = 0;
  try {
    for await (const entry of extract) {
      const path = ContentsCheck.normalize(entry.header.name);
      const { type, size } = entry.header;
      if (++entries > limits.entries) {
        throw new LimitExceededError(
          `the archive holds more than the ${limits.entries} entries its manifest declares`,
        );
      }
      if (innerText !== undefined) contents.problem(`${path}: entry after ${INNER_MANIFEST_NAME}`);
      if (path === INNER_MANIFEST_NAME && type === 'file') {
        if (size > limits.innerManifestBytes) {
          throw new LimitExceededError(
            `${INNER_MANIFEST_NAME} is ${size} bytes, more than ${limits.innerManifestBytes}`,
          );
        }
        innerText = (await readAll(entry as AsyncIterable<Buffer>)).toString('utf8');
        continue;
      }
      if (type === 'file' || type === 'contiguous-file') {
        fileBytes += size;
        if (fileBytes > limits.fileBytes) {
          throw new LimitExceededError(
            `the archive holds more than the ${limits.fileBytes} bytes its manifest declares`,
          );
        }
      }
      contents.record(path, await seenEntry(entry, type));
    }
  } catch (error) {
    extract.destroy(error as Error);
    throw error;
  }
  return innerText;
}

async function seenEntry(entry: TarEntry, type: string): Promise<SeenEntry> {
  const { size } = entry.header;
  if (type === 'file' || type === 'contiguous-file') {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { type: 'file', tarType: type, size: bytes, sha256: hash.digest('hex') };
  }
  entry.resume();
  if (type === 'directory') return { type: 'directory', tarType: type, size };
  if (type === 'symlink') return { type: 'symlink', tarType: type, size, target: entry.header.linkname };
  return { type: 'other', tarType: type, size };
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
