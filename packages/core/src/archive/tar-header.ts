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
  /** Extra pax records (the sub-second mtime). */
  pax?: Record<string, string>;
}

/**
 * The header blocks of one entry, byte for byte as tar-stream 3 made them for
 * every shard before this encoder: a ustar block when the name fits (split into
 * prefix and name at a `/`) and there are no pax records, else a pax header
 * (`path`, `linkpath`, the records) and a ustar block both named `PaxHeader`. A
 * name or link target that is not UTF-8 goes to rawHeaders (raw bytes, GNU
 * long-name entries). Written here rather than by tar-stream so the packer can
 * put headers and small files straight into its output chunks (tar-output.ts).
 * The bytes are valid until the next call: copy them before encoding another.
 */
export function encodeHeader(header: EntryHeader): Buffer {
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

/** Fills one zeroed 512-byte ustar block. Strings are written as tar-stream wrote them: UTF-8, up to the block's end. */
function ustar(
  block: Buffer,
  name: string,
  prefix: string,
  linkname: string | undefined,
  header: EntryHeader,
  size: number,
  typeflag: number,
): void {
  block.write(name, 0);
  octal(block, 100, 6, header.mode & 0o7777);
  octal(block, 108, 6, header.uid);
  octal(block, 116, 6, header.gid);
  if (size >= 8 ** 11) base256(block, 124, size);
  else octal(block, 124, 11, size);
  octal(block, 136, 11, (header.mtime.getTime() / 1000) | 0);
  block[156] = typeflag;
  if (linkname) block.write(linkname, 157);
  USTAR_MAGIC.copy(block, 257);
  if (header.uname) block.write(header.uname, 265);
  if (header.gname) block.write(header.gname, 297);
  octal(block, 329, 6, 0);
  octal(block, 337, 6, 0);
  if (prefix) block.write(prefix, 345);
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 0x20;
  for (let at = 0; at < 148; at++) sum += block[at]!;
  for (let at = 156; at < BLOCK; at++) sum += block[at]!;
  octal(block, 148, 6, sum);
}

/**
 * `width` octal digits and a space at `offset`, written digit by digit (no
 * string per field); all sevens when the value does not fit, as tar-stream did.
 */
function octal(block: Buffer, offset: number, width: number, value: number): void {
  if (!(value >= 0 && Number.isInteger(value))) {
    // A time before 1970: tar-stream wrote the number's own text (with its minus sign), zero-padded.
    const digits = value.toString(8);
    block.write(
      `${digits.length > width ? '7'.repeat(width) : digits.padStart(width, '0')} `,
      offset,
      'latin1',
    );
    return;
  }
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
