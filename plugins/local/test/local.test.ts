import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Destination, guardDestination } from '@matric-backup/core';
import plugin from '@matric-backup/plugin-local';
import { canMount, withTmpfs } from '@matric-backup/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testContext } from './context.js';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mb-local-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

async function open(path: string): Promise<Destination> {
  return guardDestination('local-test', await plugin.create({ path }, testContext));
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const put = (destination: Destination, key: string, text: string, size = Buffer.byteLength(text)) =>
  destination.put(key, Readable.from([Buffer.from(text)]), { size, sha256: sha256(text) });

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('plugin-local', () => {
  it('creates folders 0700 (the root too) and files 0600', async () => {
    const root = join(scratch, 'new-root');
    const destination = await open(root);
    await put(destination, 'a/b/shard.tar.zst', 'data');
    expect(await mode(root)).toBe(0o700);
    expect(await mode(join(root, 'a'))).toBe(0o700);
    expect(await mode(join(root, 'a/b'))).toBe(0o700);
    expect(await mode(join(root, 'a/b/shard.tar.zst'))).toBe(0o600);
    expect(await readdir(join(root, 'a/b'))).toEqual(['shard.tar.zst']);
  });

  it('refuses a stream shorter than the declared size with INTEGRITY and keeps no file', async () => {
    const destination = await open(scratch);
    await expect(put(destination, 'short.bin', 'four', 10)).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await readdir(scratch)).toEqual([]);
  });

  it('maps a file standing where the folder should be to CONFIG, naming the path', async () => {
    const blocker = join(scratch, 'not-a-folder');
    await writeFile(blocker, 'x');
    const destination = await open(blocker);
    await expect(put(destination, 'shard.tar', 'data')).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining(blocker),
    });
    // EACCES on a read-only folder cannot be provoked here: the tests run as root, which ignores modes.
  });

  it('check() creates a missing folder and reports free bytes', async () => {
    const root = join(scratch, 'checked');
    const result = await (await open(root)).check();
    expect(result.details[0]).toBe(`created folder ${root}`);
    expect(result.freeBytes).toBeGreaterThan(0);
    expect(await mode(root)).toBe(0o700);
    expect(await readdir(root)).toEqual([]);
    expect((await (await open(root)).check()).details[0]).toBe(`folder ${root} exists`);
  });

  it('validates its config block strictly', () => {
    expect(plugin.type).toBe('local');
    expect(plugin.pathKeys).toEqual(['path', 'mount_point']);
    expect(plugin.configSchema.safeParse({ path: '/srv/backups' }).success).toBe(true);
    expect(plugin.configSchema.safeParse({}).success).toBe(false);
    expect(plugin.configSchema.safeParse({ path: '/x', bucket: 'y' }).success).toBe(false);
  });
});

describe('plugin-local with a whole local file (the spool)', () => {
  it('copies a whole local file (the spool) kernel-side: same bytes, 0600, no temp file left', async () => {
    const spool = join(scratch, 'spool.tar.zst');
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(spool, bytes);
    await chmod(spool, 0o644);
    const root = join(scratch, 'dest');
    const destination = await open(root);
    const progress: number[] = [];
    await destination.put('shard.tar.zst', createReadStream(spool), {
      size: bytes.length,
      sha256: sha256(bytes),
      sourcePath: spool,
      onProgress: (sent) => progress.push(sent),
    });
    expect((await readFile(join(root, 'shard.tar.zst'))).equals(bytes)).toBe(true);
    expect(await mode(join(root, 'shard.tar.zst'))).toBe(0o600);
    expect(await readdir(root)).toEqual(['shard.tar.zst']);
    expect(progress.at(-1)).toBe(bytes.length);
    // Not ours alone (0644): copied, never linked, so later changes to it cannot reach the object.
    expect((await stat(join(root, 'shard.tar.zst'))).ino).not.toBe((await stat(spool)).ino);
    expect(await mode(spool)).toBe(0o644);
  });

  it('links a private spool file (0600) on its file system into the first destination; the next one gets its own copy', async () => {
    const spool = join(scratch, 'spool.tar.zst');
    const bytes = randomBytes(1024 * 1024 + 5);
    await writeFile(spool, bytes, { mode: 0o600 });
    const [first, second] = [join(scratch, 'dest-1'), join(scratch, 'dest-2')];
    for (const root of [first, second])
      await (await open(root)).put('shard.tar.zst', createReadStream(spool), {
        size: bytes.length,
        sha256: sha256(bytes),
        sourcePath: spool,
      });
    const [spoolInfo, firstInfo, secondInfo] = await Promise.all(
      [spool, join(first, 'shard.tar.zst'), join(second, 'shard.tar.zst')].map((path) => stat(path)),
    );
    expect(firstInfo.ino).toBe(spoolInfo!.ino);
    expect(secondInfo!.ino).not.toBe(spoolInfo!.ino);
    expect(secondInfo!.nlink).toBe(1);
    expect((await readFile(join(second, 'shard.tar.zst'))).equals(bytes)).toBe(true);
    expect(await readdir(first)).toEqual(['shard.tar.zst']);
    // The run then removes its spool file: the first destination's object stays, whole.
    await rm(spool);
    expect((await readFile(join(first, 'shard.tar.zst'))).equals(bytes)).toBe(true);
    expect((await stat(join(first, 'shard.tar.zst'))).nlink).toBe(1);
  });

  it.runIf(existsSync('/dev/shm'))('copies a spool file on another file system (tmpfs)', async () => {
    const shm = await mkdtemp('/dev/shm/mb-local-');
    try {
      const spool = join(shm, 'spool.tar.zst');
      const bytes = randomBytes(64 * 1024);
      await writeFile(spool, bytes, { mode: 0o600 });
      const root = join(scratch, 'dest');
      await (await open(root)).put('shard.tar.zst', createReadStream(spool), {
        size: bytes.length,
        sha256: sha256(bytes),
        sourcePath: spool,
      });
      expect((await readFile(join(root, 'shard.tar.zst'))).equals(bytes)).toBe(true);
      expect((await stat(spool)).nlink).toBe(1);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });

  it.runIf(canMount)(
    'copies the spool file into a folder on no local disk (tmpfs) the usual way',
    async () => {
      await withTmpfs(scratch, async (folder) => {
        const spool = join(scratch, 'spool.tar.zst');
        const bytes = randomBytes(5 * 1024 * 1024 + 3);
        await writeFile(spool, bytes, { mode: 0o600 });
        await (await open(folder)).put('shard.tar.zst', createReadStream(spool), {
          size: bytes.length,
          sha256: sha256(bytes),
          sourcePath: spool,
        });
        expect((await readFile(join(folder, 'shard.tar.zst'))).equals(bytes)).toBe(true);
        expect(await readdir(folder)).toEqual(['shard.tar.zst']);
      });
    },
  );

  it('an aborted kernel-side copy (Ctrl-C) leaves neither the object nor its temporary file', async () => {
    const spool = join(scratch, 'spool.tar.zst');
    const size = 64 * 1024 * 1024;
    await writeFile(spool, Buffer.alloc(size, 1));
    const root = join(scratch, 'dest');
    const destination = await open(root);
    await destination.check();
    const abort = new AbortController();
    const put = destination.put('shard.tar.zst', createReadStream(spool), {
      size,
      sha256: sha256(Buffer.alloc(size, 1)),
      signal: abort.signal,
      sourcePath: spool,
    });
    // Aborted once the copy is under way (or, on a fast disk, done but not yet renamed).
    setImmediate(() => abort.abort());
    await expect(put).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await readdir(root)).toEqual([]);
  });

  it('streams a file stream that was already read from, and refuses a size that does not match', async () => {
    const spool = join(scratch, 'spool.bin');
    await writeFile(spool, 'abcdefgh');
    const destination = await open(join(scratch, 'dest'));
    const partial = createReadStream(spool, { start: 2 });
    await destination.put('tail.bin', partial, { size: 6, sha256: sha256('cdefgh') });
    expect(await readFile(join(scratch, 'dest', 'tail.bin'), 'utf8')).toBe('cdefgh');
    await expect(
      destination.put('wrong.bin', createReadStream(spool), { size: 5, sha256: sha256('abcde') }),
    ).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await readdir(join(scratch, 'dest'))).toEqual(['tail.bin']);
  });
});
