import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectFiles } from '@matric-backup/plugin-api/fs-store';
import { canMount, withLoopDisk, withTmpfs } from '@matric-backup/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mb-direct-files-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

/** Writes `bytes` in pieces of uneven sizes, as a compressor hands them over. */
async function writeInPieces(files: DirectFiles, bytes: Buffer): Promise<void> {
  for (let offset = 0, piece = 1; offset < bytes.length; piece = (piece * 7 + 12_345) % 3_000_000) {
    await files.write(bytes.subarray(offset, offset + piece));
    offset += piece;
  }
  await files.end();
}

/**
 * Writes `bytes` a MiB at a time, letting the event loop run between writes as a compressor does:
 * a write failing in between must not become an unhandled rejection.
 */
async function writeSlowly(files: DirectFiles, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += 1 << 20) {
    await files.write(bytes.subarray(offset, offset + (1 << 20)));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await files.end();
}

/**
 * Writes 10 MiB, with `write`, into three files on a 16 MiB disk: only the first fits, whole,
 * and the spares are gone.
 */
async function onlyTheFirstFits(write: (files: DirectFiles, bytes: Buffer) => Promise<void>): Promise<void> {
  await withLoopDisk(scratch, 16, async (disk) => {
    const bytes = randomBytes(10 * 1024 * 1024);
    const files = (await DirectFiles.create(
      ['first', 'spare-1', 'spare-2'].map((name) => join(disk, name)),
    ))!;
    await write(files, bytes).finally(() => files.close());
    expect(files.paths).toEqual([join(disk, 'first')]);
    expect((await readdir(disk)).sort()).toEqual(['first', 'lost+found']);
    expect((await readFile(join(disk, 'first'))).equals(bytes)).toBe(true);
  });
}

describe('DirectFiles', () => {
  it.runIf(canMount)('declines a file system that is no local disk (tmpfs), leaving no file', async () => {
    await withTmpfs(scratch, async (folder) => {
      expect(await DirectFiles.create([join(folder, 'a'), join(folder, 'b')])).toBeUndefined();
      expect(await readdir(folder)).toEqual([]);
    });
  });

  it.each([0, 1, 4095, 4096, 4 * 1024 * 1024, 9 * 1024 * 1024 + 17])(
    'writes %i bytes into every file, exactly, each a new 0600 file',
    async (size) => {
      const bytes = randomBytes(size);
      const paths = ['a', 'b', 'c'].map((name) => join(scratch, name));
      const files = await DirectFiles.create(paths);
      // Every disk file system of Linux takes O_DIRECT; elsewhere there is nothing to test.
      if (!files) return expect(process.platform).not.toBe('linux');
      await writeInPieces(files, bytes);
      expect(files.paths).toEqual(paths);
      for (const path of paths) {
        expect((await readFile(path)).equals(bytes), path).toBe(true);
        expect((await stat(path)).mode & 0o7777).toBe(0o600);
      }
    },
  );

  it('never replaces an existing file', async () => {
    await writeFile(join(scratch, 'a'), 'kept');
    await expect(DirectFiles.create([join(scratch, 'a')])).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(scratch, 'a'), 'utf8')).toBe('kept');
  });

  it.runIf(canMount)(
    'drops the spares, and removes them, when the disk fills up; the first file is whole',
    () => onlyTheFirstFits(writeInPieces),
  );

  it.runIf(canMount)('keeps as many spares as the disk has room for', async () => {
    // 32 MiB: room for two files of 8 MiB and what is kept free after them, not for three.
    await withLoopDisk(scratch, 32, async (disk) => {
      const bytes = randomBytes(8 * 1024 * 1024);
      const paths = ['first', 'spare-1', 'spare-2'].map((name) => join(disk, name));
      const files = (await DirectFiles.create(paths))!;
      await writeInPieces(files, bytes).finally(() => files.close());
      expect(files.paths).toHaveLength(2);
      expect(files.paths[0]).toBe(paths[0]);
      expect((await readdir(disk)).sort()).toEqual(
        [...files.paths.map((path) => path.slice(disk.length + 1)), 'lost+found'].sort(),
      );
      for (const path of files.paths) expect((await readFile(path)).equals(bytes), path).toBe(true);
    });
  });

  it.runIf(canMount)(
    'when a write still meets a full disk (another writer took the room), spares give theirs back; the first is whole',
    () =>
      onlyTheFirstFits((files, bytes) => {
        // Without the room kept free before each write, so that the writes themselves meet ENOSPC.
        Object.assign(files, { keepRoom: async () => undefined });
        return writeSlowly(files, bytes);
      }),
  );

  it.runIf(canMount)('fails with ENOSPC when not even the first file fits', async () => {
    await withLoopDisk(scratch, 16, async (disk) => {
      const files = (await DirectFiles.create([join(disk, 'first'), join(disk, 'spare')]))!;
      const writing = writeSlowly(files, randomBytes(20 * 1024 * 1024)).finally(() => files.close());
      await expect(writing).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(files.paths).toEqual([join(disk, 'first')]);
    });
  });
});
