import type { TreeChange } from '@matric-backup/core';
import type { FileEntry } from '../operations/files.js';
import type { TreeReading } from '../operations/shard-tree.js';
import { formatBytes } from './format.js';
import type { Printer } from './printer.js';

const TYPE_LETTER: Record<FileEntry['type'], string> = { file: '-', directory: 'd', symlink: 'l' };

/** `-rw-r--r--`: the type and permission bits, as `ls -l` shows them. */
function modeString(type: FileEntry['type'], mode: number): string {
  const bits = 'rwxrwxrwx';
  let text = TYPE_LETTER[type];
  for (let index = 0; index < 9; index++) text += mode & (1 << (8 - index)) ? bits[index] : '-';
  // setuid, setgid and sticky over the execute letters.
  const special = (at: number, flag: number, on: string) => {
    if (!(mode & flag)) return;
    const executable = text[at] !== '-';
    text = text.slice(0, at) + (executable ? on : on.toUpperCase()) + text.slice(at + 1);
  };
  special(3, 0o4000, 's');
  special(6, 0o2000, 's');
  special(9, 0o1000, 't');
  return text;
}

/**
 * A path on one line: control characters (a newline, a tab, an escape sequence) as `\xNN`, as bytes that
 * are not UTF-8 are shown, so a name cannot break a line in two or drive the terminal. --json keeps it exact.
 */
export function onOneLine(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is matched.
  return path.replace(/[\x00-\x1f\x7f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One path, and for links what they point to. */
function name(entry: FileEntry): string {
  const path = onOneLine(entry.path);
  if (entry.target !== undefined) return `${path} -> ${onOneLine(entry.target)}`;
  if (entry.hardlink !== undefined) return `${path} link to ${onOneLine(entry.hardlink)}`;
  return path;
}

/** `ls -l`-like lines: mode, owner, size, mtime (UTC), path; columns padded to the widest. */
export function longLines(entries: readonly FileEntry[]): string[] {
  const owner = (entry: FileEntry) => `${entry.user ?? entry.uid ?? '?'}/${entry.group ?? entry.gid ?? '?'}`;
  const ownerWidth = Math.max(0, ...entries.map((entry) => owner(entry).length));
  const sizeWidth = Math.max(0, ...entries.map((entry) => String(entry.size ?? 0).length));
  return entries.map(
    (entry) =>
      `${modeString(entry.type, entry.mode)}  ${owner(entry).padEnd(ownerWidth)}  ${String(entry.size ?? 0).padStart(sizeWidth)}  ${entry.mtime.slice(0, 16).replace('T', ' ')}  ${name(entry)}`,
  );
}

export function shortLines(entries: readonly FileEntry[]): string[] {
  return entries.map((entry) => onOneLine(entry.type === 'directory' ? `${entry.path}/` : entry.path));
}

const SIGN: Record<TreeChange['change'], string> = { added: '+', removed: '-', modified: 'M' };

/** `+ path (12 B)`, `- path`, `M path (content, mode: 1.2 KiB -> 1.3 KiB)`. */
export function changeLine(change: TreeChange): string {
  let sizes = '';
  if (change.change !== 'modified') {
    const size = change.new_size ?? change.old_size;
    if (size !== undefined) sizes = `: ${formatBytes(size)}`;
  } else if (
    change.fields?.includes('content') &&
    change.old_size !== undefined &&
    change.new_size !== undefined
  ) {
    sizes = `: ${formatBytes(change.old_size)} -> ${formatBytes(change.new_size)}`;
  }
  const what = change.fields ? change.fields.join(', ') : change.type;
  const path = onOneLine(change.type === 'directory' ? `${change.path}/` : change.path);
  return `${SIGN[change.change]} ${path}  (${what}${sizes})`;
}

/** Verbose lines: where each file list came from and what was read; warnings always. */
export function reportReading(
  printer: Printer,
  reading: Pick<TreeReading, 'destination' | 'links' | 'warnings' | 'bytes_read'>,
): void {
  for (const entry of reading.warnings) printer.warn(entry.message);
  for (const link of reading.links) {
    printer.debug(
      link.source === 'index'
        ? `${reading.destination}: file list of ${link.id} from its index object`
        : `${reading.destination}: file list of ${link.id} read from its archive (${link.fallback?.message ?? 'no index object'})`,
    );
  }
  printer.debug(
    `${reading.destination}: ${formatBytes(reading.bytes_read)} read (${reading.bytes_read} bytes)`,
  );
}
