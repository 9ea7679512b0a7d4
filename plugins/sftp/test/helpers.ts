import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { chown, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { PluginContext } from '@matric-backup/core';

let scratch: string | undefined;

/** A plugin context whose tmpDir lives under one scratch folder per test file (see removeScratch). */
export function testContext(name = 'test'): PluginContext {
  scratch ??= mkdtempSync(join(tmpdir(), 'mb-sftp-plugin-'));
  return {
    name,
    configDir: scratch,
    tmpDir: mkdtempSync(join(scratch, 'ctx-')),
    log: { debug: () => {}, info: () => {}, warn: () => {} },
  };
}

export async function removeScratch(): Promise<void> {
  if (scratch) await rm(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** Every file under `root` on the server's disk, hidden temporaries included ('/'-separated, relative). */
export async function rawList(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, entry.name)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

let counter = 0;
/** A fresh folder name under a server root, not created yet (the destination creates it). */
export function freshFolder(root: string): string {
  counter += 1;
  return join(root, `t${counter}-${process.pid}`);
}

/**
 * Runs `body` with a tiny tmpfs mounted at `dir` (owned like `ownerOf`), so a
 * real server really runs out of space; unmounted afterwards whatever happens.
 */
export async function withTinyFilesystem<T>(
  dir: string,
  ownerOf: string,
  body: () => Promise<T>,
): Promise<T> {
  await mkdir(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  try {
    const { uid, gid } = await stat(ownerOf);
    await chown(dir, uid, gid);
    return await body();
  } finally {
    execFileSync('umount', [dir]);
  }
}
