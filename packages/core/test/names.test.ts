import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawHeaders } from '../src/archive/raw-names.js';
import { bytesOfName, displayName, fsPath, hasRawBytes, nameFromBytes } from '../src/util/names.mjs';

/** A file's header as tar-stream hands it to its encoder: every field filled in. */
const fileHeader = (name: string, size: number): Parameters<typeof rawHeaders>[0] => ({
  name,
  size,
  type: 'file',
  mode: 0o644,
  mtime: new Date(0),
  linkname: '',
  uid: 0,
  gid: 0,
  uname: '',
  gname: '',
  devmajor: 0,
  devminor: 0,
});

describe('file names as bytes', () => {
  it('every byte string converts to a string and back exactly, through JSON too', () => {
    const wrong: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) {
      const bytes = randomBytes(1 + (i % 16));
      if (!bytesOfName(JSON.parse(JSON.stringify(nameFromBytes(bytes)))).equals(bytes)) wrong.push(bytes);
    }
    expect(wrong).toEqual([]);
  });

  it('keeps UTF-8 names as their usual strings and marks only the bytes that are not', () => {
    expect(nameFromBytes(Buffer.from('café/日本/😀', 'utf8'))).toBe('café/日本/😀');
    expect(hasRawBytes('café')).toBe(false);
    const mixed = nameFromBytes(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0xed, 0xa0, 0x80, 0xc3]));
    expect(hasRawBytes(mixed)).toBe(true);
    // Overlong, surrogate and truncated sequences are raw bytes, each shown as \xNN.
    expect(displayName(mixed)).toBe('a\\xffé\\xed\\xa0\\x80\\xc3');
    expect(fsPath(mixed)).toEqual(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0xed, 0xa0, 0x80, 0xc3]));
    expect(fsPath('plain')).toBe('plain');
  });

  it('writes raw names byte for byte in ustar headers with a valid checksum, long ones in a GNU long-name entry', () => {
    const name = nameFromBytes(Buffer.from([0x73, 0x2f, 0xff, 0xfe]));
    const [block] = [rawHeaders(fileHeader(name, 3))];
    expect(block!.length).toBe(512);
    expect(block!.subarray(0, 5)).toEqual(Buffer.from([0x73, 0x2f, 0xff, 0xfe, 0]));
    const stored = Number.parseInt(block!.subarray(148, 154).toString('latin1'), 8);
    const copy = Buffer.from(block!);
    copy.fill(0x20, 148, 156);
    expect(stored).toBe(copy.reduce((sum, byte) => sum + byte, 0));

    const long = nameFromBytes(Buffer.alloc(300, 0xfa));
    const blocks = rawHeaders(fileHeader(long, 1));
    expect(blocks.length).toBe(512 * 3);
    expect(blocks[156]).toBe('L'.charCodeAt(0));
    expect(blocks.subarray(512, 812)).toEqual(Buffer.alloc(300, 0xfa));
  });
});
