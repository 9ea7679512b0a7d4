import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, tempDir } from './helpers/cli.js';
import { filesUnder } from './helpers/config.js';
import { diffTrees } from './helpers/tree.js';

// The README's Quick start: `matric-backup run -c examples/backup.yaml` on the
// bundled example, from a copy so the repository stays clean.
describe('the bundled example', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let examples: string;

  beforeAll(async () => {
    work = await tempDir();
    examples = join(work.path, 'examples');
    await cp(join(REPO_ROOT, 'examples'), examples, {
      recursive: true,
      filter: (path) => !path.includes('/.tmp'),
    });
  });
  afterAll(() => work.cleanup());

  it('backs up, prints the shard id and where it is, verifies and restores identically', async () => {
    const run = await runCli(['run', '-c', 'examples/backup.yaml'], { cwd: work.path });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const id = /shard (backup_\d{8}_\d{6}_[a-z]{8}(?:_\d+)?)/.exec(run.stdout)?.[1];
    expect(id, run.stdout).toBeDefined();
    const stored = join(examples, '.tmp/example-backups', `${id}.tar.zst`);
    expect(run.stdout).toContain(stored);
    expect(await filesUnder(join(examples, '.tmp/example-backups'))).toEqual([
      `${id}.index.json.zst`,
      `${id}.manifest.json`,
      `${id}.tar.zst`,
    ]);

    const verify = await runCli(['verify', '-c', 'examples/backup.yaml'], { cwd: work.path });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(id);

    const target = join(work.path, 'restored');
    const restore = await runCli(['restore', 'latest', '--to', target, '-c', 'examples/backup.yaml'], {
      cwd: work.path,
    });
    expect(restore.code).toBe(0);
    expect(await diffTrees(join(examples, 'data'), join(target, 'data'))).toEqual([]);
  });
});
