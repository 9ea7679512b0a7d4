import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectFiles } from '@matric-backup/plugin-api/fs-store';
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

/** Runs `test` on a fresh ext2 file system of `mib` MiB (root and mke2fs only): a disk that fills up. */
async function onSmallDisk(mib: number, test: (mountPoint: string) => Promise<void>): Promise<void> {
  const image = join(scratch, 'disk.img');
  const mountPoint = join(scratch, 'mnt');
  await mkdir(mountPoint);
  await writeFile(image, '');
  await truncate(image, mib * 1024 * 1024);
  execFileSync('mke2fs', ['-q', '-F', image]);
  execFileSync('mount', ['-o', 'loop', image, mountPoint]);
  try {
    await test(mountPoint);
  } finally {
    execFileSync('umount', [mountPoint]);
  }
}

const canMount = process.getuid?.() === 0 && commandExists('mke2fs');

function commandExists(command: string): boolean {
  try {
    execFileSync(command, ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('DirectFiles', () => {
  it.runIf(process.getuid?.() === 0)(
    'declines a file system that is no local disk (tmpfs), leaving no file',
    async () => {
      const ram = join(scratch, 'ram');
      await mkdir(ram);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', ram]);
      try {
        expect(await DirectFiles.create([join(ram, 'a'), join(ram, 'b')])).toBeUndefined();
        expect(await readdir(ram)).toEqual([]);
      } finally {
        execFileSync('umount', [ram]);
      }
    },
  );

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
    async () => {
      await onSmallDisk(16, async (disk) => {
        const bytes = randomBytes(10 * 1024 * 1024);
        const files = (await DirectFiles.create(
          ['first', 'spare-1', 'spare-2'].map((name) => join(disk, name)),
        ))!;
        await writeInPieces(files, bytes).finally(() => files.close());
        expect(files.paths).toEqual([join(disk, 'first')]);
        expect((await readdir(disk)).sort()).toEqual(['first', 'lost+found']);
        expect((await readFile(join(disk, 'first'))).equals(bytes)).toBe(true);
      });
    },
  );

  it.runIf(canMount)('keeps as many spares as the disk has room for', async () => {
    // 32 MiB: room for two files of 8 MiB and what is kept free after them, not for three.
    await onSmallDisk(32, async (disk) => {
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

  it.runIf(canMount)('fails with ENOSPC when not even the first file fits', async () => {
    await onSmallDisk(16, async (disk) => {
      const files = (await DirectFiles.create([join(disk, 'first'), join(disk, 'spare')]))!;
      const writing = writeSlowly(files, randomBytes(20 * 1024 * 1024)).finally(() => files.close());
      await expect(writing).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(files.paths).toEqual([join(disk, 'first')]);
    });
  });
});
