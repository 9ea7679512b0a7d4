import { posix } from 'node:path';
import type { ShardLimits } from './limits.js';
import { APPENDED_FOLDER, appendedTo, INNER_MANIFEST_NAME } from './manifest.js';

/** The parts of a tar entry header the guard looks at (tar-stream's header names). */
export interface EntryHeader {
  name: string;
  /** tar-stream's type: file, directory, symlink, link, character-device, ...; null when unknown. */
  type: string | null;
  size: number;
  linkname?: string | null;
}

export type EntryKind = 'file' | 'hardlink' | 'directory' | 'symlink' | 'inner-manifest';

export interface EntryGuardOptions {
  /**
   * Also refuse symbolic links that point outside the restore target (absolute,
   * or leading out through `..`, followed through the archive's other links):
   * for archives from places the user does not trust.
   */
  refuseEscapingLinks?: boolean;
}

const FILE_TYPES = new Set(['file', 'contiguous-file']);
const SPECIAL_TYPES = new Set(['character-device', 'block-device', 'fifo']);
/** Links followed while resolving one, as the kernel's limit before ELOOP. */
const MAX_HOPS = 40;

/**
 * Decides, entry by entry and before anything is written, whether an archive is
 * safe to extract: no absolute paths, no `..`, hard links only to a file entry
 * before them, nothing written through a symlink, no devices or FIFOs, nothing
 * after the inner manifest, and never more entries or bytes than the sidecar declares (a decompression bomb
 * stops at its first oversized header). `check` returns the entry's normalized
 * path and kind, or throws RefusedEntry naming the path.
 *
 * Symbolic links are data, whatever they point to (a real /etc is full of
 * absolute links): they are restored as links, after everything else, and no
 * entry may sit below one, whichever comes first in the archive. So nothing is
 * ever written through a link, and a chain of relative links (`y -> ..`,
 * `esc -> y/outside`) only ever leads somewhere when a user follows it. With
 * `refuseEscapingLinks`, `finish` refuses links that would lead outside.
 */
export class EntryGuard {
  private entries = 0;
  private fileBytes = 0;
  private innerSeen = false;
  /** Symlinks seen so far (path -> target): no entry may be below one. */
  private readonly links = new Map<string, string>();
  /** Every folder the entries so far live in (or are): none of them may be a symlink. */
  private readonly folders = new Set<string>();
  /** File entries seen so far: the only things a hard link may name. */
  private readonly files = new Set<string>();

  constructor(
    private readonly limits: ShardLimits,
    private readonly options: EntryGuardOptions = {},
  ) {}

  check(header: EntryHeader): { path: string; kind: EntryKind } {
    // tar stores folders as `name/`; the manifest does not.
    const path = header.name.replace(/\/+$/, '');
    const unsafe = unsafePathReason(path);
    if (unsafe) throw refuse(JSON.stringify(header.name), unsafe);
    if (this.innerSeen)
      throw refuse(path, `comes after ${INNER_MANIFEST_NAME}, which must be the last entry`);
    const link = this.linkOnTheWay(path);
    if (link) throw refuse(path, `would be written through the symbolic link ${link}`);
    if (++this.entries > this.limits.entries) {
      throw new RefusedEntry(
        `the archive holds more than the ${this.limits.entries} entries its manifest declares`,
        { fatal: true },
      );
    }
    const kind = this.kind(path, header);
    if (kind !== 'inner-manifest') this.addFolders(kind === 'directory' ? path : posix.dirname(path));
    return { path, kind };
  }

  /**
   * Once every entry passed `check`: with `refuseEscapingLinks`, the `selected`
   * links that lead outside the target, followed through all the archive's
   * links (empty otherwise). Restore creates links only after this.
   */
  escapingLinks(selected: (path: string) => boolean = () => true): EscapingLink[] {
    if (!this.options.refuseEscapingLinks) return [];
    const found: EscapingLink[] = [];
    for (const [path, target] of this.links) {
      const outside = selected(path) && leadsOutside(path, target, this.links);
      if (outside) {
        const through = outside === true ? '' : ` (through the link ${outside})`;
        found.push(
          new EscapingLink(
            path,
            `symbolic link to ${JSON.stringify(target)} points outside the restore target${through}`,
          ),
        );
      }
    }
    return found;
  }

  private kind(path: string, header: EntryHeader): EntryKind {
    const type = header.type ?? 'unknown';
    if (FILE_TYPES.has(type)) {
      if (path === INNER_MANIFEST_NAME) {
        if (header.size > this.limits.innerManifestBytes) {
          throw refuse(
            INNER_MANIFEST_NAME,
            `${header.size} bytes, more than ${this.limits.innerManifestBytes}`,
            { fatal: true },
          );
        }
        this.innerSeen = true;
        return 'inner-manifest';
      }
      this.fileBytes += header.size;
      if (this.fileBytes > this.limits.fileBytes) {
        throw refuse(
          path,
          `the archive holds more than the ${this.limits.fileBytes} bytes of files its manifest declares`,
          { fatal: true },
        );
      }
      // Bytes to append to a file are no file of their own: no hard link may name them.
      if (appendedTo(path) === undefined) this.files.add(path);
      return 'file';
    }
    if (appendedTo(path) !== undefined)
      throw refuse(path, `a ${type} entry where only bytes appended to a file may be (${APPENDED_FOLDER}/)`);
    if (type === 'directory') return 'directory';
    const target = header.linkname ?? '';
    if (type === 'symlink') {
      if (target === '') throw refuse(path, 'symbolic link with an empty target');
      if (this.folders.has(path)) {
        throw refuse(
          path,
          `a symbolic link, and a folder of other entries in the archive: nothing is written through a link`,
        );
      }
      this.links.set(path, target);
      return 'symlink';
    }
    if (type === 'link') {
      const refuseLink = (why: string) => refuse(path, `hard link to ${JSON.stringify(target)} ${why}`);
      if (posix.isAbsolute(target) || escapes(target)) throw refuseLink('points outside the restore target');
      // Only the exact path of an earlier file: never a folder, a symlink, or something through one.
      if (!this.files.has(target)) throw refuseLink('does not name a file earlier in the archive');
      return 'hardlink';
    }
    if (SPECIAL_TYPES.has(type)) throw refuse(path, `${type} entries are never restored`);
    throw refuse(path, `unsupported tar entry type ${type}`);
  }

  private addFolders(folder: string): void {
    for (let path = folder; path !== '.' && !this.folders.has(path); path = posix.dirname(path)) {
      this.folders.add(path);
    }
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

/**
 * An entry the guard will not let through: restore stops and leaves the target
 * unchanged; verify reports it and, unless it is `fatal` (a bomb: reading on
 * is pointless), goes on with the next entry. `path` and `reason` are the two
 * halves of the message, when it names an entry.
 */
export class RefusedEntry extends Error {
  override name = 'RefusedEntry';
  readonly fatal: boolean;
  readonly path?: string;
  readonly reason?: string;

  constructor(message: string, options: { fatal?: boolean; path?: string; reason?: string } = {}) {
    super(message);
    this.fatal = options.fatal === true;
    this.path = options.path;
    this.reason = options.reason;
  }
}

function refuse(path: string, reason: string, options: { fatal?: boolean } = {}): RefusedEntry {
  return new RefusedEntry(`${path}: ${reason}`, { ...options, path, reason });
}

/**
 * A symbolic link leading outside the target, refused only on request
 * (`refuseEscapingLinks`): the archive is sound, the user chose not to trust it.
 */
export class EscapingLink extends Error {
  override name = 'EscapingLink';

  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Why an archive path may not be written under a target (absolute, `..`, not normalized), or undefined. */
export function unsafePathReason(path: string): string | undefined {
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

/**
 * Whether the link at `path` resolves to somewhere outside the target root,
 * following the archive's `links` the way the kernel would (each component in
 * turn, a link's target replacing it), so `y -> ..`, `z -> y/..` is seen
 * through: false, or true when `path`'s own target leads out, or the path of
 * the first other link followed on the way out. A loop resolves nowhere: false.
 */
function leadsOutside(path: string, target: string, links: ReadonlyMap<string, string>): boolean | string {
  const parts = posix.dirname(path) === '.' ? [] : posix.dirname(path).split('/');
  const pending = [target];
  let via: string | undefined;
  let hops = 0;
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (posix.isAbsolute(next)) return via ?? true;
    const [head, ...rest] = next.split('/');
    if (rest.length > 0) pending.push(rest.join('/'));
    if (head === '' || head === '.') continue;
    if (head === '..') {
      if (parts.length === 0) return via ?? true;
      parts.pop();
      continue;
    }
    const here = [...parts, head].join('/');
    const linked = links.get(here);
    if (linked === undefined) {
      parts.push(head!);
      continue;
    }
    if (++hops > MAX_HOPS) return false;
    via ??= here;
    pending.push(linked);
  }
  return false;
}
