import type { Destination } from '@matric-backup/plugin-api';
import { chainFieldProblems } from './chain.js';
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
import { checkIndexObject } from './index-object.js';
import { LimitExceededError, shardLimits } from './limits.js';
import type { InnerManifest, ShardManifest } from './manifest.js';
import { parseInnerManifest } from './manifest-schema.js';
import { innerManifestMissing, innerManifestUnreadable, problem, type ShardProblem } from './problem.js';
import { ObjectDigest, pump, settleBoth } from './read.js';
import { shardExtract, walkArchive } from './walk.js';

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
  /** Every problem found, each naming the object or the path inside the archive. */
  problems: ShardProblem[];
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
  const result = (problems: ShardProblem[], warnings: string[], filesChecked: number): VerifyResult => ({
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
    const indexWarning = await checkIndexObject(dest, manifest, options);
    return result(
      digest.problems(manifest),
      [notChecked(manifest, 'no identity was given'), ...(indexWarning ? [indexWarning] : [])],
      0,
    );
  }

  const decrypt = await decryptStreamFor(manifest, options);
  const source = await dest.get(manifest.object.name);
  const contents = new ContentsCheck();
  const limits = shardLimits(manifest);
  const extract = shardExtract();
  const guard = new EntryGuard(limits, { refuseEscapingLinks: options.refuseEscapingLinks });
  /** Entries restore would refuse, each skipped so the rest is still checked. */
  const refused: ShardProblem[] = [];
  const reading = walkArchive(
    extract,
    guard,
    async (entry, content) => {
      contents.record(entry.appendTo ?? entry.path, await seenEntry(entry, content));
    },
    (entry) => refused.push(unsafe(entry, manifest)),
  );
  const chain = decodeChain(manifest, decrypt, limits.tarBytes, extract);
  // The walker's failure first: it names the entry; the pipeline then only sees a premature close.
  const { sinkError } = await pump(source, digest, chain.head, settleBoth(reading, chain.done), {
    onChunk,
    // Every byte is digested whatever the archive's state: the object checksum is the most
    // telling diagnosis of a broken archive.
    readOnAfter: () => true,
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
    problems.push(...refused, stoppedBy(sinkError, manifest), ...contents.report());
  } else {
    problems.push(...refused);
    const innerJson = await reading;
    let inner: InnerManifest | undefined;
    if (innerJson === undefined) {
      problems.push(innerManifestMissing());
    } else {
      try {
        inner = parseInnerManifest(innerJson);
        problems.push(...contents.compare(inner, manifest.id), ...chainFieldProblems(manifest, inner));
      } catch (error) {
        problems.push(innerManifestUnreadable(error));
      }
    }
    for (const link of guard.escapingLinks()) {
      problems.push(problem(link.path, 'ESCAPING_LINK', link.reason));
    }
    // Only an intact archive is worth comparing the index with.
    if (inner && problems.length === 0) {
      const indexWarning = await checkIndexObject(dest, manifest, options, inner);
      if (indexWarning) return result(problems, [indexWarning], contents.filesChecked);
    }
  }
  return result(problems, [], contents.filesChecked);
}

/** An entry restore would refuse, skipped by the walk. */
function unsafe(entry: RefusedEntry, manifest: ShardManifest): ShardProblem {
  return problem(
    entry.path ?? manifest.object.name,
    'UNSAFE_ENTRY',
    `restore would refuse it: ${entry.reason ?? entry.message}`,
  );
}

/** Why reading stopped before the end: a bomb's limit, or data that cannot be decoded. */
function stoppedBy(error: unknown, manifest: ShardManifest): ShardProblem {
  const message = (error as Error).message ?? String(error);
  if (error instanceof RefusedEntry || error instanceof LimitExceededError) {
    const path = error instanceof RefusedEntry ? error.path : undefined;
    const reason = error instanceof RefusedEntry ? (error.reason ?? message) : message;
    return problem(
      path ?? manifest.object.name,
      'OVER_LIMIT',
      `restore would refuse the shard: ${reason}; the rest was not checked`,
    );
  }
  return problem(manifest.object.name, 'ARCHIVE_UNREADABLE', `archive unreadable: ${message}`);
}

function notChecked(manifest: ShardManifest, why: string): string {
  return `contents not checked: the shard is encrypted (${manifest.encryption?.method}) and ${why}; only the stored object's size and sha256 were verified`;
}
