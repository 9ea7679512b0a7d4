import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The tests that need a small disk or a tmpfs of their own can mount one: root, mke2fs on PATH,
 * and a loop mount allowed (a container without the privilege, or a user namespace, refuses it
 * even to root). Found out by mounting a 1 MiB ext2 image once.
 */
export const canMount = process.getuid?.() === 0 && succeeds('mke2fs', ['-V']) && mayMountLoop();

function succeeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function mayMountLoop(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'mb-mount-probe-'));
  const image = join(probe, 'disk.img');
  const point = join(probe, 'disk');
  try {
    mkdirSync(point);
    writeFileSync(image, Buffer.alloc(1024 * 1024));
    if (!succeeds('mke2fs', ['-q', '-F', image])) return false;
    if (!succeeds('mount', ['-o', 'loop', image, point])) return false;
    execFileSync('umount', [point]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/**
 * Runs `test` on a fresh ext2 file system of `mib` MiB, a loop device mounted at `<dir>/disk`
 * (its image beside it): a disk that fills up, or one with a layout of its own (`mke2fs` options).
 */
export async function withLoopDisk<T>(
  dir: string,
  mib: number,
  test: (disk: string) => Promise<T>,
  mke2fsOptions: string[] = [],
): Promise<T> {
  const disk = join(dir, 'disk');
  const image = join(dir, 'disk.img');
  await mkdir(disk);
  await writeFile(image, '');
  await truncate(image, mib * 1024 * 1024);
  execFileSync('mke2fs', ['-q', '-F', ...mke2fsOptions, image]);
  return mounted(disk, ['-o', 'loop', image, disk], test);
}

/** Runs `test` on a tmpfs (64 MiB unless `size` says) mounted at `<dir>/tmpfs`: no local disk, or a tiny full one. */
export async function withTmpfs<T>(
  dir: string,
  test: (folder: string) => Promise<T>,
  { size = '64m' } = {},
): Promise<T> {
  const folder = join(dir, 'tmpfs');
  await mkdir(folder);
  return mounted(folder, ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', folder], test);
}

async function mounted<T>(
  point: string,
  mountArguments: string[],
  test: (point: string) => Promise<T>,
): Promise<T> {
  execFileSync('mount', mountArguments);
  try {
    return await test(point);
  } finally {
    execFileSync('umount', [point]);
  }
}
