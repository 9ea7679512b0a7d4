import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, symlink } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileWriter, type WrittenFile, writerThreads } from '../src/restore/file-writer.js';
import { RefusedEntry } from '../src/shard/entry-guard.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mb-writer-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('FileWriter (the restore writer thread)', () => {
  it('gives an archive of fewer than 10,000 entries one thread, a larger or uncounted one a thread per core (up to four)', () => {
    const perCore = Math.min(availableParallelism(), 4);
    expect([writerThreads(5_626), writerThreads(9_999)]).toEqual([1, 1]);
    expect([writerThreads(10_000), writerThreads(30_757), writerThreads(undefined)]).toEqual([
      perCore,
      perCore,
      perCore,
    ]);
  });

  it('writes many small files and a large one across batches: bytes, hashes, modes and mtimes', async () => {
    const written: WrittenFile[] = [];
    const writer = new FileWriter(root, (file) => written.push(file));
    // Over 512 operations per batch and over 1 MiB of data per batch, split across chunk boundaries.
    const files = new Map<string, Buffer>();
    for (let index = 0; index < 1500; index++)
      files.set(`d${index % 7}/f${index}`, randomBytes(index % 3001));
    files.set('d0/large.bin', randomBytes(3 * 1024 * 1024 + 17));
    const mtimeMs = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    for (const folder of ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6']) writer.folder(folder);
    // Modes the umask leaves whole (created so) and ones it does not (set afterwards).
    const modeOf = (path: string) => [0o640, 0o664, 0o400, 0o777][path.length % 4]!;
    for (const [path, data] of files) {
      writer.open(path, modeOf(path), mtimeMs);
      for (let offset = 0; offset < data.length; offset += 700_000) {
        writer.write(data.subarray(offset, offset + 700_000));
        await writer.room();
      }
      writer.close();
      await writer.room();
    }
    await writer.finish();

    expect(written).toHaveLength(files.size);
    for (const file of written) {
      const data = files.get(file.path)!;
      expect(file).toEqual({
        path: file.path,
        size: data.length,
        sha256: sha256(data),
        mode: modeOf(file.path),
        mtimeMs,
      });
      expect((await readFile(join(root, file.path))).equals(data), file.path).toBe(true);
      const info = await stat(join(root, file.path));
      expect([info.mode & 0o7777, Math.round(info.mtimeMs)], file.path).toEqual([modeOf(file.path), mtimeMs]);
    }
  });

  it('spreads folders over threads: folders above made by whichever comes first, hard links after their file, symbolic links last', async () => {
    const written: WrittenFile[] = [];
    const writer = new FileWriter(root, (file) => written.push(file), undefined, undefined, {
      threads: 3,
      dealOps: 0,
    });
    const files = new Map<string, Buffer>();
    // Folders as tar lists them (each before what it holds), some only implied by the paths below them.
    writer.folder('src');
    for (let index = 0; index < 40; index++) {
      const folder = `src/d${index % 10}/e${index % 4}`;
      if (index < 10) writer.folder(`src/d${index}`);
      const path = `${folder}/f${index}`;
      const data = randomBytes(index * 97);
      files.set(path, data);
      writer.open(path, 0o640, 0);
      writer.write(data);
      writer.close();
      // Another folder's name for the file just written: it must exist before the link is made.
      writer.link(`src/links/l${index % 5}/h${index}`, path);
      await writer.room();
    }
    writer.folder('src/empty/inside');
    writer.symlink('src/d3/e1/up', '..');
    await writer.finish();

    expect(written.map((file) => file.path).sort()).toEqual([...files.keys()].sort());
    for (const file of written) expect(file.sha256, file.path).toBe(sha256(files.get(file.path)!));
    for (const [index, path] of [...files.keys()].entries()) {
      const [original, linked] = await Promise.all([
        stat(join(root, path)),
        stat(join(root, `src/links/l${index % 5}/h${index}`)),
      ]);
      expect([linked.ino, original.nlink], path).toEqual([original.ino, 2]);
    }
    expect((await stat(join(root, 'src/empty/inside'))).isDirectory()).toBe(true);
    expect(await readlink(join(root, 'src/d3/e1/up'))).toBe('..');
  });

  it('gives each file its mode under a folder whose default ACL replaces the umask, and mtimes before 1970', async () => {
    const under = join(root, 'acl');
    await mkdir(under);
    // New files here get group r-x and others nothing, whatever the umask says.
    execFileSync('setfacl', ['-d', '-m', 'u::rwx,g::r-x,o::---', under]);
    const written: WrittenFile[] = [];
    const writer = new FileWriter(under, (file) => written.push(file));
    const old = Date.UTC(1960, 0, 1, 0, 0, 0, 500);
    const cases = [
      ['a.txt', 0o644, Date.UTC(2024, 0, 2)],
      ['b.txt', 0o444, old],
      ['c.txt', 0o600, -1000],
    ] as const;
    for (const [path, mode, mtimeMs] of cases) {
      writer.open(path, mode, mtimeMs);
      writer.write(Buffer.from(path));
      writer.close();
    }
    await writer.finish();
    expect(written).toHaveLength(cases.length);
    for (const [path, mode, mtimeMs] of cases) {
      const info = await stat(join(under, path));
      expect([info.mode & 0o7777, info.mtimeMs], path).toEqual([mode, mtimeMs]);
    }
  });

  it('refuses an entry given twice, and a folder that is a symbolic link on disk', async () => {
    const twice = new FileWriter(root, () => undefined);
    for (let round = 0; round < 2; round++) {
      twice.open('same.txt', 0o600, 0);
      twice.write(Buffer.from('x'));
      twice.close();
    }
    await expect(twice.finish()).rejects.toThrow(
      new RefusedEntry('same.txt: appears more than once in the archive'),
    );

    await symlink(tmpdir(), join(root, 'link'));
    const through = new FileWriter(root, () => undefined);
    through.open('link/inside.txt', 0o600, 0);
    through.close();
    await expect(through.finish()).rejects.toThrow(
      new RefusedEntry('link: is a symbolic link and a folder in the archive'),
    );
  });

  it('reports a file system error with its code', async () => {
    const writer = new FileWriter(join(root, 'missing'), () => undefined);
    writer.open('a.txt', 0o600, 0);
    writer.close();
    await expect(writer.finish()).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });
});
