import { hasRawBytes } from '../util/names.mjs';
import { rawHeaders } from './raw-names.js';

const BLOCK = 512;
const TYPEFLAG = { file: 0x30, link: 0x31, symlink: 0x32, directory: 0x35 } as const;
const PAX_TYPEFLAG = 0x78; // 'x'
const USTAR_MAGIC = Buffer.from('ustar\u000000', 'latin1');

/** One entry's header fields, every one filled in (see `entryHeader` in pack.ts). */
export interface EntryHeader {
  name: string;
  type: keyof typeof TYPEFLAG;
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes that follow the header: 0 for anything but a file. */
  size: number;
  mtime: Date;
  linkname?: string;
  uname?: string;
  gname?: string;
  /** Extra pax records (the sub-second mtime); encodeHeader adds those of values the ustar fields cannot hold. */
  pax?: Record<string, string>;
}

/**
 * The header blocks of one entry, byte for byte as tar-stream 3 made them for
 * every shard before this encoder: a ustar block when the name fits (split into
 * prefix and name at a `/`) and there are no pax records, else a pax header
 * (`path`, `linkpath`, the records) and a ustar block both named `PaxHeader`. A
 * name or link target that is not UTF-8 goes to rawHeaders (raw bytes, GNU
 * long-name entries). Unlike tar-stream, no string runs past its field and a
 * value a field cannot hold (a time before 1970, a large id, a long owner
 * name) also goes into a pax record. Written here rather than by tar-stream so the packer can
 * put headers and small files straight into its output chunks (tar-output.ts).
 * The bytes are valid until the next call: copy them before encoding another.
 */
export function encodeHeader(entry: EntryHeader): Buffer {
  const overflow = overflowRecords(entry);
  const header = overflow ? { ...entry, pax: { ...entry.pax, ...overflow } } : entry;
  if (hasRawBytes(header.name) || hasRawBytes(header.linkname ?? '')) return rawHeaders(header);
  const typeflag = TYPEFLAG[header.type];
  if (!header.pax) {
    const split = ustarName(header.name, header.linkname);
    if (split) {
      const block = scratchOf(BLOCK);
      ustar(block, split[1], split[0], header.linkname, header, header.size, typeflag);
      return block;
    }
  }
  let records = paxRecord('path', header.name);
  if (header.linkname) records += paxRecord('linkpath', header.linkname);
  for (const [key, value] of Object.entries(header.pax ?? {})) records += paxRecord(key, value);
  const paxLength = Buffer.byteLength(records);
  const paxBlocks = Math.ceil(paxLength / BLOCK) * BLOCK;
  const out = scratchOf(2 * BLOCK + paxBlocks);
  const link = header.linkname ? 'PaxHeader' : undefined;
  ustar(out.subarray(0, BLOCK), 'PaxHeader', '', link, header, paxLength, PAX_TYPEFLAG);
  out.write(records, BLOCK, 'utf8');
  ustar(out.subarray(BLOCK + paxBlocks), 'PaxHeader', '', link, header, header.size, typeflag);
  return out;
}

/** The largest uid/gid the 6-digit octal field holds, and the 11-digit mtime field. */
const MAX_ID = 8 ** 6 - 1;
const MAX_SECONDS = 8 ** 11 - 1;
/** uname and gname are 32-byte fields ending in a NUL. */
const OWNER_NAME_BYTES = 31;

/**
 * Pax records for the values the ustar fields cannot hold exactly: a time
 * before 1970 or past the 11 octal digits, an id past 6 digits, an owner name
 * of more than 31 bytes. GNU tar and shard/walk.ts read these records over the
 * fields, which get an in-range stand-in (see ustar). Undefined when all fit,
 * which is nearly always.
 */
function overflowRecords(header: EntryHeader): Record<string, string> | undefined {
  const ms = header.mtime.getTime();
  const time = (ms < 0 || ms / 1000 > MAX_SECONDS) && header.pax?.mtime === undefined;
  const uid = header.uid > MAX_ID;
  const gid = header.gid > MAX_ID;
  const uname = !!header.uname && Buffer.byteLength(header.uname) > OWNER_NAME_BYTES;
  const gname = !!header.gname && Buffer.byteLength(header.gname) > OWNER_NAME_BYTES;
  if (!(time || uid || gid || uname || gname)) return undefined;
  return {
    ...(time && { mtime: paxTime(ms) }),
    ...(uid && { uid: String(header.uid) }),
    ...(gid && { gid: String(header.gid) }),
    ...(uname && { uname: header.uname }),
    ...(gname && { gname: header.gname }),
  };
}

/**
 * A pax `mtime` of whole milliseconds, exact: `-S.FFF` means -(S + 0.FFF)
 * seconds, as GNU tar writes and reads it (so a time before 1970 is not a
 * second off, which `floor` seconds plus a positive fraction would be).
 */
export function paxTime(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const fraction = abs % 1000;
  const seconds = (abs - fraction) / 1000;
  return fraction ? `${sign}${seconds}.${String(fraction).padStart(3, '0')}` : `${sign}${seconds}`;
}

/** Headers are made in one reused buffer: one entry's blocks are copied into the tar stream before the next. */
let scratch = Buffer.alloc(4 * BLOCK);

/** `length` zeroed bytes of the scratch buffer, valid until the next encodeHeader. */
function scratchOf(length: number): Buffer {
  if (scratch.length < length) scratch = Buffer.alloc(Math.max(length, 2 * scratch.length));
  else scratch.fill(0, 0, length);
  return scratch.subarray(0, length);
}

/** [prefix, name] of a path the ustar fields hold (ASCII, split at its first slashes), else undefined. */
function ustarName(path: string, linkname: string | undefined): [string, string] | undefined {
  if (Buffer.byteLength(path) !== path.length) return undefined;
  if (linkname && Buffer.byteLength(linkname) > 100) return undefined;
  let name = path;
  let prefix = '';
  while (name.length > 100) {
    const slash = name.indexOf('/');
    if (slash === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, slash)}` : name.slice(0, slash);
    name = name.slice(slash + 1);
  }
  return prefix.length > 155 ? undefined : [prefix, name];
}

/**
 * Fills one zeroed 512-byte ustar block. Strings are UTF-8, each cut to its
 * field (a longer one would run into the next field: a long group name used to
 * become the path's prefix); numbers that do not fit get an in-range stand-in,
 * their exact value being in a pax record (overflowRecords).
 */
function ustar(
  block: Buffer,
  name: string,
  prefix: string,
  linkname: string | undefined,
  header: EntryHeader,
  size: number,
  typeflag: number,
): void {
  block.write(name, 0, 100);
  octal(block, 100, 6, header.mode & 0o7777);
  octal(block, 108, 6, header.uid);
  octal(block, 116, 6, header.gid);
  if (size >= 8 ** 11) base256(block, 124, size);
  else octal(block, 124, 11, size);
  // Whole seconds, floored; before 1970 the field says 1970 (octal has no sign).
  octal(block, 136, 11, Math.max(0, Math.floor(header.mtime.getTime() / 1000)));
  block[156] = typeflag;
  if (linkname) block.write(linkname, 157, 100);
  USTAR_MAGIC.copy(block, 257);
  if (header.uname) block.write(header.uname, 265, OWNER_NAME_BYTES);
  if (header.gname) block.write(header.gname, 297, OWNER_NAME_BYTES);
  octal(block, 329, 6, 0);
  octal(block, 337, 6, 0);
  if (prefix) block.write(prefix, 345, 155);
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 0x20;
  for (let at = 0; at < 148; at++) sum += block[at]!;
  for (let at = 156; at < BLOCK; at++) sum += block[at]!;
  octal(block, 148, 6, sum);
}

/**
 * `width` octal digits and a space at `offset`, written digit by digit (no
 * string per field); all sevens when the value does not fit, as tar-stream did
 * (the exact value is then in a pax record).
 */
function octal(block: Buffer, offset: number, width: number, value: number): void {
  if (value >= 8 ** width) {
    block.fill(0x37, offset, offset + width);
  } else {
    let rest = value;
    for (let at = offset + width - 1; at >= offset; at--) {
      block[at] = 0x30 + (rest & 7);
      rest = Math.floor(rest / 8);
    }
  }
  block[offset + width] = 0x20;
}

/** GNU's base-256 size field, for a size of more than eleven octal digits (8 GiB and up). */
function base256(block: Buffer, offset: number, value: number): void {
  block[offset] = 0x80;
  let rest = value;
  for (let at = 11; at > 0; at--) {
    block[offset + at] = rest & 0xff;
    rest = Math.floor(rest / 0x100);
  }
}

/** `<length> <key>=<value>\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const text = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(text);
  let digits = String(bytes).length;
  if (bytes + digits >= 10 ** digits) digits++;
  return `${bytes + digits}${text}`;
}
