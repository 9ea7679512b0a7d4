import type { Duplex, Readable } from 'node:stream';
import { MatricError } from '@matric-backup/plugin-api';
import { ContentsCheck, seenEntry } from '../shard/contents.js';
import { decodeChain, isDecryptFailure, isKeyMismatch } from '../shard/decode.js';
import { EntryGuard, type EscapingLink } from '../shard/entry-guard.js';
import type { ShardLimits } from '../shard/limits.js';
import type { ShardManifest } from '../shard/manifest.js';
import { ObjectDigest, pump, settleBoth } from '../shard/read.js';
import { type GuardedEntry, shardExtract, walkArchive } from '../shard/walk.js';
import { type AppendTree, FileWriter, writerThreads } from './file-writer.js';
import type { OwnerOf } from './owners.js';

export interface ExtractOptions {
  /** Whether an archive path is restored. */
  select: (path: string) => boolean;
  limits: ShardLimits;
  /** Decrypts the stored object first (an encrypted shard). */
  decrypt?: Duplex;
  /** Refuse once the selected files add up to more than this many bytes. */
  maxBytes?: number;
  /** Refuse symbolic links leading outside the target (see EntryGuardOptions). */
  refuseEscapingLinks?: boolean;
  /** Given when owners are kept: the ids each file is given as it is written. */
  ownerOf?: OwnerOf;
  /** Per source name, the folder its entries go to instead of `dir/<name>` (`restore --in-place`). */
  sourceRoots?: Record<string, string>;
  /** An incremental of a chain: where the files it appends bytes to are (the tree its earlier links made). */
  tree?: AppendTree;
  /** How many entries the archive holds, when its sidecar says: a small one gets one writer thread. */
  entries?: number;
  onChunk?: (bytesRead: number, filesWritten: number) => void;
}

export interface Extracted {
  digest: ObjectDigest;
  /** What was written (or, in a dry run, read), with each file's sha256. */
  contents: ContentsCheck;
  /** The inner manifest's text, when the archive had one. */
  innerJson?: string;
  /** With refuseEscapingLinks: the selected links leading outside the target; then none was created. */
  escapingLinks?: EscapingLink[];
  /** Why decrypting, decompressing or untarring failed (a refused entry, damaged data, a bad key). */
  failure?: unknown;
}

/**
 * Streams `source` (the stored object) through the sha256 digest, the
 * decryptor, the decompressor and the tar reader into `dir`, a fresh private
 * folder; with no `dir` (a dry run) files are only hashed. Every entry passes the
 * EntryGuard before anything is written. A FileWriter thread creates the
 * entries, symbolic links last (as GNU tar defers them: no file or folder is
 * ever created after a link exists), each file given its tar header's mode
 * (at creation when nothing changes it later, the folder being private) and,
 * once written, mtime, and hashes it; the inner manifest has the last word on both
 * (applyEntryMetadata). A refused entry or damaged data comes back as
 * `failure`; failing to read the source rejects. Either way the writer thread
 * has stopped when this settles, so nothing writes into `dir` afterwards.
 */
export async function extractArchive(
  source: Readable,
  manifest: ShardManifest,
  dir: string | undefined,
  options: ExtractOptions,
): Promise<Extracted> {
  const { limits, maxBytes } = options;
  const contents = new ContentsCheck();
  const digest = new ObjectDigest();
  const writer =
    dir === undefined
      ? undefined
      : new FileWriter(
          dir,
          ({ path, size, sha256, mode, mtimeMs, uid, gid, appendedTo }) =>
            contents.record(path, {
              type: 'file',
              size,
              sha256,
              written: { mode, mtimeMs, uid, gid },
              ...(appendedTo !== undefined && { appendedTo }),
            }),
          options.sourceRoots,
          options.tree,
          { threads: writerThreads(options.entries) },
        );
  let filesWritten = 0;
  let bytesWritten = 0;

  /** Created once every file and folder is: see above. */
  const links: Array<{ path: string; target: string }> = [];

  const extract = shardExtract();
  const guard = new EntryGuard(limits, { refuseEscapingLinks: options.refuseEscapingLinks });
  const walking = walkArchive(extract, guard, async (entry, content) => {
    // Bytes appended to a file belong to that file's path.
    const path = entry.appendTo ?? entry.path;
    if (!options.select(path)) return;
    if (entry.kind === 'hardlink' && !options.select(entry.target!)) throw linkOutsideSelection(entry);
    if (entry.kind === 'file') {
      bytesWritten += entry.size;
      if (maxBytes !== undefined && bytesWritten > maxBytes) throw overLimit(maxBytes, path);
    }
    // Nothing to append to without a tree: the bytes are only checked (and a full shard never has such).
    if (!writer || (entry.appendTo !== undefined && !options.tree)) {
      contents.record(path, await seenEntry(entry, content));
      if (entry.kind === 'file') filesWritten++;
      return;
    }
    if (entry.kind === 'file') {
      // Without the owner, without setuid/setgid: see applyEntryMetadata.
      const owner = options.ownerOf?.(entry);
      const mode = owner ? entry.mode : entry.mode & 0o1777;
      if (entry.appendTo !== undefined) writer.append(path, mode, entry.mtimeMs, owner);
      else writer.open(path, mode, entry.mtimeMs, owner);
      for await (const chunk of content) {
        writer.write(chunk);
        await writer.room();
      }
      writer.close();
      filesWritten++;
    } else if (entry.kind === 'hardlink') {
      writer.link(entry.path, entry.target!);
      contents.record(entry.path, await seenEntry(entry, content));
    } else {
      if (entry.kind === 'directory') writer.folder(entry.path);
      else links.push({ path: entry.path, target: entry.target! });
      contents.record(entry.path, { type: entry.kind, size: entry.size, target: entry.target });
    }
    await writer.room();
  });
  const chain = decodeChain(manifest, options.decrypt, limits.tarBytes, extract);
  try {
    // The walker's failure first: it names the entry; the pipeline then only sees a premature close.
    const { sinkError } = await pump(source, digest, chain.head, settleBoth(walking, chain.done), {
      onChunk: (bytes) => options.onChunk?.(bytes, filesWritten),
      // Damaged ciphertext: read on, so the object's checksum can tell a damaged copy from a wrong key.
      readOnAfter: (error) => isDecryptFailure(error) && !isKeyMismatch(error),
    });
    if (sinkError !== undefined) return { digest, contents, failure: sinkError };
    // Refused after the object's checks (restore.ts): a damaged copy is news of another kind.
    const escapingLinks = guard.escapingLinks(options.select);
    if (escapingLinks.length === 0) for (const link of links) writer?.symlink(link.path, link.target);
    const failure = await writer?.finish().then(
      () => undefined,
      (error: unknown) => error,
    );
    if (failure !== undefined) return { digest, contents, failure };
    return {
      digest,
      contents,
      innerJson: await walking,
      ...(escapingLinks.length > 0 && { escapingLinks }),
    };
  } finally {
    await writer?.stop();
  }
}

/** The content of a hard link is the file it names: that one must be restored too. */
function linkOutsideSelection(entry: GuardedEntry): MatricError {
  return new MatricError(
    'RESTORE_REFUSED',
    `${entry.path} is a hard link to ${entry.target}, which --include leaves out`,
    { hint: `add --include '${entry.target}' so that both names are restored` },
  );
}

/** --max-bytes: the user's limit, not a property of the shard (another copy would be as big). */
function overLimit(maxBytes: number, path: string): MatricError {
  return new MatricError(
    'RESTORE_REFUSED',
    `the files to restore add up to more than --max-bytes ${maxBytes} (at ${path})`,
    { hint: 'raise --max-bytes, or restore part of the shard with --include GLOB' },
  );
}
