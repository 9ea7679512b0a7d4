import { posix } from 'node:path';
import type { ShardLimits } from '../shard/limits.js';
import { INNER_MANIFEST_NAME } from '../shard/manifest.js';

/** The parts of a tar entry header the guard looks at (node-tar's ReadEntry has them). */
export interface EntryHeader {
  path: string;
  type: string;
  size: number;
  linkpath?: string;
}

export type EntryKind = 'file' | 'directory' | 'symlink' | 'inner-manifest';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const SPECIAL_TYPES = new Set(['CharacterDevice', 'BlockDevice', 'FIFO']);

/**
 * Decides, entry by entry and before anything is written, whether an archive is
 * safe to extract: no absolute paths, no `..`, no links leading outside the
 * target, nothing written through a symlink, no devices or FIFOs, and never more entries or bytes than the sidecar
 * declares (a decompression bomb stops at its first oversized header).
 * `check` returns the entry's kind, or throws RefusedEntry naming the path.
 */
export class EntryGuard {
  private entries = 0;
  private fileBytes = 0;
  /** Symlinks seen so far: no later entry may be written through one. */
  private readonly links = new Set<string>();

  constructor(private readonly limits: ShardLimits) {}

  check(header: EntryHeader): EntryKind {
    const path = header.path.replace(/\/+$/, '');
    const unsafe = unsafePathReason(path);
    if (unsafe) throw new RefusedEntry(`${JSON.stringify(header.path)}: ${unsafe}`);
    const link = this.linkOnTheWay(path);
    if (link) throw new RefusedEntry(`${path}: would be written through the symbolic link ${link}`);
    if (++this.entries > this.limits.entries) {
      throw new RefusedEntry(
        `the archive holds more than the ${this.limits.entries} entries its manifest declares`,
      );
    }

    if (FILE_TYPES.has(header.type)) {
      if (path === INNER_MANIFEST_NAME) {
        if (header.size > this.limits.innerManifestBytes) {
          throw new RefusedEntry(
            `${INNER_MANIFEST_NAME} is ${header.size} bytes, more than ${this.limits.innerManifestBytes}`,
          );
        }
        return 'inner-manifest';
      }
      this.fileBytes += header.size;
      if (this.fileBytes > this.limits.fileBytes) {
        throw new RefusedEntry(
          `${path}: the archive holds more than the ${this.limits.fileBytes} bytes of files its manifest declares`,
        );
      }
      return 'file';
    }
    if (header.type === 'Directory') return 'directory';
    if (header.type === 'SymbolicLink') {
      const target = header.linkpath ?? '';
      if (target === '' || posix.isAbsolute(target) || escapes(posix.join(posix.dirname(path), target))) {
        throw new RefusedEntry(
          `${path}: symbolic link to ${JSON.stringify(target)} points outside the restore target`,
        );
      }
      this.links.add(path);
      return 'symlink';
    }
    if (header.type === 'Link') {
      const target = header.linkpath ?? '';
      const why =
        posix.isAbsolute(target) || escapes(target)
          ? 'points outside the restore target'
          : 'is not part of the matric-backup format';
      throw new RefusedEntry(`${path}: hard link to ${JSON.stringify(target)} ${why}`);
    }
    if (SPECIAL_TYPES.has(header.type))
      throw new RefusedEntry(`${path}: ${header.type} entries are never restored`);
    throw new RefusedEntry(`${path}: unsupported tar entry type ${header.type}`);
  }

  private linkOnTheWay(path: string): string | undefined {
    if (this.links.size === 0) return undefined;
    for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
      const parent = path.slice(0, end);
      if (this.links.has(parent)) return parent;
    }
    return undefined;
  }
}

/** An entry the guard will not let through; the restore stops and leaves the target unchanged. */
export class RefusedEntry extends Error {
  override name = 'RefusedEntry';
}

function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'empty path';
  if (path.includes('\0')) return 'path contains NUL';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute path';
  const parts = path.split('/');
  if (parts.includes('..')) return 'path contains ..';
  if (parts.some((part) => part === '' || part === '.')) return 'path is not normalized (empty or . segment)';
  return undefined;
}

/** Whether a relative POSIX path, resolved from the target root, leaves it. */
function escapes(path: string): boolean {
  const normalized = posix.normalize(path);
  return normalized === '..' || normalized.startsWith('../');
}
