import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import tarStream from 'tar-stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type EntryHeader, encodeHeader, paxTime } from '../src/archive/tar-header.js';
import { EntryGuard } from '../src/shard/entry-guard.js';
import { type GuardedEntry, shardExtract, walkArchive } from '../src/shard/walk.js';

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
    ['setuid and sticky bits', { mode: 0o7755 }],
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

/** One entry (no contents) as a whole tar archive. */
const archiveOf = (header: EntryHeader): Buffer => Buffer.concat([encodeHeader(header), Buffer.alloc(1024)]);

/** GNU tar's listing line of a one-entry archive: `mode uid/gid size date time name`, times in UTC. */
async function gnuListing(header: EntryHeader, numeric: boolean): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'mb-tar-header-'));
  onTestFinished(() => rm(folder, { recursive: true, force: true }));
  await writeFile(join(folder, 'a.tar'), archiveOf(header));
  const flags = ['--full-time', '-tvf', join(folder, 'a.tar'), ...(numeric ? ['--numeric-owner'] : [])];
  return execFileSync('tar', flags, { env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8' })
    .trim()
    .replace(/ +/g, ' ');
}

/** The entry as the shard reader (restore, verify, dump) sees it. */
async function readBack(header: EntryHeader): Promise<GuardedEntry> {
  const extract = shardExtract();
  const seen: GuardedEntry[] = [];
  const limits = { entries: 2, fileBytes: 0, innerManifestBytes: 0, tarBytes: 1 << 20 };
  const reading = walkArchive(extract, new EntryGuard(limits), (entry) => {
    seen.push(entry);
  });
  Readable.from([archiveOf(header)]).pipe(extract);
  await reading;
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

describe('encodeHeader, values the ustar fields cannot hold', () => {
  const longGroup = 'g'.repeat(60);
  const longUser = 'u'.repeat(90);

  it('keeps the path whole and the owner names in pax records when they are longer than their fields', async () => {
    // Whole seconds, so no pax header but for the names: the group name used to run into the prefix field.
    const header = { ...base, name: 's/f', uname: longUser, gname: longGroup };
    expect(await gnuListing(header, false)).toBe(
      `-rw-r--r-- ${longUser}/${longGroup} 0 2023-11-14 22:13:20 s/f`,
    );
    const entry = await readBack(header);
    expect([entry.path, entry.user, entry.group]).toEqual(['s/f', longUser, longGroup]);
    // The ustar blocks' group names are cut to their field: the prefix field stays empty.
    const blocks = encodeHeader({ ...base, name: 's/f', gname: 'h'.repeat(49) });
    const last = blocks.subarray(blocks.length - 512);
    expect(last.subarray(297, 329).toString('latin1')).toBe(`${'h'.repeat(31)}\u0000`);
    expect(last.subarray(345, 500).equals(Buffer.alloc(155))).toBe(true);
  });

  it('keeps ids from 262144 on in pax records', async () => {
    const header = { ...base, uid: 300_000, gid: 4_000_000 };
    expect(await gnuListing(header, true)).toBe(
      '-rw-r--r-- 300000/4000000 0 2023-11-14 22:13:20 src/file.txt',
    );
    const entry = await readBack(header);
    expect([entry.uid, entry.gid]).toEqual([300_000, 4_000_000]);
  });

  it.each<[string, number, string]>([
    ['a whole second before 1970', Date.UTC(1960, 0, 1), '1960-01-01 00:00:00'],
    ['a whole second from 2038 on', Date.UTC(2040, 5, 1, 12), '2040-06-01 12:00:00'],
    ['a whole second past 2242 (beyond 11 octal digits)', Date.UTC(2300, 0, 1), '2300-01-01 00:00:00'],
  ])('keeps %s exactly', async (_what, ms, shown) => {
    const header = { ...base, mtime: new Date(ms) };
    expect(await gnuListing(header, true)).toBe(`-rw-r--r-- 1000/100 0 ${shown} src/file.txt`);
    expect((await readBack(header)).mtimeMs).toBe(ms);
  });

  it('writes a fractional time before 1970 as GNU tar does: -S.FFF is -(S + 0.FFF) seconds', async () => {
    const ms = Date.UTC(1960, 0, 1) + 500;
    expect(paxTime(ms)).toBe('-315619199.500');
    expect(paxTime(-1)).toBe('-0.001');
    expect(paxTime(1_700_000_000_123)).toBe('1700000000.123');
    expect(paxTime(1_700_000_000_000)).toBe('1700000000');
    const header = { ...base, mtime: new Date(ms), pax: { mtime: paxTime(ms) } };
    expect((await readBack(header)).mtimeMs).toBe(ms);
    // GNU tar 1.34 lists such a time a second late (its own archives too), but extracts it exactly.
    const folder = await mkdtemp(join(tmpdir(), 'mb-tar-header-'));
    onTestFinished(() => rm(folder, { recursive: true, force: true }));
    await writeFile(join(folder, 'a.tar'), archiveOf({ ...header, name: 'f' }));
    execFileSync('tar', ['-xf', 'a.tar', '--warning=no-timestamp'], { cwd: folder });
    expect(execFileSync('stat', ['-c', '%.3Y', join(folder, 'f')], { encoding: 'utf8' }).trim()).toBe(
      '-315619199.500',
    );
  });
});
