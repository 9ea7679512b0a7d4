import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyDirect } from '../src/fs-store/copy-direct.js';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mb-copy-direct-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

/** ext4, XFS, btrfs: disk file systems that take O_DIRECT. */
const DISK_FILE_SYSTEMS = [0xef53, 0x58465342, 0x9123683e];
const CHUNK = 8 * 1024 * 1024;

describe('copyDirect', () => {
  it.each([0, 1, 4095, 4096, 4097, CHUNK, CHUNK + 1, 2 * CHUNK + 12_345])(
    'copies %i bytes exactly into a new 0600 file, past the page cache on a disk file system',
    async (size) => {
      const source = join(scratch, 'spool');
      const bytes = randomBytes(size);
      await writeFile(source, bytes, { mode: 0o644 });
      const target = join(scratch, 'copy');
      const direct = await copyDirect(source, target);
      const onDisk = DISK_FILE_SYSTEMS.includes((await statfs(scratch)).type);
      if (onDisk) expect(direct).toBe(true);
      if (!direct) return;
      expect((await readFile(target)).equals(bytes)).toBe(true);
      expect((await stat(target)).mode & 0o7777).toBe(0o600);
    },
  );

  it('never replaces an existing file', async () => {
    await writeFile(join(scratch, 'spool'), 'new bytes');
    await writeFile(join(scratch, 'copy'), 'kept');
    await expect(copyDirect(join(scratch, 'spool'), join(scratch, 'copy'))).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(await readFile(join(scratch, 'copy'), 'utf8')).toBe('kept');
  });

  it('stops when aborted and leaves no file behind', async () => {
    await writeFile(join(scratch, 'spool'), randomBytes(3 * CHUNK));
    const abort = new AbortController();
    abort.abort();
    await expect(
      copyDirect(join(scratch, 'spool'), join(scratch, 'copy'), abort.signal),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(await readdir(scratch)).toEqual(['spool']);
  });
});
