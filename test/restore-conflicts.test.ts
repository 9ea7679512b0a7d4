import { copyFile, mkdir, open, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';

const STACK_LINE = /^\s+at /m;
const DAY_S = 24 * 60 * 60;

// Restoring into folders that already hold files, through the built CLI: every
// conflict strategy, --dry-run, --include, --json, the fallback from a corrupted
// copy to a good one, and `restore FILE`.
describe('restore into a populated folder', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;
  let config: string;
  let id: string;
  let archiveKey: string;
  let n = 0;
  /** Seconds since the epoch of the source files' mtime. */
  const T = 1_700_000_000;

  beforeAll(async () => {
    work = await tempDir('mb-e2e-conflicts-');
    source = join(work.path, 'source');
    await mkdir(join(source, 'sub'), { recursive: true });
    for (const [path, content] of [
      ['a.txt', 'shard a\n'],
      ['b.txt', 'shard b\n'],
      ['new.txt', 'shard new\n'],
      ['sub/c.txt', 'shard c\n'],
    ]) {
      await writeFile(join(source, path), content!);
      await utimes(join(source, path), T, T);
    }
    config = await writeConfig(work.path, {
      sources: [{ name: 'data', type: 'directory', path: source }],
      destinations: [
        { name: 'first', type: 'local', path: join(work.path, 'first') },
        { name: 'second', type: 'local', path: join(work.path, 'second') },
      ],
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    id = summary.id;
    archiveKey = summary.archive.key;
  });
  afterAll(() => work.cleanup());

  /** a.txt older than the shard's, b.txt newer, mine.txt only in the target. */
  async function populated(): Promise<string> {
    const target = join(work.path, `target-${++n}`);
    await mkdir(join(target, 'data/sub'), { recursive: true });
    for (const [path, content, mtime] of [
      ['data/a.txt', 'old a\n', T - DAY_S],
      ['data/b.txt', 'newer b\n', T + DAY_S],
      ['data/mine.txt', 'mine\n', T],
    ] as const) {
      await writeFile(join(target, path), content);
      await utimes(join(target, path), mtime, mtime);
    }
    return target;
  }

  const read = (target: string, path: string) => readFile(join(target, 'data', path), 'utf8');
  const restore = (target: string, ...args: string[]) =>
    runCli(['restore', id, '--to', target, '-c', config, ...args]);

  it('refuses a non-empty folder without --conflict, naming the strategies', async () => {
    const target = await populated();
    const before = await snapshotTree(target);
    const result = await restore(target);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: restore target ${target} is not empty`);
    expect(result.stderr).toContain('--conflict skip_existing | overwrite | merge | rename_new');
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(await snapshotTree(target)).toEqual(before);
  });

  it('--dry-run prints each action and a summary, and writes nothing', async () => {
    const target = await populated();
    const before = await snapshotTree(target);
    const result = await restore(target, '--conflict', 'merge', '--dry-run');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      'overwrite data/a.txt (the shard is newer)',
      "skip      data/b.txt (exists, not older than the shard's)",
      'create    data/new.txt',
      'create    data/sub/c.txt',
      `dry run: shard ${id} from destination "first" into ${target}: would create 2, overwrite 1, skip 1 (3 files, 26 B); nothing was written`,
    ]);
    expect(await snapshotTree(target)).toEqual(before);
    expect((await readdir(work.path)).filter((name) => name.includes('.restore-'))).toEqual([]);
  });

  it.each([
    ['skip_existing', ['old a\n', 'newer b\n'], 'created 1, skipped 3'],
    ['overwrite', ['shard a\n', 'shard b\n'], 'created 1, overwrote 3'],
    ['merge', ['shard a\n', 'newer b\n'], 'created 1, overwrote 2, skipped 1'],
  ])('--conflict %s', async (strategy, [a, b], counts) => {
    const target = await populated();
    await writeFile(join(target, 'data/sub/c.txt'), 'old c\n');
    await utimes(join(target, 'data/sub/c.txt'), T - DAY_S, T - DAY_S);
    const result = await restore(target, '--conflict', strategy!);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`(${counts})`);
    expect([await read(target, 'a.txt'), await read(target, 'b.txt')]).toEqual([a, b]);
    expect(await read(target, 'new.txt')).toBe('shard new\n');
    expect(await read(target, 'mine.txt')).toBe('mine\n');
  });

  it('--conflict rename_new keeps both, prints where the incoming ones went, and --json lists them', async () => {
    const target = await populated();
    await writeFile(join(target, 'data/sub/c.txt'), 'old c\n');
    const result = await restore(target, '--conflict', 'rename_new', '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      destination: 'first',
      id,
      to: target,
      dry_run: false,
      conflict: 'rename_new',
      summary: { create: 1, overwrite: 0, skip: 0, rename: 3 },
    });
    expect(report.changes).toContainEqual({
      path: 'data/a.txt',
      kind: 'file',
      action: 'rename',
      as: `data/a.restored-${id}.txt`,
    });
    expect(await read(target, 'a.txt')).toBe('old a\n');
    expect(await read(target, `a.restored-${id}.txt`)).toBe('shard a\n');
    expect(await read(target, `sub/c.restored-${id}.txt`)).toBe('shard c\n');

    const human = await restore(target, '--conflict', 'rename_new');
    expect(human.stdout).toContain(`rename    data/a.txt -> data/a.restored-${id}-2.txt`);
  });

  it('--include restores part of the shard', async () => {
    const target = join(work.path, `partial-${++n}`);
    const result = await restore(target, '--include', 'data/sub/**', '--include', 'data/a.txt', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ files: 2 });
    expect((await readdir(join(target, 'data'))).sort()).toEqual(['a.txt', 'sub']);
    expect(await read(target, 'sub/c.txt')).toBe('shard c\n');
  });

  it('falls back from a corrupted copy on the first destination to the good one, naming the bad one', async () => {
    const corrupted = join(work.path, 'first', archiveKey);
    const good = join(work.path, 'good-copy');
    await copyFile(corrupted, good);
    const handle = await open(corrupted, 'r+');
    try {
      const { size } = await handle.stat();
      await handle.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, Math.floor(size / 2));
    } finally {
      await handle.close();
    }
    try {
      const target = await populated();
      const result = await restore(target, '--conflict', 'skip_existing');
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(
        /^warning: destination "first": VERIFY_FAILED: shard .* failed its checks/m,
      );
      expect(result.stderr).toMatch(/trying the next destination/);
      expect(result.stdout).toContain(`restored shard ${id} from destination "second"`);
      expect(await read(target, 'new.txt')).toBe('shard new\n');
      expect(await read(target, 'a.txt')).toBe('old a\n');

      // Named with -d, the corrupted copy is refused, and nothing changes.
      const only = await populated();
      const before = await snapshotTree(only);
      const refused = await restore(only, '--conflict', 'overwrite', '-d', 'first');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error: shard .* failed its checks; .* left unchanged/m);
      expect(await snapshotTree(only)).toEqual(before);
    } finally {
      await copyFile(good, corrupted);
    }
  });

  it('restore FILE: with its sidecar beside it, and without one', async () => {
    const file = join(work.path, 'second', archiveKey);
    const target = join(work.path, `from-file-${++n}`);
    const withSidecar = await runCli(['restore', file, '--to', target, '-c', config]);
    expect(withSidecar.stderr).toBe('');
    expect(withSidecar.code).toBe(0);
    expect(withSidecar.stdout).toContain(`restored shard ${id} from ${file} to ${target}`);
    expect(await diffTrees(source, join(target, 'data'))).toEqual([]);

    const loose = join(work.path, 'loose');
    await mkdir(loose);
    await copyFile(file, join(loose, 'copy.tar.zst'));
    const target2 = join(work.path, `from-file-${++n}`);
    // No config at all: none is needed for a file.
    const without = await runCli(['restore', join(loose, 'copy.tar.zst'), '--to', target2], { cwd: loose });
    expect(without.code).toBe(0);
    expect(without.stderr).toMatch(
      /^warning: no sidecar manifest beside .*copy\.tar\.zst: its size and checksum cannot be checked/m,
    );
    expect(await diffTrees(source, join(target2, 'data'))).toEqual([]);
    await rm(loose, { recursive: true });
  });
});
