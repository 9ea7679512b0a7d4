import { resolve } from 'node:path';
import picomatch from 'picomatch';
import type { Destination } from '../destination/types.js';
import { isMatricError, MatricError } from '../errors.js';
import { decryptStreamFor, isDecryptFailure, isKeyMismatch, type ShardKeys } from '../shard/decode.js';
import { type EscapingLink, RefusedEntry } from '../shard/entry-guard.js';
import { LimitExceededError, shardLimits, undeclaredLimits } from '../shard/limits.js';
import type { InnerManifest, ShardManifest } from '../shard/manifest.js';
import { parseInnerManifest } from '../shard/manifest-schema.js';
import {
  describeProblem,
  innerManifestMissing,
  innerManifestUnreadable,
  problem,
  type ShardProblem,
} from '../shard/problem.js';
import { type Extracted, extractArchive } from './extract.js';
import { applyEntryMetadata, applyFolderMetadata, type MetadataOptions } from './metadata.js';
import { moveIntoTarget } from './move.js';
import { ownerResolver } from './owners.js';
import {
  type ConflictStrategy,
  type PlannedChange,
  planRestore,
  type RestoreAction,
  type RestorePlan,
} from './plan.js';
import { inspectTarget, type StagedTarget, stageTarget } from './target.js';

export interface RestoreProgress {
  /** Bytes of the stored object read so far. */
  bytes: number;
  /** Size of the stored object. */
  total: number;
  /** Files extracted so far. */
  files: number;
}

export interface RestoreOptions extends ShardKeys {
  /** Where the stored object is read from (a destination, or a local file). */
  from: Pick<Destination, 'get'>;
  manifest: ShardManifest;
  /** Target folder: new or empty, or anything with a `conflict` strategy. */
  to: string;
  /** Restore only archive paths matching one of these globs (a matching folder brings all it holds). */
  include?: readonly string[];
  /** What to do with entries that exist in the target; without one, the target must be new or empty. */
  conflict?: ConflictStrategy;
  /** Read and check everything and report what would change, writing nothing. */
  dryRun?: boolean;
  /** Refuse once the files to restore add up to more than this many bytes. */
  maxBytes?: number;
  /**
   * Give entries their recorded owner and group, keeping setuid/setgid bits.
   * Default: yes when running as root (only root can), no otherwise; true
   * without root is refused.
   */
  preserveOwner?: boolean;
  /** With owners kept: use the recorded ids, not the local ids of the recorded user and group names. */
  numericOwner?: boolean;
  /**
   * Refuse the shard when a symbolic link to restore leads outside the target
   * (for archives from untrusted places); by default links are restored as they
   * are, whatever they point to, and nothing is ever written through one.
   */
  refuseEscapingLinks?: boolean;
  /**
   * The manifest was made up from a file name, no sidecar vouches for the
   * object: its size and checksum are not checked (the files still are, against
   * the manifest inside the archive) and only `maxBytes` bounds the output.
   */
  withoutSidecar?: boolean;
  onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreResult {
  /** The shard's id (from the inner manifest when there was no sidecar). */
  id: string;
  /** Absolute path of the target folder. */
  to: string;
  dryRun: boolean;
  conflict?: ConflictStrategy;
  /** Entries created, overwritten or renamed (would be, in a dry run). */
  files: number;
  directories: number;
  symlinks: number;
  /** Sum of those files' sizes. */
  bytes: number;
  /** Bytes of the stored object read. */
  objectBytes: number;
  durationMs: number;
  /** Entries per action. */
  summary: Record<RestoreAction, number>;
  /** Every selected entry and its action, parents first; folders that existed already are not listed. */
  changes: PlannedChange[];
  /** What was not checked (no sidecar), for the user to know. */
  warnings: string[];
}

/** At most this many problems go into an error message; verify lists them all. */
const PROBLEMS_IN_MESSAGE = 10;

/**
 * Restores a shard. Everything is extracted into a temporary folder beside the
 * target and checked first: the stored object's sha256, every entry's safety
 * (EntryGuard), every file against the inner manifest. Then the plan decides,
 * by the conflict strategy, what each entry does and refuses if anything stands
 * in the way; only then are entries renamed into the target (undone in reverse
 * if a rename fails). On any failure the target is left as it was (absent stays
 * absent). A dry run does the reading, checking and planning, and writes nothing.
 */
export async function restoreShard(options: RestoreOptions): Promise<RestoreResult> {
  const { manifest } = options;
  const started = Date.now();
  checkOptions(options);
  const metadata: MetadataOptions = {
    ...((options.preserveOwner ?? isRoot()) && { ownerOf: ownerResolver(options.numericOwner === true) }),
  };
  const decrypt = await decryptStreamFor(manifest, options);
  const state = await inspectTarget(options.to, options.conflict).catch((error: unknown) => {
    throw asRestoreError(manifest, resolve(options.to), error);
  });
  const selected = selection(options.include);
  let staged: StagedTarget | undefined;
  let moved = false;
  try {
    if (!options.dryRun) staged = await stageTarget(state);
    const source = await options.from.get(manifest.object.name);
    const extracted = await extractArchive(source, manifest, staged?.temp, {
      select: selected,
      limits: options.withoutSidecar ? undeclaredLimits(options.maxBytes) : shardLimits(manifest),
      decrypt,
      maxBytes: options.maxBytes,
      refuseEscapingLinks: options.refuseEscapingLinks,
      ownerOf: metadata.ownerOf,
      onChunk: (bytes, files) => options.onProgress?.({ bytes, total: manifest.object.size, files }),
    });
    const inner = checked(extracted, options, state.target, selected);
    if (staged) {
      const problems = applyEntryMetadata(
        staged.temp,
        inner,
        selected,
        metadata,
        (path) => extracted.contents.get(path)?.written,
      );
      if (problems.length > 0) throw verifyFailed(manifest, state.target, problems);
    }
    const plan = planRestore({
      entries: inner.entries,
      selected,
      target: state.target,
      targetExists: state.exists,
      strategy: options.conflict,
      id: inner.id,
      device: staged?.device,
    });
    if (staged) {
      moveIntoTarget(plan, staged.temp, state.target);
      moved = true;
      applyFolderMetadata(state.target, plan.newDirectories, metadata);
      await staged.cleanup(false);
    }
    return result(options, inner, plan, state.target, extracted.digest.bytes, started);
  } catch (error) {
    if (moved) {
      await staged?.cleanup(false).catch(() => undefined);
      throw new MatricError(
        'UNKNOWN',
        `restored into ${state.target}, but setting folder modes and times failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    await staged?.cleanup(true);
    throw asRestoreError(manifest, state.target, error);
  }
}

function checkOptions(options: RestoreOptions): void {
  if (options.preserveOwner && !isRoot()) {
    throw new MatricError('USAGE', '--preserve-owner needs root: only root can give files to other users', {
      hint: 'run the restore as root, or leave out --preserve-owner (files then belong to you)',
    });
  }
  if (options.numericOwner && !(options.preserveOwner ?? isRoot())) {
    throw new MatricError('USAGE', '--numeric-owner applies only when owners are kept', {
      hint: 'owners are kept when restoring as root, unless --no-preserve-owner is given',
    });
  }
  const { manifest, maxBytes } = options;
  if (
    maxBytes !== undefined &&
    !options.include &&
    !options.withoutSidecar &&
    manifest.size_bytes > maxBytes
  ) {
    throw new MatricError(
      'RESTORE_REFUSED',
      `shard ${manifest.id} holds ${manifest.size_bytes} bytes of files, more than --max-bytes ${maxBytes}`,
      { hint: 'raise --max-bytes, or restore part of the shard with --include GLOB' },
    );
  }
}

/**
 * The inner manifest, once the stored object and every selected file have
 * passed their checks; otherwise the error that says what failed.
 */
function checked(
  extracted: Extracted,
  options: RestoreOptions,
  target: string,
  selected: (path: string) => boolean,
): InnerManifest {
  const { manifest } = options;
  const fail = (problems: ShardProblem[]) => verifyFailed(manifest, target, problems.map(describeProblem));
  // Without a sidecar there is nothing to compare the object with.
  const objectProblems = options.withoutSidecar ? [] : extracted.digest.problems(manifest);
  const { failure } = extracted;
  if (failure !== undefined) {
    // Damaged ciphertext was read to its end: a checksum mismatch says the copy is bad, not the key.
    if (isDecryptFailure(failure) && !isKeyMismatch(failure) && objectProblems.length > 0) {
      throw fail([...objectProblems, problem(manifest.object.name, 'ARCHIVE_UNREADABLE', failure.message)]);
    }
    throw failure;
  }
  // The whole object's checksum first: nothing in it counts before that holds.
  if (objectProblems.length > 0) throw fail(objectProblems);
  if (extracted.innerJson === undefined) throw fail([innerManifestMissing()]);
  let inner: InnerManifest;
  try {
    inner = parseInnerManifest(extracted.innerJson);
  } catch (error) {
    throw fail([innerManifestUnreadable(error)]);
  }
  const expectedId = options.withoutSidecar ? inner.id : manifest.id;
  const contentProblems = extracted.contents.compare(inner, expectedId, selected);
  if (contentProblems.length > 0) throw fail(contentProblems);
  if (extracted.escapingLinks) throw escapingLinksRefused(manifest, target, extracted.escapingLinks);
  if (options.include && !inner.entries.some((entry) => selected(entry.path))) {
    throw new MatricError(
      'RESTORE_REFUSED',
      `nothing in shard ${inner.id} matches ${options.include.join(', ')}`,
      {
        hint: 'include globs match archive paths, which start with the source name, e.g. notes/**',
      },
    );
  }
  return inner;
}

function result(
  options: RestoreOptions,
  inner: InnerManifest,
  plan: RestorePlan,
  to: string,
  objectBytes: number,
  started: number,
): RestoreResult {
  // A hard link's bytes are its file's, counted once.
  const sizes = new Map(inner.entries.map((entry) => [entry.path, entry.hardlink ? 0 : (entry.size ?? 0)]));
  const counts = { files: 0, directories: 0, symlinks: 0, bytes: 0 };
  for (const change of plan.changes) {
    if (change.action === 'skip') continue;
    if (change.kind === 'file') {
      counts.files++;
      counts.bytes += sizes.get(change.path) ?? 0;
    } else if (change.kind === 'directory') counts.directories++;
    else counts.symlinks++;
  }
  return {
    id: inner.id,
    to,
    dryRun: options.dryRun === true,
    ...(options.conflict && { conflict: options.conflict }),
    ...counts,
    objectBytes,
    durationMs: Date.now() - started,
    summary: plan.summary,
    changes: plan.changes,
    warnings: options.withoutSidecar
      ? [
          "no sidecar manifest: the archive's size and checksum were not checked against one; every file was checked against the manifest inside the archive",
        ]
      : [],
  };
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Include globs as a predicate on archive paths; a path is in when it or a parent folder matches. */
function selection(include: readonly string[] | undefined): (path: string) => boolean {
  if (!include || include.length === 0) return () => true;
  const matches = picomatch([...include], { dot: true });
  return (path) => {
    for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
      if (matches(path.slice(0, end))) return true;
    }
    return false;
  };
}

function asRestoreError(manifest: ShardManifest, target: string, error: unknown): unknown {
  if (error instanceof RefusedEntry || error instanceof LimitExceededError) {
    return new MatricError(
      'RESTORE_REFUSED',
      `shard ${manifest.id} is unsafe to restore: ${error.message}; ${target} left unchanged`,
      {
        hint: 'the archive was tampered with or not written by matric-backup; inspect it with `matric-backup verify`',
        cause: error,
      },
    );
  }
  if (isMatricError(error)) return error;
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (syscall) {
    // The local file system, not the shard: say so, or the CLI would try another destination's copy.
    const errorCode =
      code === 'ENOSPC'
        ? 'NO_SPACE'
        : code === 'EACCES' || code === 'EPERM'
          ? 'PERMISSION_DENIED'
          : 'UNKNOWN';
    return new MatricError(
      errorCode,
      `cannot restore into ${target}: ${(error as Error).message}; ${target} left unchanged`,
      {
        cause: error,
        hint:
          errorCode === 'NO_SPACE'
            ? `the restore needs ${manifest.size_bytes} bytes free beside ${target}`
            : undefined,
      },
    );
  }
  return verifyFailed(
    manifest,
    target,
    [`${manifest.object.name}: archive unreadable: ${(error as Error).message}`],
    error,
  );
}

/** --refuse-escaping-links: the shard is sound, the user chose not to restore links leading out. */
function escapingLinksRefused(manifest: ShardManifest, target: string, links: EscapingLink[]): MatricError {
  const shown = links.slice(0, PROBLEMS_IN_MESSAGE).map((link) => link.message);
  const more = links.length > shown.length ? `\n  ... and ${links.length - shown.length} more` : '';
  return new MatricError(
    'RESTORE_REFUSED',
    `shard ${manifest.id} holds symbolic links leading outside the target, refused by --refuse-escaping-links; ${target} left unchanged:\n  ${shown.join('\n  ')}${more}`,
    {
      hint: 'restore without --refuse-escaping-links to get the links back as links (nothing is ever written through one), or leave them out with --include',
      cause: links[0],
    },
  );
}

function verifyFailed(
  manifest: ShardManifest,
  target: string,
  problems: string[],
  cause?: unknown,
): MatricError {
  const shown = problems.slice(0, PROBLEMS_IN_MESSAGE);
  const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
  return new MatricError(
    'VERIFY_FAILED',
    `shard ${manifest.id} failed its checks; ${target} left unchanged:\n  ${shown.join('\n  ')}${more}`,
    {
      hint: `run \`matric-backup verify ${manifest.id}\` for the full list, or restore from another destination (-d)`,
      cause,
    },
  );
}
