import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FileList,
  FileListWriter,
  fileListPath,
  readFileList,
  writeFileList,
} from '../src/incremental/file-list.js';
import { writerTag } from '../src/shard/naming.js';
import { runInterruptCleanups } from '../src/util/interrupt.js';
import { startTimeOf } from '../src/util/process-identity.js';

const TAG = writerTag('backup', 'host-a');
let dir: string;
let stateDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-file-list-'));
  stateDir = join(dir, 'state');
  for (const folder of ['a', 'b']) {
    await mkdir(join(dir, folder));
    await writeFile(join(dir, folder, 'backup.yaml'), '');
  }
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const list = (shard: string, files = 1): FileList => ({
  header: { version: 1, shard, writer: 'backup', tag: TAG, created_at: '2026-12-03T12:00:00Z', origins: [] },
  records: new Map(
    Array.from({ length: files }, (_, n) => [
      `data/${n}`,
      { path: `data/${n}`, type: 'file', mode: 0o644, mtime: n, size: n },
    ]),
  ),
});

describe('file lists in the state folder', () => {
  it('two configs with the same name and sources in different folders keep a list each; a symlink shares its target', async () => {
    const a = join(dir, 'a/backup.yaml');
    const b = join(dir, 'b/backup.yaml');
    await writeFileList(stateDir, a, list('shard-of-a'));
    expect(await readFileList(stateDir, b, TAG)).toBeUndefined();
    await writeFileList(stateDir, b, list('shard-of-b'));
    expect((await readFileList(stateDir, a, TAG))?.header.shard).toBe('shard-of-a');
    expect((await readFileList(stateDir, b, TAG))?.header.shard).toBe('shard-of-b');
    await symlink(a, join(dir, 'link.yaml'));
    expect((await readFileList(stateDir, join(dir, 'link.yaml'), TAG))?.header.shard).toBe('shard-of-a');
  });

  it('two writers at once each write a file of their own: the list is one of them whole, nothing is left aside', async () => {
    const a = join(dir, 'a/backup.yaml');
    await Promise.all([
      writeFileList(stateDir, a, list('one', 5000)),
      writeFileList(stateDir, a, list('two', 5000)),
    ]);
    const read = await readFileList(stateDir, a, TAG);
    expect(['one', 'two']).toContain(read?.header.shard);
    expect(read?.records.size).toBe(5000);
    expect(await readdir(join(stateDir, 'file-lists'))).toHaveLength(1);
  });

  it('a list written as a run goes is read only once committed: a run stopped midway leaves the one before', async () => {
    const a = join(dir, 'a/backup.yaml');
    await writeFileList(stateDir, a, list('before', 3));
    const next = list('next', 5000);
    const partials = async () =>
      (await readdir(join(stateDir, 'file-lists'))).filter((name) => name.endsWith('.partial'));
    // Killed midway: records written past several flushes, never committed.
    const killed = await FileListWriter.open(stateDir, a, next.header);
    for (const record of next.records.values()) killed.add(record);
    expect((await readFileList(stateDir, a, TAG))?.header.shard).toBe('before');
    // Failed: discarded, nothing of it is left.
    const failed = await FileListWriter.open(stateDir, a, next.header);
    for (const record of next.records.values()) failed.add(record);
    failed.discard();
    expect((await readFileList(stateDir, a, TAG))?.header.shard).toBe('before');
    expect(await partials()).toHaveLength(1);
    // Interrupted (Ctrl-C, SIGTERM): the signal handler's cleanups remove every list not committed.
    runInterruptCleanups();
    expect(await partials()).toEqual([]);
    expect((await readFileList(stateDir, a, TAG))?.header.shard).toBe('before');
    const done = await FileListWriter.open(stateDir, a, next.header);
    for (const record of next.records.values()) done.add(record);
    await done.commit();
    const read = await readFileList(stateDir, a, TAG);
    expect(read?.header).toEqual(next.header);
    expect([...read!.records]).toEqual([...next.records]);
  });

  it("removes the list a killed run was writing (its process gone), never a live writer's or another list's", async () => {
    const a = join(dir, 'a/backup.yaml');
    const b = join(dir, 'b/backup.yaml');
    await writeFileList(stateDir, a, list('before', 3));
    const folder = join(stateDir, 'file-lists');
    const ofA = await fileListPath(stateDir, a, TAG);
    const ofB = await fileListPath(stateDir, b, TAG);
    const child = spawn('true');
    await once(child, 'exit');
    const start = startTimeOf(process.pid);
    // Named as a run names the list it writes: its pid and that pid's start time.
    const dead = `${ofA}.${child.pid}-123-0a1b2c3d4e5f.partial`;
    const reused = `${ofA}.${process.pid}-${Number(start) - 1}-0a1b2c3d4e5f.partial`;
    const live = await FileListWriter.open(stateDir, a, list('live').header);
    const otherList = `${ofB}.${child.pid}-123-0a1b2c3d4e5f.partial`;
    for (const file of [dead, reused, otherList]) await writeFile(file, '{"version":1}\n');
    const done = await FileListWriter.open(stateDir, a, list('next').header);
    await done.commit();
    const partials = (await readdir(folder)).filter((name) => name.endsWith('.partial'));
    expect(partials).toHaveLength(2);
    expect(partials).toContain(otherList.slice(folder.length + 1));
    expect(
      partials.some((name) => name.startsWith(`${ofA.slice(folder.length + 1)}.${process.pid}-${start}-`)),
    ).toBe(true);
    await live.commit();
    expect((await readFileList(stateDir, a, TAG))?.header.shard).toBe('live');
  });

  it('reads back a list of several MiB exactly, whatever falls on a chunk boundary; a list cut short is refused', async () => {
    const a = join(dir, 'a/backup.yaml');
    const big = list('big', 20_000);
    // Multi-byte and raw-byte names throughout, and one line longer than a read chunk (1 MiB).
    for (let n = 0; n < 20_000; n += 7) {
      const path = `data/é-${n}-\udc80-名前`;
      big.records.set(path, {
        path,
        type: 'file',
        mode: 0o600,
        mtime: n + 0.25,
        size: n,
        sha256: 'f'.repeat(64),
      });
    }
    const long = {
      path: 'data/long',
      type: 'symlink' as const,
      mode: 0o777,
      mtime: 1,
      target: 'x'.repeat(1_500_000),
    };
    big.records.set(long.path, long);
    await writeFileList(stateDir, a, big);
    const file = await fileListPath(stateDir, a, TAG);
    expect((await readFile(file)).length).toBeGreaterThan(3 << 20);
    const read = await readFileList(stateDir, a, TAG);
    expect(read?.header).toEqual(big.header);
    expect([...read!.records]).toEqual([...big.records]);

    await truncate(file, (await readFile(file)).length - 1);
    await expect(readFileList(stateDir, a, TAG)).rejects.toThrow(/is cut short/);
  });
});
