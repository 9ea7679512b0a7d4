import { posix } from 'node:path';
import type { ShardLimits } from './limits.js';
import { INNER_MANIFEST_NAME } from './manifest.js';

/** The parts of a tar entry header the guard looks at (tar-stream's header names). */
export interface EntryHeader {
  name: string;
  /** tar-stream's type: file, directory, symlink, link, character-device, ...; null when unknown. */
  type: string | null;
  size: number;
  linkname?: string | null;
}

export type EntryKind = 'file' | 'hardlink' | 'directory' | 'symlink' | 'inner-manifest';

const FILE_TYPES = new Set(['file', 'contiguous-file']);
const SPECIAL_TYPES = new Set(['character-device', 'block-device', 'fifo']);

/**
 * Decides, entry by entry and before anything is written, whether an archive is
 * safe to extract: no absolute paths, no `..`, no links leading outside the
 * target, hard links only to a file entry before them, nothing written through a symlink, no devices or FIFOs, nothing after
 * the inner manifest, and never more entries or bytes than the sidecar declares
 * (a decompression bomb stops at its first oversized header). `check` returns the
 * entry's normalized path and kind, or throws RefusedEntry naming the path.
 */
export class EntryGuard {
  private entries = 0;
  private fileBytes = 0;
  private innerSeen = false;
  /** Symlinks seen so far: no later entry may be written through one. */
  private readonly links = new Set<string>();
  /** File entries seen so far: the only things a hard link may name. */
  private readonly files = new Set<string>();

  constructor(private readonly limits: ShardLimits) {}

  check(header: EntryHeader): { path: string; kind: EntryKind } {
    // tar stores folders as `name/`; the manifest does not.
    const path = header.name.replace(/\/+$/, '');
    const unsafe = unsafePathReason(path);
    if (unsafe) throw new RefusedEntry(`${JSON.stringify(header.name)}: ${unsafe}`);
    if (this.innerSeen)
      throw new RefusedEntry(`${path}: comes after ${INNER_MANIFEST_NAME}, which must be the last entry`);
    const link = this.linkOnTheWay(path);
    if (link) throw new RefusedEntry(`${path}: would be written through the symbolic link ${link}`);
    if (++this.entries > this.limits.entries) {
      throw new RefusedEntry(
        `the archive holds more than the ${this.limits.entries} entries its manifest declares`,
      );
    }
    return { path, kind: this.kind(path, header) };
  }

  private kind(path: string, header: EntryHeader): EntryKind {
    const type = header.type ?? 'unknown';
    if (FILE_TYPES.has(type)) {
      if (path === INNER_MANIFEST_NAME) {
        if (header.size > this.limits.innerManifestBytes) {
          throw new RefusedEntry(
            `${INNER_MANIFEST_NAME} is ${header.size} bytes, more than ${this.limits.innerManifestBytes}`,
          );
        }
        this.innerSeen = true;
        return 'inner-manifest';
      }
      this.fileBytes += header.size;
      if (this.fileBytes > this.limits.fileBytes) {
        throw new RefusedEntry(
          `${path}: the archive holds more than the ${this.limits.fileBytes} bytes of files its manifest declares`,
        );
      }
      this.files.add(path);
      return 'file';
    }
    if (type === 'directory') return 'directory';
    const target = header.linkname ?? '';
    if (type === 'symlink') {
      if (target === '' || posix.isAbsolute(target) || escapes(posix.join(posix.dirname(path), target))) {
        throw new RefusedEntry(
          `${path}: symbolic link to ${JSON.stringify(target)} points outside the restore target`,
        );
      }
      this.links.add(path);
      return 'symlink';
    }
    if (type === 'link') {
      const refuse = (why: string) =>
        new RefusedEntry(`${path}: hard link to ${JSON.stringify(target)} ${why}`);
      if (posix.isAbsolute(target) || escapes(target)) throw refuse('points outside the restore target');
      // Only the exact path of an earlier file: never a folder, a symlink, or something through one.
      if (!this.files.has(target)) throw refuse('does not name a file earlier in the archive');
      return 'hardlink';
    }
    if (SPECIAL_TYPES.has(type)) throw new RefusedEntry(`${path}: ${type} entries are never restored`);
    throw new RefusedEntry(`${path}: unsupported tar entry type ${type}`);
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

/** An entry the guard will not let through: restore stops and leaves the target unchanged; verify reports it. */
export class RefusedEntry extends Error {
  override name = 'RefusedEntry';
}

function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'empty path';
  if (path.includes('\0')) return 'path contains NUL';
  if (path.startsWith('/')) return 'absolute path';
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
