import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';

interface InnerManifest {
  type?: string;
  parent?: string;
  base?: string;
  deleted?: string[];
  entries: Array<{ path: string; type: string }>;
}

interface RunJson {
  id: string;
  type: 'full' | 'incremental';
  full_reason?: string;
  archive: { key: string; sha256: string; size: number };
  manifest: {
    type: string;
    parent?: string;
    base?: string;
    chain_length?: number;
    changes?: { created: number; modified: number; deleted: number };
  };
  destinations: Array<{ name: string; status: string }>;
}

// Incremental shards made by the built CLI on a local folder and on s3rver: a full shard, then
// one holding only what changed (with the deletions), restorable by hand with tar alone; a
// destination that lost the parent gets a full shard and the run says why.
describe('incremental runs through the CLI', () => {
  let server: S3TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;
  let config: string;
  const disk = () => join(work.path, 'disk');

  beforeAll(async () => {
    server = await startS3Server();
    work = await tempDir('mb-e2e-incremental-');
    source = join(work.path, 'source');
    await mkdir(join(source, 'docs/old'), { recursive: true });
    await writeFile(join(source, 'docs/a.txt'), 'alpha');
    await writeFile(join(source, 'docs/b.txt'), 'bravo');
    await writeFile(join(source, 'docs/old/1.txt'), 'one');
    await mkdir(join(source, 'quiet'));
    await writeFile(join(source, 'quiet/q.txt'), 'untouched');
    await writeFile(join(source, 'unchanged.bin'), randomBytes(256 * 1024));
    await writeFile(join(source, 'script.sh'), '#!/bin/sh\n', { mode: 0o644 });
    await writeFile(join(source, 'will-be-folder'), 'a file for now');
    await symlink('docs/a.txt', join(source, 'link'));
    const secretFile = join(work.path, 's3.secret');
    await writeFile(secretFile, `${server.secretAccessKey}\n`, { mode: 0o600 });
    config = await writeConfig(work.path, {
      name: 'chain-test',
      sources: [
        { name: 'data', type: 'directory', path: source },
        { name: 'dump', type: 'command', command: ['printf', 'dump'], filename: 'db.dump' },
      ],
      destinations: [
        { name: 'disk', type: 'local', path: disk() },
        {
          name: 'offsite',
          type: 's3',
          endpoint: server.endpoint,
          bucket: server.bucket,
          access_key_id: server.accessKeyId,
          secret_access_key_file: secretFile,
        },
      ],
      incremental: { full_every: '7d', max_chain: 5 },
      retry: { max_retries: 0 },
    });
  });
  afterAll(async () => {
    await server?.dispose();
    await work?.cleanup();
  });

  const run = async (...extra: string[]): Promise<RunJson> => {
    const result = await runCli(['run', '-c', config, '--json', ...extra]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as RunJson;
    expect(summary.destinations.map((d) => d.status)).toEqual(['success', 'success']);
    return summary;
  };
  /**
   * The archive's inner manifest and the paths of its entries other than folders, read with tar
   * and zstd alone; tar's listing must hold exactly the manifest's entries.
   */
  const contents = (key: string) => {
    const file = join(disk(), key);
    const names = execFileSync('tar', ['--zstd', '-tf', file], { encoding: 'utf8' }).trim().split('\n');
    const manifest = JSON.parse(
      execFileSync('tar', ['--zstd', '-xOf', file, 'manifest.json'], { encoding: 'utf8' }),
    ) as InnerManifest;
    expect(names.sort()).toEqual([...manifest.entries.map((entry) => entry.path), 'manifest.json'].sort());
    const stored = manifest.entries.filter((entry) => entry.type !== 'directory').map((entry) => entry.path);
    const folders = manifest.entries.filter((entry) => entry.type === 'directory').map((entry) => entry.path);
    return { stored: stored.sort(), folders, manifest };
  };

  let full: RunJson;
  let incremental: RunJson;
  let atFull: Awaited<ReturnType<typeof snapshotTree>>;

  it('makes a full shard first (no shard to chain on) and keeps the file list private', async () => {
    full = await run();
    expect(full.type).toBe('full');
    expect(full.full_reason).toBe('destination disk holds no complete shard of this config');
    expect(full.manifest.type).toBe('full');
    expect(contents(full.archive.key).manifest.type).toBe('full');
    const lists = join(work.path, 'state/file-lists');
    expect(statSync(lists).mode & 0o777).toBe(0o700);
    const [tag] = full.id.split('_').slice(3, 4);
    const [list] = readdirSync(lists);
    expect(list).toMatch(new RegExp(`^${tag}-[0-9a-f]{16}\\.jsonl$`));
    expect(statSync(join(lists, list!)).mode & 0o777).toBe(0o600);
    atFull = await snapshotTree(source);
  });

  it('then stores only what changed, on both destinations, with the deletions', async () => {
    await writeFile(join(source, 'docs/a.txt'), 'ALPHA, changed');
    await rename(join(source, 'docs/b.txt'), join(source, 'docs/b-renamed.txt'));
    await chmod(join(source, 'script.sh'), 0o755);
    await unlink(join(source, 'link'));
    await symlink('docs/b-renamed.txt', join(source, 'link'));
    await rm(join(source, 'will-be-folder'));
    await mkdir(join(source, 'will-be-folder'));
    await writeFile(join(source, 'will-be-folder/inside.txt'), 'inside');
    await rm(join(source, 'docs/old'), { recursive: true });
    await writeFile(join(source, 'new.txt'), 'new');

    incremental = await run();
    expect(incremental.type).toBe('incremental');
    expect(incremental.full_reason).toBeUndefined();
    expect(incremental.manifest).toMatchObject({
      type: 'incremental',
      parent: full.id,
      base: full.id,
      chain_length: 1,
      changes: { deleted: 2 },
    });
    expect(incremental.archive.size).toBeLessThan(full.archive.size / 4);

    const { stored, folders, manifest } = contents(incremental.archive.key);
    // The new and changed entries with the folders above them, the command source whole; not
    // unchanged.bin, nor the folder quiet (as before, nothing stored under it).
    expect(stored).toEqual([
      'data/docs/a.txt',
      'data/docs/b-renamed.txt',
      'data/link',
      'data/new.txt',
      'data/script.sh',
      'data/will-be-folder/inside.txt',
      'dump/db.dump',
    ]);
    expect(folders.sort()).toEqual(['data', 'data/docs', 'data/will-be-folder', 'dump']);
    expect(manifest).toMatchObject({ type: 'incremental', parent: full.id, base: full.id });
    expect(manifest.deleted!.sort()).toEqual(['data/docs/b.txt', 'data/docs/old']);

    // The same object on s3.
    const onS3 = server.storedObjectPath(incremental.archive.key);
    expect(readFileSync(onS3).equals(readFileSync(join(disk(), incremental.archive.key)))).toBe(true);

    // The run's record says what kind of shard it made and the bytes it stored.
    const history = await runCli(['history', '--json', '-n', '2', '-c', config]);
    expect(JSON.parse(history.stdout).runs).toMatchObject([
      { id: incremental.id, type: 'incremental', bytes: incremental.archive.size },
      { id: full.id, type: 'full', bytes: full.archive.size },
    ]);
  });

  it('restores by hand: the full shard, then the incremental, then its deletions, equal the tree', async () => {
    const target = join(work.path, 'by-hand');
    await mkdir(target);
    execFileSync('tar', ['--zstd', '-xf', join(disk(), full.archive.key), '-C', target]);
    const restoredFull = await snapshotTree(join(target, 'data'));
    expect(restoredFull).toEqual(atFull);
    execFileSync('tar', ['--zstd', '-xf', join(disk(), incremental.archive.key), '-C', target]);
    for (const path of contents(incremental.archive.key).manifest.deleted!)
      await rm(join(target, path), { recursive: true, force: true });
    // Removing a deleted path touches its folder's mtime: folders are compared without it.
    const problems = await diffTrees(source, join(target, 'data'));
    const folders = await snapshotTree(source);
    expect(
      problems.filter(
        (line) => !(line.includes(': mtime ') && folders.get(line.split(':')[0]!)?.type === 'directory'),
      ),
    ).toEqual([]);
  });

  it('makes a full shard, saying why, when a destination lost the parent; the next run chains on it', async () => {
    await rm(join(disk(), `${incremental.id}.manifest.json`));
    const result = await runCli(['run', '-c', config]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `full shard: destinations disagree on the newest shard of this config: ${full.id} on disk, ${incremental.id} on offsite`,
    );
    const fullAgain = result.stdout.match(/^shard (\S+)/)![1]!;

    await writeFile(join(source, 'new.txt'), 'newer');
    const next = await run();
    expect(next.manifest).toMatchObject({
      type: 'incremental',
      parent: fullAgain,
      base: fullAgain,
      chain_length: 1,
      changes: { created: 0, deleted: 0 },
    });
    // The file, its folder (mtime unchanged, so not counted) and the command source's output and folder.
    expect(next.manifest.changes!.modified).toBe(3);
    expect(contents(next.archive.key).stored).toEqual(['data/new.txt', 'dump/db.dump']);
  });

  it('without its file list in the state folder, reads the parent chain from a destination and still stores only changes', async () => {
    await rm(join(work.path, 'state/file-lists'), { recursive: true });
    await writeFile(join(source, 'docs/a.txt'), 'ALPHA, changed again');
    const result = await runCli(['run', '-c', config, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const again = JSON.parse(result.stdout) as RunJson & { parent_list_from?: string };
    expect(again).toMatchObject({
      type: 'incremental',
      parent_list_from: 'disk',
      manifest: { chain_length: 2 },
    });
    // Unchanged files were hashed against the shards' manifests, not stored again.
    expect(contents(again.archive.key).stored).toEqual(['data/docs/a.txt', 'dump/db.dump']);
  });
});
