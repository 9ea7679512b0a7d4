import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

describe('folders a source must not hold', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir();
  });
  afterAll(() => work.cleanup());

  it('a local destination and the state folder inside the source are left out: the shard does not grow run over run', async () => {
    const data = join(work.path, 'data');
    await mkdir(join(data, 'docs'), { recursive: true });
    await writeFile(join(data, 'docs', 'a.bin'), randomBytes(256 << 10));
    await writeFile(join(data, 'excludes.txt'), '*.tmp\n');
    await writeFile(join(data, 'scratch.tmp'), 'scratch');
    await mkdir(join(data, 'cache'));
    await writeFile(join(data, 'cache', '.nobackup'), '');
    await writeFile(join(data, 'cache', 'blob'), randomBytes(64 << 10));
    const store = join(data, 'backups');
    const config = await writeConfig(work.path, {
      state_dir: join(data, '.state'),
      sources: [
        {
          name: 'data',
          type: 'directory',
          path: data,
          exclude_from: join(data, 'excludes.txt'),
          exclude_if_present: '.nobackup',
        },
      ],
      destinations: [{ name: 'local', type: 'local', path: store }],
      retention: { keep_last: 10 },
    });

    const sizes: number[] = [];
    for (let run = 0; run < 3; run++) {
      // The last run with -v: the excludes applied and the phases' timings, on stderr only.
      const result = await runCli(['run', '-c', config, ...(run === 2 ? ['-v', '--json'] : [])]);
      expect(result.code, result.stderr).toBe(0);
      if (run === 2) {
        expect(JSON.parse(result.stdout).status).toBe('success');
        // The file list is -vv's.
        expect(result.stderr).not.toMatch(/^(stored|excluded) /m);
        expect(result.stderr).toContain(
          `source data: ${data} (exclude_from ${join(data, 'excludes.txt')}, exclude_if_present .nobackup)`,
        );
        expect(result.stderr).toMatch(/^timing: sources read and packed in .*: 2 files, /m);
        expect(result.stderr).toMatch(/^timing: upload to local success in /m);
      }
      if (run > 0) {
        expect(result.stderr).toContain(`left out ${store}: it is the folder of destination local`);
        expect(result.stderr).toContain(`left out ${join(data, '.state')}: it is the state folder`);
      }
      const archives = (await readdir(store)).filter((name) => name.endsWith('.tar.zst')).sort();
      sizes.push((await stat(join(store, archives.at(-1)!))).size);
    }
    expect(sizes[2]).toBeLessThan(sizes[0]! * 1.1);

    const archives = (await readdir(store)).filter((name) => name.endsWith('.tar.zst')).sort();
    const names = execFileSync('tar', ['--zstd', '-tf', join(store, archives.at(-1)!)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(names).toEqual(['data', 'data/docs', 'data/docs/a.bin', 'data/excludes.txt', 'manifest.json']);

    // -vv lists each file as it is stored and each path an exclude rule left out, with the rule;
    // an incremental says new or changed, and counts the files it did not store again.
    await writeFile(join(data, 'docs', 'new.txt'), 'new\n');
    await writeFile(join(data, 'excludes.txt'), '*.tmp\n# scratch files\n');
    const listed = await runCli(['run', '-c', config, '--type', 'incremental', '-vv', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).type).toBe('incremental');
    const lines = listed.stderr.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'excluded  data/cache (exclude_if_present .nobackup)',
        'new       data/docs/new.txt',
        'changed   data/excludes.txt',
        'excluded  data/scratch.tmp (exclude *.tmp)',
        'unchanged 1 file (not stored again)',
      ]),
    );
    expect(lines.filter((line) => /^(new|changed|stored) /.test(line))).toHaveLength(2);
  });
});
