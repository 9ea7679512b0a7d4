import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, truncateSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeArchive } from '../src/archive/write.js';
import type { CompressionAlgorithm } from '../src/shard/manifest.js';
import { parseInnerManifest } from '../src/shard/manifest-schema.js';
import { SourceProblems } from '../src/sources/problems.js';
import { readSources } from '../src/sources/read.js';
import type { SourceEntry } from '../src/sources/types.js';
import type { Warning } from '../src/util/warning.js';
import { type ExtractedEntry, readArchive } from './fixtures/run/archive.js';
import { makeTree } from './fixtures/run/tree.js';

let dir: string;
let source: string;
let files: Map<string, Buffer>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-archive-'));
  source = join(dir, 'tree');
  await mkdir(source);
  files = await makeTree(source);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** The entry's mtime in ms: the pax record when there is one (ustar keeps whole seconds). */
const mtimeOf = (entry: ExtractedEntry) =>
  entry.pax?.mtime ? Math.round(Number(entry.pax.mtime) * 1000) : entry.mtime;

async function archive(compression: CompressionAlgorithm, level?: number) {
  const spoolDir = join(dir, `spool-${compression}-${level ?? 'default'}`);
  const warnings: Warning[] = [];
  const problems = new SourceProblems([], (found) => warnings.push(found));
  const result = await writeArchive(
    readSources(
      [{ name: 'files', type: 'directory', path: source, on_error: 'warn', one_file_system: false }],
      {
        spoolDir,
        dumpDir: spoolDir,
        configDir: dir,
        problems,
      },
    ),
    {
      id: 'backup_20260101_000000',
      createdAt: new Date('2026-01-01T00:00:00.000Z'),
      sources: ['files'],
      spoolDir,
      fileName: `backup_20260101_000000.tar.${compression}`,
      format: { compression, level, encryption: null },
      problems,
    },
  );
  return { result, warnings, spoolDir };
}

describe.each<CompressionAlgorithm>(['zstd', 'gzip', 'none'])('archive round trip (%s)', (compression) => {
  let entries: ExtractedEntry[];
  let outcome: Awaited<ReturnType<typeof archive>>;

  beforeAll(async () => {
    outcome = await archive(compression);
    entries = await readArchive(outcome.result.file, compression);
  });

  it('stores every file byte for byte with its mode and mtime', async () => {
    for (const [path, data] of files) {
      const entry = entries.find((candidate) => candidate.name === `files/${path}`);
      expect(entry, path).toBeDefined();
      expect(entry!.type).toBe('file');
      expect(entry!.data.equals(data), path).toBe(true);
      const info = await stat(join(source, path));
      expect(entry!.mode).toBe(info.mode & 0o7777);
      expect(mtimeOf(entry!)).toBe(Math.round(info.mtimeMs));
    }
    expect(mtimeOf(entries.find((entry) => entry.name === 'files/a.txt')!)).toBe(1_700_000_000_123);
    expect(entries.find((entry) => entry.name === 'files/a.txt')!.mode).toBe(0o640);
    expect(entries.find((entry) => entry.name === 'files/run.sh')!.mode).toBe(0o755);
  });

  it('keeps symlinks as links (never followed), empty folders, and the source root', async () => {
    const byName = new Map(entries.map((entry) => [entry.name, entry]));
    expect(byName.get('files/link')).toMatchObject({
      type: 'symlink',
      linkname: 'a.txt',
      data: Buffer.alloc(0),
    });
    expect(byName.get('files/dangling')).toMatchObject({ type: 'symlink', linkname: '../does/not/exist' });
    expect(byName.get('files/empty')).toMatchObject({ type: 'directory', mtime: 1_600_000_000_000 });
    expect(byName.get('files')?.type).toBe('directory');
    expect(entries[0]!.name).toBe('files');
  });

  it('writes entries in sorted order, each folder before its contents, manifest.json last', () => {
    const names = entries.map((entry) => entry.name);
    expect(names.at(-1)).toBe('manifest.json');
    const body = names.slice(0, -1);
    for (const [index, name] of body.entries()) {
      const parent = name.slice(0, name.lastIndexOf('/'));
      if (parent) expect(body.indexOf(parent), name).toBeLessThan(index);
    }
    const topLevel = body.filter((name) => name.split('/').length === 2);
    expect(topLevel).toEqual([...topLevel].sort());
  });

  it('lists every entry in the inner manifest with each file sha256', async () => {
    const manifest = parseInnerManifest(entries.at(-1)!.data.toString('utf8'));
    expect(manifest).toMatchObject({
      id: 'backup_20260101_000000',
      sources: ['files'],
      format: 'matric-backup',
    });
    expect(manifest.entries.map((entry) => entry.path)).toEqual(
      entries.slice(0, -1).map((entry) => entry.name),
    );
    for (const [path, data] of files) {
      const listed = manifest.entries.find((entry) => entry.path === `files/${path}`);
      expect(listed).toMatchObject({ type: 'file', size: data.length, sha256: sha256(data) });
    }
    expect(manifest.entries.find((entry) => entry.path === 'files/link')).toMatchObject({
      type: 'symlink',
      target: await readlink(join(source, 'link')),
    });
    expect(manifest.entries.find((entry) => entry.path === 'files/a.txt')?.mtime).toBe(1_700_000_000_123);
  });

  it('reports size, sha256 and counts of the stored bytes; the spool holds only the 0600 archive', async () => {
    const { result, spoolDir, warnings } = outcome;
    const stored = await readFile(result.file);
    expect(result.size).toBe(stored.length);
    expect(result.sha256).toBe(sha256(stored));
    expect(result.files).toBe(files.size);
    expect(result.symlinks).toBe(2);
    expect(result.bytesIn).toBe([...files.values()].reduce((sum, data) => sum + data.length, 0));
    expect((await lstat(result.file)).mode & 0o777).toBe(0o600);
    expect(await readdir(spoolDir)).toEqual([`backup_20260101_000000.tar.${compression}`]);
    expect(warnings).toEqual([]);
    const magic = { zstd: '28b52ffd', gzip: '1f8b', none: '' }[compression];
    expect(stored.subarray(0, 4).toString('hex').startsWith(magic)).toBe(true);
    if (compression === 'none') expect(stored.subarray(257, 262).toString()).toBe('ustar');
  });
});

it('is deterministic: the same tree and time give the same bytes', async () => {
  const first = await archive('zstd', 5);
  const second = await archive('zstd', 3);
  const third = await archive('zstd', 3);
  expect(second.result.sha256).toBe(third.result.sha256);
  expect(first.result.sha256).not.toBe(second.result.sha256);
});

describe('files that change between the walk and the read', () => {
  async function archiveEntries(
    entries: SourceEntry[],
    onError: 'warn' | 'fail' = 'warn',
    onProgress?: (bytesIn: number) => void,
  ) {
    const spoolDir = join(dir, 'spool-changed');
    await rm(spoolDir, { recursive: true, force: true });
    const warnings: Warning[] = [];
    const problems = new SourceProblems(
      [{ name: 'files', type: 'directory', path: dir, on_error: onError, one_file_system: false }],
      (found) => warnings.push(found),
    );
    const run = writeArchive(
      (async function* () {
        yield* entries;
      })(),
      {
        id: 'backup_20260101_000000',
        createdAt: new Date('2026-01-01T00:00:00.000Z'),
        sources: ['files'],
        spoolDir,
        fileName: 'x.tar.zst',
        format: { compression: 'zstd', encryption: null },
        problems,
        onProgress: ({ bytesIn }) => onProgress?.(bytesIn),
      },
    );
    return { run, warnings, spoolDir, problems };
  }

  it('a file removed before it is read is left out with a VANISHED warning, in the inner manifest too', async () => {
    const gone = join(dir, 'gone.txt');
    const { run, warnings } = await archiveEntries([
      { type: 'directory', path: 'files', mode: 0o755, mtimeMs: 0 },
      { type: 'file', path: 'files/gone.txt', absolute: gone, open: gone },
    ]);
    const result = await run;
    expect(result.files).toBe(0);
    expect(warnings).toEqual([
      {
        code: 'FILE_VANISHED',
        message: `source files: ${gone}: removed while the backup ran (VANISHED)`,
        source: 'files',
        path: 'files/gone.txt',
      },
    ]);
    const entries = await readArchive(result.file, 'zstd');
    expect(entries.map((entry) => entry.name)).toEqual(['files', 'manifest.json']);
    expect(parseInnerManifest(entries.at(-1)!.data.toString()).warnings).toEqual([
      { code: 'VANISHED', path: 'files/gone.txt', reason: 'removed while the backup ran' },
    ]);
  });

  it('with on_error: fail a vanished file fails with SOURCE_FAILED naming it, leaving no spool file', async () => {
    const gone = join(dir, 'gone.txt');
    const { run, spoolDir } = await archiveEntries(
      [
        { type: 'directory', path: 'files', mode: 0o755, mtimeMs: 0 },
        { type: 'file', path: 'files/gone.txt', absolute: gone, open: gone },
      ],
      'fail',
    );
    await expect(run).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: `source files: cannot read ${gone}: no such file or folder (ENOENT)`,
    });
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('a file replaced by a symlink is not followed: a CHANGED warning, nothing read through it', async () => {
    const swapped = join(dir, 'swapped');
    await symlink('/etc/hostname', swapped);
    const { run, problems } = await archiveEntries([
      { type: 'file', path: 'files/swapped', absolute: swapped, open: swapped },
    ]);
    expect((await run).files).toBe(0);
    expect(problems.list).toEqual([
      { code: 'CHANGED', path: 'files/swapped', reason: 'replaced by a symbolic link while the backup ran' },
    ]);
  });

  // The packer reports progress after each piece of a big file it read (up to a MiB): the moment to
  // change the file under it. A shrunk file is cut where the reading stands: the rest is stored as zeros.
  it.each([
    [
      'shrinks',
      'CHANGED',
      (read: number) => `shrank by ${(3 << 20) - read} bytes while read; the missing end is stored as zeros`,
    ],
    ['grows', 'CHANGED', () => 'changed while read; the stored copy may be inconsistent'],
  ])(
    'a file that %s while read keeps its header size: a valid tar whose manifest hash matches the stored bytes',
    async (what, code, reason) => {
      const live = join(dir, `live-${what}`);
      await writeFile(live, randomBytes(3 << 20));
      let read = 0;
      const { run, problems } = await archiveEntries(
        [{ type: 'file', path: 'files/live', absolute: live, open: live }],
        'warn',
        (bytesIn) => {
          if (read > 0 || bytesIn === 0) return;
          read = bytesIn;
          if (what === 'shrinks') truncateSync(live, read);
          else appendFileSync(live, 'more');
        },
      );
      const result = await run;
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThan(3 << 20);
      expect(problems.list).toEqual([{ code, path: 'files/live', reason: reason(read) }]);
      const entries = await readArchive(result.file, 'zstd');
      const stored = entries.find((entry) => entry.name === 'files/live')!;
      expect(stored.data.length).toBe(3 << 20);
      const manifest = parseInnerManifest(entries.at(-1)!.data.toString());
      expect(manifest.entries[0]).toMatchObject({
        path: 'files/live',
        size: 3 << 20,
        sha256: sha256(stored.data),
      });
      expect(manifest.warnings).toEqual(problems.list);
      if (what === 'shrinks')
        expect(stored.data.subarray(read).equals(Buffer.alloc((3 << 20) - read))).toBe(true);
      execFileSync('tar', ['--zstd', '-tf', result.file]);
    },
  );

  it('a file replaced by a FIFO is skipped with a CHANGED warning instead of blocking', async () => {
    const fifo = join(dir, 'now-a-fifo');
    execFileSync('mkfifo', [fifo]);
    const { run, warnings } = await archiveEntries([
      { type: 'file', path: 'files/now-a-fifo', absolute: fifo, open: fifo },
    ]);
    expect((await run).files).toBe(0);
    expect(warnings.map(({ code, message }) => ({ code, message }))).toEqual([
      {
        code: 'FILE_CHANGED',
        message: `source files: ${fifo}: replaced by something that is not a file while the backup ran (CHANGED)`,
      },
    ]);
  });
});
