import { resolve } from 'node:path';
import picomatch from 'picomatch';
import type { Destination } from '../destination/types.js';
import { MatricError } from '../errors.js';
import { RefusedEntry } from '../shard/entry-guard.js';
import { LimitExceededError } from '../shard/limits.js';
import { INNER_MANIFEST_NAME, type InnerManifest, type ShardManifest } from '../shard/manifest.js';
import { parseInnerManifest } from '../shard/manifest-schema.js';
import { extractArchive } from './extract.js';
import { applyMetadata } from './metadata.js';
import { stageTarget } from './target.js';

export interface RestoreProgress {
  /** Bytes of the stored object read so far. */
  bytes: number;
  /** Size of the stored object. */
  total: number;
  /** Files extracted so far. */
  files: number;
}

export interface RestoreOptions {
  from: Destination;
  manifest: ShardManifest;
  /** Target folder: must not exist, or be empty. */
  to: string;
  /** Restore only archive paths matching one of these globs (a matching folder brings all it holds). */
  include?: readonly string[];
  onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreResult {
  id: string;
  /** Absolute path of the restored folder. */
  to: string;
  files: number;
  directories: number;
  symlinks: number;
  /** Sum of the restored files' sizes. */
  bytes: number;
  /** Bytes of the stored object read. */
  objectBytes: number;
  durationMs: number;
}

/** At most this many problems go into an error message; verify lists them all. */
const PROBLEMS_IN_MESSAGE = 10;

/**
 * Restores a shard into a new or empty folder. Everything is extracted into a
 * temporary folder beside the target and checked first: the stored object's
 * sha256, every entry's safety (EntryGuard), every file against the inner
 * manifest. Only then is it moved into place. On any failure the temporary
 * folder is removed and the target is left as it was (absent stays absent).
 */
export async function restoreShard(options: RestoreOptions): Promise<RestoreResult> {
  const { from, manifest } = options;
  const started = Date.now();
  if (manifest.encryption) {
    throw new MatricError(
      'RESTORE_REFUSED',
      `shard ${manifest.id} is encrypted (${manifest.encryption.method})`,
      {
        hint: 'restoring encrypted shards comes with encryption support',
      },
    );
  }
  const selected = selection(options.include);
  const staged = await stageTarget(options.to).catch((error: unknown) => {
    throw asRestoreError(manifest, resolve(options.to), error);
  });
  const fail = (problems: string[]) => verifyFailed(manifest, staged.target, problems);
  try {
    const source = await from.get(manifest.object.name);
    const { digest, contents, innerJson } = await extractArchive(source, manifest, staged.temp, {
      select: selected,
      onChunk: (bytes, files) => options.onProgress?.({ bytes, total: manifest.object.size, files }),
    });

    // The whole object's checksum first: nothing in it counts before that holds.
    const objectProblems = digest.problems(manifest);
    if (objectProblems.length > 0) throw fail(objectProblems);
    if (innerJson === undefined)
      throw fail([`${INNER_MANIFEST_NAME} missing: it must be the archive's last entry`]);
    let inner: InnerManifest;
    try {
      inner = parseInnerManifest(innerJson);
    } catch (error) {
      throw fail([`${INNER_MANIFEST_NAME} unreadable: ${(error as Error).message}`]);
    }
    const contentProblems = contents.compare(inner, manifest.id, selected);
    if (contentProblems.length > 0) throw fail(contentProblems);
    if (options.include && !inner.entries.some((entry) => selected(entry.path))) {
      throw new MatricError(
        'RESTORE_REFUSED',
        `nothing in shard ${manifest.id} matches ${options.include.join(', ')}`,
        {
          hint: 'include globs match archive paths, which start with the source name, e.g. notes/**',
        },
      );
    }

    const applied = applyMetadata(staged.temp, inner, selected);
    if (applied.problems.length > 0) throw fail(applied.problems);

    await staged.commit();
    return {
      id: manifest.id,
      to: staged.target,
      files: applied.files,
      directories: applied.directories,
      symlinks: applied.symlinks,
      bytes: applied.bytes,
      objectBytes: digest.bytes,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    await staged.discard();
    throw asRestoreError(manifest, staged.target, error);
  }
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
  if (error instanceof MatricError) return error;
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
