/**
 * Parsing what smbclient prints. It has no machine-readable listing, so `ls`
 * lines are read from the right, where the layout is fixed:
 *
 *   "  " name padded to 30 | attributes right-aligned in 7 | " " size (%8.0f) | "  " date (asctime)
 *
 * The child runs with TZ=UTC and LC_ALL=C, so the date is UTC in the C locale.
 */

export interface ListedEntry {
  /** The folder the entry is in, as smbclient printed it (`\a\b`), or undefined for the listed folder itself. */
  folder: string | undefined;
  name: string;
  isFolder: boolean;
  size: number;
  modified: Date;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DATE_AT_END = / {2}[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;
const SIZE_AT_END = / +(\d+)$/;
const ATTRIBUTES_AT_END = /[A-Z]*$/;

function parseEntry(line: string, folder: string | undefined): ListedEntry | undefined {
  if (!line.startsWith('  ')) return undefined;
  const date = DATE_AT_END.exec(line);
  const month = date ? MONTHS.indexOf(date[1]!) : -1;
  if (!date || month < 0) return undefined;
  let rest = line.slice(2, date.index);
  const size = SIZE_AT_END.exec(rest);
  if (!size) return undefined;
  rest = rest.slice(0, size.index);
  const attributes = ATTRIBUTES_AT_END.exec(rest)![0];
  // Names never end in a space (names.ts refuses them), so the padding can be trimmed.
  const name = rest.slice(0, rest.length - attributes.length).trimEnd();
  if (name === '') return undefined;
  const [, , day, hours, minutes, seconds, year] = date.map(Number);
  return {
    folder,
    name,
    isFolder: attributes.includes('D'),
    size: Number(size[1]),
    modified: new Date(Date.UTC(year!, month, day!, hours!, minutes!, seconds!)),
  };
}

/**
 * Entries of an `ls` (or `recurse; ls`) output, without `.` and `..`. In a
 * recursive listing each subfolder's block starts with its path on a line of
 * its own (`\base\sub`); the first block, without such a line, is the folder
 * that was listed.
 */
export function parseListing(output: string): ListedEntry[] {
  const entries: ListedEntry[] = [];
  let folder: string | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith('\\')) {
      folder = line;
      continue;
    }
    const entry = parseEntry(line, folder);
    if (entry && entry.name !== '.' && entry.name !== '..') entries.push(entry);
  }
  return entries;
}

export interface FileInfo {
  isFolder: boolean;
  size: number;
  modified: Date;
}

const ALLINFO_DATE =
  /^write_time:\s+[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})/m;

/**
 * What `allinfo "\path"` printed about one file or folder. allinfo opens the
 * entry itself rather than listing its folder: smbd 4.17 was seen to panic
 * ("Could not unlock share mode") when one connection lists a folder while
 * others rename files in it, which concurrent uploads do.
 */
export function parseAllinfo(output: string): FileInfo | undefined {
  const attributes = /^attributes: ([A-Za-z]*) \(/m.exec(output);
  const date = ALLINFO_DATE.exec(output);
  const month = date ? MONTHS.indexOf(date[1]!) : -1;
  if (!attributes || !date || month < 0) return undefined;
  const isFolder = attributes[1]!.includes('D');
  const size = /^stream: \[::\$DATA\], (\d+) bytes$/m.exec(output);
  if (!isFolder && !size) return undefined;
  const [, , day, hours, minutes, seconds, year] = date.map(Number);
  return {
    isFolder,
    size: size ? Number(size[1]) : 0,
    modified: new Date(Date.UTC(year!, month, day!, hours!, minutes!, seconds!)),
  };
}

const FREE_SPACE = /(\d+) blocks of size (\d+)\. (\d+) blocks available/;

/** Free bytes from the `N blocks of size S. A blocks available` line that `ls` and `du` print. */
export function parseFreeBytes(output: string): number | undefined {
  const match = FREE_SPACE.exec(output);
  return match ? Number(match[3]) * Number(match[2]) : undefined;
}

export interface StatusLine {
  /** `NT_STATUS_LOGON_FAILURE` and the like. */
  status: string;
  /** The whole line, for telling which command it came from. */
  line: string;
}

// Where smbclient puts a status in its messages: at the start ("NT_STATUS_X listing \a"),
// after "failed: " / "returned " / "(Error ". Listing lines start with two spaces and
// folder lines with a backslash, so a file named NT_STATUS_X is never mistaken for one.
const STATUS = /^(NT_STATUS_[A-Z0-9_]+)|(?:failed: |returned |\(Error )(NT_STATUS_[A-Z0-9_]+)/;

/** Every NT_STATUS smbclient reported, in order. */
export function statusLines(output: string): StatusLine[] {
  const found: StatusLine[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith('  ') || line.startsWith('\\')) continue;
    const match = STATUS.exec(line);
    if (match) found.push({ status: (match[1] ?? match[2])!, line: line.trim() });
  }
  return found;
}

const GOT_FILE = /^getting file .* of size (\d+) as /m;

/** The size smbclient announced for a `get`, printed once the transfer ended. */
export function parseGetSize(output: string): number | undefined {
  const match = GOT_FILE.exec(output);
  return match ? Number(match[1]) : undefined;
}
