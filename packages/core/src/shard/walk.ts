import { type Extract, type Header, extract as tarExtract } from 'tar-stream';
import { nameFromBytes } from '../util/names.mjs';
import { type EntryGuard, type EntryKind, RefusedEntry } from './entry-guard.js';
import { appendedTo } from './manifest.js';

/** A tar entry that passed the guard. */
export interface GuardedEntry {
  /** Normalized archive path, as in the inner manifest. */
  path: string;
  kind: Exclude<EntryKind, 'inner-manifest'>;
  /** The tar header's size (files). */
  size: number;
  /** The tar header's permission bits. */
  mode: number;
  /** The tar header's mtime in milliseconds (from its pax record when there is one). */
  mtimeMs: number;
  /** The tar header's owner: ids, and names when the archive has them. */
  uid?: number;
  gid?: number;
  user?: string;
  group?: string;
  /** Symlinks: the link's target; hard links: the archive path of the file they name. */
  target?: string;
  /**
   * Files at `appendedName(p)`: the archive path `p` of the file these bytes
   * are appended to (an incremental shard's file that only grew). Such an
   * entry is no file of its own.
   */
  appendTo?: string;
}

/**
 * A tar reader for shards. Names in ustar fields and GNU long-name entries are
 * read as latin1, i.e. byte for byte, and turned into names by rawNamesOf: a
 * name that is not UTF-8 survives (archive/raw-names.ts writes them so).
 */
export function shardExtract(): Extract {
  // A tar-stream option its typings do not list.
  return tarExtract({ filenameEncoding: 'latin1' } as Parameters<typeof tarExtract>[0]);
}

/**
 * The header's name and link target as util/names.mjs strings. A pax record is
 * UTF-8 and tar-stream decoded it already; anything else was read as latin1.
 */
function rawNamesOf(header: Header): void {
  const pax = header.pax as Record<string, string> | undefined;
  if (pax?.path === undefined) header.name = nameFromBytes(Buffer.from(header.name, 'latin1'));
  if (header.linkname && pax?.linkpath === undefined)
    header.linkname = nameFromBytes(Buffer.from(header.linkname, 'latin1'));
}

/**
 * Walks a shard's tar entries in order, each through `guard` first (a refusal
 * throws RefusedEntry), handing every entry but the inner manifest to `visit`
 * with its content; resolves with the inner manifest's text, if the archive had
 * one. `visit` may leave the content unread: the rest is skipped. With
 * `onRefused` (verify, which lists every problem), an entry refused for itself
 * is reported there and skipped, and the walk goes on; a fatal refusal (a bomb)
 * still throws.
 */
export async function walkArchive(
  extract: Extract,
  guard: EntryGuard,
  visit: (entry: GuardedEntry, content: AsyncIterable<Buffer>) => Promise<void> | void,
  onRefused?: (refused: RefusedEntry) => void,
): Promise<string | undefined> {
  let innerJson: string | undefined;
  try {
    for await (const entry of extract) {
      const { header } = entry;
      rawNamesOf(header);
      let checked: ReturnType<EntryGuard['check']>;
      try {
        checked = guard.check(header);
      } catch (error) {
        if (!onRefused || !(error instanceof RefusedEntry) || error.fatal) throw error;
        onRefused(error);
        entry.resume();
        continue;
      }
      const { path, kind } = checked;
      const content = entry as AsyncIterable<Buffer>;
      const appendTo = kind === 'file' ? appendedTo(path) : undefined;
      if (kind === 'inner-manifest') {
        innerJson = (await readAll(content)).toString('utf8');
        continue;
      }
      await visit(
        {
          path,
          kind,
          size: header.size,
          mode: (header.mode ?? 0o600) & 0o7777,
          mtimeMs: mtimeMsOf(header),
          uid: paxNumber(header, 'uid') ?? header.uid,
          gid: paxNumber(header, 'gid') ?? header.gid,
          user: paxRecords(header)?.uname || header.uname || undefined,
          group: paxRecords(header)?.gname || header.gname || undefined,
          target: kind === 'symlink' || kind === 'hardlink' ? (header.linkname ?? undefined) : undefined,
          ...(appendTo !== undefined && { appendTo }),
        },
        content,
      );
      entry.resume();
    }
  } catch (error) {
    extract.destroy(error as Error);
    throw error;
  }
  return innerJson;
}

/** The entry's pax records; tar-stream itself applies only path, linkpath and size. */
function paxRecords(header: Header): Record<string, string> | undefined {
  return header.pax as Record<string, string> | undefined;
}

/** A pax uid or gid (one too big for its ustar field), else undefined. */
function paxNumber(header: Header, key: 'uid' | 'gid'): number | undefined {
  const value = paxRecords(header)?.[key];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Our shards keep millisecond mtimes, and any time before 1970, in a pax record; the ustar field only has seconds. */
function mtimeMsOf(header: Header): number {
  const pax = Number(paxRecords(header)?.mtime);
  if (Number.isFinite(pax)) return Math.round(pax * 1000);
  return header.mtime?.getTime() ?? 0;
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
