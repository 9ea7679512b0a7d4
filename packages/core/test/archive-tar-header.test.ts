import { buffer } from 'node:stream/consumers';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { type EntryHeader, encodeHeader } from '../src/archive/tar-header.js';

/** The header blocks tar-stream 3 writes for an entry (what every shard made before the packer's own encoder holds). */
async function tarStreamHeader(header: EntryHeader): Promise<Buffer> {
  const pack = tarStream.pack();
  // Files get no contents (size 0 here): the header blocks alone are compared.
  if (header.type === 'file') pack.entry(header, Buffer.alloc(0));
  else pack.entry(header);
  pack.finalize();
  const bytes = await buffer(pack);
  return bytes.subarray(0, bytes.length - 1024);
}

const base: EntryHeader = {
  name: 'src/file.txt',
  type: 'file',
  mode: 0o644,
  uid: 1000,
  gid: 100,
  size: 0,
  mtime: new Date(1_700_000_000_000),
  uname: 'ana',
  gname: 'users',
};

describe('encodeHeader', () => {
  it.each<[string, Partial<EntryHeader>]>([
    ['a plain file', {}],
    ['a folder', { name: 'src/docs', type: 'directory', mode: 0o755 }],
    ['a symbolic link', { name: 'src/link', type: 'symlink', mode: 0o777, linkname: '../target' }],
    ['a hard link', { name: 'src/second', type: 'link', linkname: 'src/file.txt' }],
    ['milliseconds in a pax record', { pax: { mtime: '1700000000.123' } }],
    ['a link with milliseconds', { type: 'symlink', linkname: 'there', pax: { mtime: '1700000000.5' } }],
    ['a path split into prefix and name', { name: `src/${'d'.repeat(90)}/${'e'.repeat(90)}/file` }],
    ['a last component longer than 100 bytes', { name: `src/${'g'.repeat(120)}` }],
    ['a path longer than prefix and name hold', { name: `src/${'p/'.repeat(150)}file` }],
    ['a UTF-8 name', { name: 'src/café/日本.txt' }],
    ['a UTF-8 link target', { type: 'symlink', linkname: 'café' }],
    ['a link target longer than 100 bytes', { type: 'symlink', linkname: 't'.repeat(150) }],
    ['an owner id too big for the field', { uid: 300_000, gid: 4_000_000 }],
    ['setuid and sticky bits', { mode: 0o7755 }],
    ['a time before 1970', { mtime: new Date(-86_400_000) }],
    ['no owner names', { uname: undefined, gname: undefined }],
    ['a pax record of exactly 100 bytes', { pax: { mtime: `${'1'.repeat(84)}` } }],
  ])('writes %s byte for byte as tar-stream did', async (_what, fields) => {
    const header = { ...base, ...fields };
    expect(encodeHeader(header).equals(await tarStreamHeader(header))).toBe(true);
  });

  it('writes the size field in octal, and in base-256 from 8 GiB on', () => {
    const small = encodeHeader({ ...base, size: 1234 });
    expect(small.subarray(124, 136).toString('latin1')).toBe('00000002322 ');
    const huge = encodeHeader({ ...base, size: 2 ** 33 + 5 });
    expect(huge[124]).toBe(0x80);
    expect(huge.readUIntBE(130, 6)).toBe(2 ** 33 + 5);
  });

  it('keeps a mode of 0 (tar-stream wrote 0644 for it)', () => {
    const block = encodeHeader({ ...base, mode: 0 });
    expect(block.subarray(100, 108).toString('latin1')).toBe('000000 \u0000');
  });
});
