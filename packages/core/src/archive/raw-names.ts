import { bytesOfName } from '../util/names.mjs';

const BLOCK = 512;
const TYPEFLAG: Record<string, string> = { file: '0', link: '1', symlink: '2', directory: '5' };

/** The header fields the raw headers are made of (tar-stream's names); what is left out counts as 0. */
interface RawHeader {
  name: string;
  type?: string | null;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: Date;
  linkname?: string | null;
  uname?: string;
  gname?: string;
  pax?: Record<string, string> | null;
  devmajor?: number;
  devminor?: number;
}

/**
 * A name or link target that is not UTF-8 (see util/names.mjs) cannot be
 * written as a string. Its headers are written byte for byte, the way GNU tar
 * does: the raw bytes in the ustar name/prefix and linkname fields, or in a GNU
 * long-name ('L') or long-link ('K') entry when they do not fit, and a pax
 * header for the other records (the sub-second mtime) without a `path`, which
 * would override them. GNU tar and tar-stream (reading names as latin1, see
 * shard/walk.ts) read back the same bytes. tar-header.ts sends such entries here.
 *
 * Returns the header blocks of one entry with raw-byte names: long-name entries, pax, ustar.
 */
export function rawHeaders(header: RawHeader): Buffer {
  let name = bytesOfName(header.name);
  if (header.type === 'directory' && name[name.length - 1] !== 0x2f)
    name = Buffer.concat([name, Buffer.of(0x2f)]);
  const link = header.linkname ? bytesOfName(header.linkname) : undefined;
  const blocks: Buffer[] = [];
  const split = splitUstar(name);
  if (!split) blocks.push(...longEntry('L', name, header));
  if (link && link.length > 100) blocks.push(...longEntry('K', link, header));
  const records = Object.entries(header.pax ?? {}).filter(([key]) => key !== 'path' && key !== 'linkpath');
  if (records.length) {
    const body = Buffer.from(records.map(([key, value]) => paxRecord(key, String(value))).join(''), 'utf8');
    blocks.push(ustar({ ...header, size: body.length }, 'x', Buffer.from('PaxHeader')), padded(body));
  }
  const [prefix, base] = split ?? [undefined, name.subarray(0, 100)];
  blocks.push(ustar(header, TYPEFLAG[header.type ?? 'file'] ?? '0', base, prefix, link?.subarray(0, 100)));
  return Buffer.concat(blocks);
}

/** [prefix, name] when the path fits the ustar fields (split at a `/`), else undefined. */
function splitUstar(name: Buffer): [Buffer | undefined, Buffer] | undefined {
  if (name.length <= 100) return [undefined, name];
  for (let slash = name.indexOf(0x2f); slash !== -1; slash = name.indexOf(0x2f, slash + 1)) {
    if (slash > 155) return undefined;
    if (name.length - slash - 1 <= 100 && slash > 0)
      return [name.subarray(0, slash), name.subarray(slash + 1)];
  }
  return undefined;
}

function longEntry(flag: 'L' | 'K', bytes: Buffer, header: RawHeader): Buffer[] {
  const body = Buffer.concat([bytes, Buffer.of(0)]);
  return [ustar({ ...header, size: body.length }, flag, Buffer.from('././@LongLink')), padded(body)];
}

function ustar(header: RawHeader, typeflag: string, name: Buffer, prefix?: Buffer, link?: Buffer): Buffer {
  const block = Buffer.alloc(BLOCK);
  name.copy(block, 0, 0, 100);
  octal(block, 100, 8, (header.mode ?? 0) & 0o7777);
  octal(block, 108, 8, header.uid ?? 0);
  octal(block, 116, 8, header.gid ?? 0);
  octal(
    block,
    124,
    12,
    typeflag === '0' || typeflag === 'x' || typeflag === 'L' || typeflag === 'K' ? (header.size ?? 0) : 0,
  );
  octal(block, 136, 12, Math.floor((header.mtime?.getTime() ?? 0) / 1000));
  block.write(typeflag, 156, 'latin1');
  link?.copy(block, 157, 0, 100);
  block.write('ustar\u000000', 257, 'latin1');
  // 31 bytes and a NUL; a longer name is in a pax record (tar-header.ts).
  if (header.uname) block.write(header.uname, 265, 31, 'utf8');
  if (header.gname) block.write(header.gname, 297, 31, 'utf8');
  octal(block, 329, 8, header.devmajor ?? 0);
  octal(block, 337, 8, header.devminor ?? 0);
  prefix?.copy(block, 345, 0, 155);
  // The checksum is computed with its own field as spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

/** An octal field, NUL-terminated; a number too big for it in GNU's base-256 form. */
function octal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = Math.max(0, Math.floor(value)).toString(8);
  if (digits.length < length) {
    block.write(`${digits.padStart(length - 1, '0')}\u0000`, offset, 'latin1');
    return;
  }
  block[offset] = 0x80;
  let rest = value;
  for (let at = offset + length - 1; at > offset; at--) {
    block[at] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

function paxRecord(key: string, value: string): string {
  const text = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(text);
  let length = bytes + String(bytes).length;
  if (String(length).length !== String(bytes).length) length = bytes + String(length).length;
  return `${length}${text}`;
}

function padded(body: Buffer): Buffer {
  const rest = body.length % BLOCK;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(BLOCK - rest)]);
}
