import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { filesUnder, writeConfig } from './helpers/config.js';
import { diffTrees, generateTree } from './helpers/tree.js';

// The whole path a user depends on: a tree with every awkward kind of entry,
// backed up once to two destinations, verified on both, restored and compared
// entry by entry (content, mode, mtime, symlink target).
describe('run -> verify -> restore round trip', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let source: string;
  let shardId: string;
  let generated: Awaited<ReturnType<typeof generateTree>>;
  const backupsA = () => join(work.path, 'backups-a');
  const backupsB = () => join(work.path, 'nested/backups-b');

  beforeAll(async () => {
    work = await tempDir();
    source = join(work.path, 'source');
    generated = await generateTree(source, { bigFileBytes: 50 * 1024 * 1024, smallFiles: 10_000 });
    config = await writeConfig(work.path, {
      sources: [{ name: 'tree', type: 'directory', path: source }],
      destinations: [
        { name: 'disk-a', type: 'local', path: backupsA() },
        { name: 'disk-b', type: 'local', path: backupsB() },
      ],
    });
  });
  afterAll(() => work.cleanup());

  it('stores one shard on both destinations and reports each in --json', async () => {
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    shardId = summary.id;
    expect(summary.status).toBe('success');
    expect(summary.exit_code).toBe(0);
    expect(summary.id).toMatch(/^backup_\d{8}_\d{6}_[a-z]{8}(_\d+)?$/);
    expect(summary.manifest.counts).toMatchObject({ files: generated.files, symlinks: 2, sources: 1 });
    expect(summary.manifest.size_bytes).toBe(generated.bytes);
    expect(summary.destinations.map((d: { name: string; status: string }) => [d.name, d.status])).toEqual([
      ['disk-a', 'success'],
      ['disk-b', 'success'],
    ]);
    const expected = [`${shardId}.index.json.zst`, `${shardId}.manifest.json`, `${shardId}.tar.zst`];
    for (const [index, root] of [backupsA(), backupsB()].entries()) {
      expect(await filesUnder(root)).toEqual(expected);
      expect((await stat(join(root, `${shardId}.tar.zst`))).size).toBe(summary.archive.size);
      const sidecar = (await stat(join(root, `${shardId}.manifest.json`))).size;
      const indexObject = (await stat(join(root, `${shardId}.index.json.zst`))).size;
      // Bytes stored: the archive, its index and its sidecar manifest.
      expect(summary.destinations[index].bytes).toBe(summary.archive.size + indexObject + sidecar);
      expect(summary.destinations[index].attempts).toBe(1);
    }
  });

  it('lists the shard on both destinations', async () => {
    const list = await runCli(['list', '-c', config, '--json']);
    expect(list.code).toBe(0);
    const { destinations } = JSON.parse(list.stdout);
    expect(destinations).toHaveLength(2);
    for (const destination of destinations) {
      expect(destination.complete.map((m: { id: string }) => m.id)).toEqual([shardId]);
      expect(destination.incomplete).toEqual([]);
    }
    const human = await runCli(['list', '-c', config]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`disk-a\\s+${shardId}`));
    expect(human.stdout).toMatch(new RegExp(`disk-b\\s+${shardId}`));
  });

  it('shows where the shard is', async () => {
    const info = await runCli(['info', shardId, '-c', config]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(join(backupsA(), `${shardId}.tar.zst`));
    expect(info.stdout).toContain(join(backupsB(), `${shardId}.tar.zst`));
  });

  it('verifies the shard on both destinations', async () => {
    const verify = await runCli(['verify', shardId, '-c', config, '--json']);
    expect(verify.code).toBe(0);
    const report = JSON.parse(verify.stdout);
    expect(report.ok).toBe(true);
    expect(report.results.map((r: { destination: string; ok: boolean }) => [r.destination, r.ok])).toEqual([
      ['disk-a', true],
      ['disk-b', true],
    ]);
  });

  it('restores an identical tree (from the second destination)', async () => {
    const target = join(work.path, 'restored');
    const restore = await runCli([
      'restore',
      shardId,
      '--to',
      target,
      '-d',
      'disk-b',
      '-c',
      config,
      '--json',
    ]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({
      id: shardId,
      destination: 'disk-b',
      to: target,
      files: generated.files,
      symlinks: 2,
      bytes: generated.bytes,
    });
    expect(await diffTrees(source, join(target, 'tree'))).toEqual([]);
  });

  it('refuses to restore into a folder that is not empty', async () => {
    const restore = await runCli(['restore', 'latest', '--to', join(work.path, 'restored'), '-c', config]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/^error: .*is not empty/);
    expect(restore.stderr).not.toMatch(/\n\s+at /);
  });
});
