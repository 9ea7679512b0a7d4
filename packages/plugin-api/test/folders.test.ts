import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFolders } from '@matric-backup/plugin-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

describe('makeFolders', () => {
  let base: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'mb-folders-'));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('creates the missing folders with the mode and returns the first one it made', async () => {
    const deep = join(base, 'a', 'b', 'c');
    expect(await makeFolders(deep, 0o700)).toBe(join(base, 'a'));
    expect((await stat(deep)).mode & 0o777).toBe(0o700);
    expect((await stat(join(base, 'a'))).mode & 0o777).toBe(0o700);
    expect(await makeFolders(deep, 0o700)).toBeUndefined();
  });

  it('gives every folder it made to exactly one of several calls racing over one tree', async () => {
    for (let round = 0; round < 20; round++) {
      const top = join(base, `race-${round}`);
      const made = await Promise.all([
        makeFolders(join(top, 'a', 'b')),
        makeFolders(join(top, 'a', 'c')),
        makeFolders(join(top, 'a')),
      ]);
      // The top folder was made by one of them, and that one says so.
      expect(made.filter((first) => first === top)).toHaveLength(1);
    }
  });

  it('refuses a file where a folder should be, as mkdir does', async () => {
    await writeFile(join(base, 'file'), '');
    await expect(makeFolders(join(base, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeFolders(join(base, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node's recursive mkdir loops forever here; a hang shows as the test's timeout.
  it('answers ENOENT where a filesystem refuses new folders under an existing one', async () => {
    await expect(makeFolders('/proc/mb-no-such-folder/below')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
