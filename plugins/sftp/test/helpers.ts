import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { chown, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Destination, PluginContext } from '@matric-backup/core';
import { expect } from 'vitest';

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

/** An object's bytes, read back through the destination. */
export async function read(destination: Destination, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await destination.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Core uploads from its spool file: `bytes` written to `file`, then put whole (with
 * progress up to the last byte) and from offset 1000 on; both must be stored exactly.
 */
export async function expectSpoolFileUploads(
  destination: Destination,
  file: string,
  bytes: Buffer,
): Promise<void> {
  writeFileSync(file, bytes);
  const progress: number[] = [];
  await destination.put('whole.bin', createReadStream(file), {
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sourcePath: file,
    onProgress: (sent) => progress.push(sent),
  });
  expect((await read(destination, 'whole.bin')).equals(bytes)).toBe(true);
  expect(progress.at(-1)).toBe(bytes.length);
  await destination.put('tail.bin', createReadStream(file, { start: 1000 }), {
    size: bytes.length - 1000,
    sha256: createHash('sha256').update(bytes.subarray(1000)).digest('hex'),
  });
  expect((await read(destination, 'tail.bin')).equals(bytes.subarray(1000))).toBe(true);
}
