/**
 * One line of `rsync --list-only --no-human-readable --8-bit-output`:
 *   `-rw-r--r--          12345 2024/05/01 10:11:12 some dir/file name`
 * Times are printed in the client's zone (we run rsync with TZ=UTC). With -8 only
 * control characters are escaped, as `\#ooo` (octal); keys never hold a
 * backslash, so every `\#` is such an escape.
 */
const LINE = /^([-dlpscb])\S{9}\s+(\d+)\s+(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) (.+)$/;

export interface ListedEntry {
  type: 'file' | 'directory' | 'other';
  /** Relative to the listed folder; `.` is the folder itself. */
  name: string;
  size: number;
  modified: Date;
}

export function parseListLine(line: string): ListedEntry | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  const [, kind, size, year, month, day, hour, minute, second, rawName] = match;
  const name = rawName!.replace(/\\#([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
  return {
    type: kind === '-' ? 'file' : kind === 'd' ? 'directory' : 'other',
    // rsync prints a symlink as `name -> target`; only regular files become keys, so no need to split it.
    name,
    size: Number(size),
    modified: new Date(Date.UTC(+year!, +month! - 1, +day!, +hour!, +minute!, +second!)),
  };
}
