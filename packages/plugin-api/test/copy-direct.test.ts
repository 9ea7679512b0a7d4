import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMount, withTmpfs } from '@matric-backup/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyDirect } from '../src/fs-store/copy-direct.js';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mb-copy-direct-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

/** The temporary folder is on ext4, XFS or btrfs (as on the test machines): copies go past the page cache there. */
const onDisk = [0xef53, 0x58465342, 0x9123683e].includes((await statfs(tmpdir())).type);
const READ = 4 * 1024 * 1024;

describe('copyDirect', () => {
  it.runIf(onDisk).each([0, 4097, READ, 2 * READ + 12_345])(
    'copies %i bytes exactly into a new 0600 file',
    async (size) => {
      const source = join(scratch, 'spool');
      const bytes = randomBytes(size);
      await writeFile(source, bytes, { mode: 0o644 });
      const target = join(scratch, 'copy');
      expect(await copyDirect(source, target)).toBe(true);
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

  it.runIf(onDisk)('stops when aborted and leaves no file behind', async () => {
    await writeFile(join(scratch, 'spool'), randomBytes(3 * READ));
    const abort = new AbortController();
    abort.abort();
    await expect(
      copyDirect(join(scratch, 'spool'), join(scratch, 'copy'), abort.signal),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(scratch)).toEqual(['spool']);
  });

  it.runIf(canMount)('declines a folder on no local disk (tmpfs): false, no file', async () => {
    await withTmpfs(scratch, async (folder) => {
      await writeFile(join(scratch, 'spool'), randomBytes(10_000));
      expect(await copyDirect(join(scratch, 'spool'), join(folder, 'copy'))).toBe(false);
      expect(await readdir(folder)).toEqual([]);
    });
  });
});
