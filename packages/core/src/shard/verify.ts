import { extract as tarExtract } from 'tar-stream';
import type { Destination } from '../destination/types.js';
import { ContentsCheck, seenEntry } from './contents.js';
import {
  canDecrypt,
  decodeChain,
  decryptStreamFor,
  isDecryptFailure,
  isKeyMismatch,
  type ShardKeys,
} from './decode.js';
import { EntryGuard, RefusedEntry } from './entry-guard.js';
import { LimitExceededError, shardLimits } from './limits.js';
import { INNER_MANIFEST_NAME, type ShardManifest } from './manifest.js';
import { parseInnerManifest } from './manifest-schema.js';
import { ObjectDigest, pump, settleBoth } from './read.js';
import { walkArchive } from './walk.js';

export interface VerifyProgress {
  /** Bytes of the stored object read so far. */
  bytes: number;
  /** Size of the stored object. */
  total: number;
}

export interface VerifyOptions extends ShardKeys {
  /** Count symbolic links leading outside the target as problems, as `restore --refuse-escaping-links` would. */
  refuseEscapingLinks?: boolean;
  onProgress?: (progress: VerifyProgress) => void;
}

export interface VerifyResult {
  id: string;
  /** No problems found (with warnings when the contents could not be checked). */
  ok: boolean;
  /** Human-readable, each naming the object or the path inside the archive. */
  problems: string[];
  /** Things that were not checked, e.g. the contents of an encrypted shard without its key. */
  warnings: string[];
  /** Files whose content was hashed and compared with the inner manifest. */
  filesChecked: number;
  /** Bytes of the stored object read. */
  bytes: number;
}

/**
 * Re-reads a shard's stored object once, streaming: its size and sha256 against
 * the sidecar, then decrypts (with the identity or the gpg keyring), decompresses
 * and untars it and checks every file's size and sha256 against the inner
 * manifest (the archive's last entry). Memory stays flat: file contents are hashed
 * as they stream by, never buffered. Without a key to an encrypted shard only the
 * stored object is checked, and a warning says so. A key that does not fit an
 * intact object throws DECRYPT_FAILED.
 */
export async function verifyShard(
  dest: Destination,
  manifest: ShardManifest,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const digest = new ObjectDigest();
  const onChunk = (bytes: number) => options.onProgress?.({ bytes, total: manifest.object.size });
  const result = (problems: string[], warnings: string[], filesChecked: number): VerifyResult => ({
    id: manifest.id,
    ok: problems.length === 0,
    problems,
    warnings,
    filesChecked,
    bytes: digest.bytes,
  });

  if (!canDecrypt(manifest, options)) {
    for await (const chunk of await dest.get(manifest.object.name)) {
      digest.update(chunk as Buffer);
      onChunk(digest.bytes);
    }
    return result(digest.problems(manifest), [notChecked(manifest, 'no identity was given')], 0);
  }

  const decrypt = await decryptStreamFor(manifest, options);
  const source = await dest.get(manifest.object.name);
  const contents = new ContentsCheck();
  const limits = shardLimits(manifest);
  const extract = tarExtract();
  const guard = new EntryGuard(limits, { refuseEscapingLinks: options.refuseEscapingLinks });
  const reading = walkArchive(extract, guard, async (entry, content) => {
    contents.record(entry.path, await seenEntry(entry, content));
  });
  const chain = decodeChain(manifest, decrypt, limits.tarBytes, extract);
  // The walker's failure first: it names the entry; the pipeline then only sees a premature close.
  const { sinkError } = await pump(source, digest, chain.head, settleBoth(reading, chain.done), {
    onChunk,
    stopOnSinkFailure: false,
  });

  const problems = digest.problems(manifest);
  if (sinkError !== undefined) {
    if (isDecryptFailure(sinkError) && problems.length === 0) {
      // The stored object is intact: the key is what does not fit.
      if (manifest.encryption?.method === 'gpg' && isKeyMismatch(sinkError)) {
        return result([], [notChecked(manifest, 'the gpg keyring holds no secret key for it')], 0);
      }
      throw sinkError;
    }
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
    for (const link of guard.escapingLinks()) {
      problems.push(`${link.message} (refused with --refuse-escaping-links)`);
    }
  }
  return result(problems, [], contents.filesChecked);
}

function notChecked(manifest: ShardManifest, why: string): string {
  return `contents not checked: the shard is encrypted (${manifest.encryption?.method}) and ${why}; only the stored object's size and sha256 were verified`;
}
