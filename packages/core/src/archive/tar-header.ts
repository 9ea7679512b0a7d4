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
 */
export function encodeHeader(header: EntryHeader): Buffer {
  if (hasRawBytes(header.name) || hasRawBytes(header.linkname ?? '')) return rawHeaders(header);
  const typeflag = TYPEFLAG[header.type];
  if (!header.pax) {
    const split = ustarName(header.name, header.linkname);
    if (split) {
      const block = Buffer.alloc(BLOCK);
      ustar(block, split[1], split[0], header.linkname, header, header.size, typeflag);
      return block;
    }
  }
  let records = paxRecord('path', header.name);
  if (header.linkname) records += paxRecord('linkpath', header.linkname);
  for (const [key, value] of Object.entries(header.pax ?? {})) records += paxRecord(key, value);
  const paxLength = Buffer.byteLength(records);
  const paxBlocks = Math.ceil(paxLength / BLOCK) * BLOCK;
  const out = Buffer.alloc(2 * BLOCK + paxBlocks);
  const link = header.linkname ? 'PaxHeader' : undefined;
  ustar(out.subarray(0, BLOCK), 'PaxHeader', '', link, header, paxLength, PAX_TYPEFLAG);
  out.write(records, BLOCK, 'utf8');
  ustar(out.subarray(BLOCK + paxBlocks), 'PaxHeader', '', link, header, header.size, typeflag);
  return out;
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
  block.write(octal(header.mode & 0o7777, 6), 100, 'latin1');
  block.write(octal(header.uid, 6), 108, 'latin1');
  block.write(octal(header.gid, 6), 116, 'latin1');
  const sizeDigits = size.toString(8);
  if (sizeDigits.length > 11) base256(block, 124, size);
  else block.write(octal(size, 11), 124, 'latin1');
  block.write(octal((header.mtime.getTime() / 1000) | 0, 11), 136, 'latin1');
  block[156] = typeflag;
  if (linkname) block.write(linkname, 157);
  USTAR_MAGIC.copy(block, 257);
  if (header.uname) block.write(header.uname, 265);
  if (header.gname) block.write(header.gname, 297);
  block.write(octal(0, 6), 329, 'latin1');
  block.write(octal(0, 6), 337, 'latin1');
  if (prefix) block.write(prefix, 345);
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 0x20;
  for (let at = 0; at < 148; at++) sum += block[at]!;
  for (let at = 156; at < BLOCK; at++) sum += block[at]!;
  block.write(octal(sum, 6), 148, 'latin1');
}

/** `width` octal digits and a space; all sevens when the value does not fit (as tar-stream did). */
function octal(value: number, width: number): string {
  const digits = value.toString(8);
  if (digits.length > width) return `${'7'.repeat(width)} `;
  return `${digits.padStart(width, '0')} `;
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
