import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

// verify lists every problem of a shard, not only the first: a terminal shows
// the count and the first ones, --json every one with its path and code.
const DAMAGED = 24;

describe('verify reports every problem of a damaged shard', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let id: string;
  let objectName: string;

  beforeAll(async () => {
    work = await tempDir('mb-e2e-verify-');
    const source = join(work.path, 'source');
    await mkdir(source);
    for (let n = 0; n < DAMAGED; n++) {
      await writeFile(join(source, `file-${String(n).padStart(2, '0')}.txt`), `content of file ${n}\n`);
    }
    await writeFile(join(source, 'intact.txt'), 'left alone\n');
    const backups = join(work.path, 'backups');
    config = await writeConfig(work.path, {
      sources: [{ name: 'docs', type: 'directory', path: source }],
      destinations: [{ name: 'disk', type: 'local', path: backups }],
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { id: string; archive: { key: string } };
    id = summary.id;
    objectName = summary.archive.key;

    // Every file's bytes changed inside the tar (same sizes), the archive recompressed as the tool would.
    const stored = join(backups, objectName);
    const tar = execFileSync('zstd', ['-d', '-c', stored]);
    let at = tar.indexOf('content of');
    while (at >= 0) {
      tar.write('CONTENT OF', at);
      at = tar.indexOf('content of', at);
    }
    await writeFile(stored, execFileSync('zstd', ['-q', '-c'], { input: tar }));
  });
  afterAll(() => work.cleanup());

  it('--json lists each one with its path, code and reason, and the count', async () => {
    const verify = await runCli(['verify', '--json', '-c', config]);
    expect(verify.code).toBe(1);
    const report = JSON.parse(verify.stdout);
    expect(report.ok).toBe(false);
    const [result] = report.results;
    const contents = result.problems.filter(
      (problem: { code: string }) => problem.code === 'CONTENT_MISMATCH',
    );
    expect(contents.map((problem: { path: string }) => problem.path).sort()).toEqual(
      Array.from({ length: DAMAGED }, (_, n) => `docs/file-${String(n).padStart(2, '0')}.txt`),
    );
    expect(contents[0].reason).toMatch(
      /^content differs from the manifest \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)$/,
    );
    // The stored object no longer matches its sidecar either.
    expect(result.problems).toContainEqual(
      expect.objectContaining({ path: objectName, code: 'OBJECT_CHECKSUM' }),
    );
    expect(result.problem_count).toBe(result.problems.length);
    expect(result.problem_count).toBeGreaterThanOrEqual(DAMAGED + 1);
  });

  it('a terminal gets the count, the first 20 and how many more', async () => {
    const verify = await runCli(['verify', id, '-c', config]);
    expect(verify.code).toBe(1);
    const lines = verify.stdout.trimEnd().split('\n');
    const count = Number(/^FAILED\s+disk\s+\S+\s+(\d+) problems:$/.exec(lines[0]!)?.[1]);
    expect(count).toBeGreaterThanOrEqual(DAMAGED + 1);
    expect(lines.slice(1, 21).every((line) => /^ {8}\S/.test(line))).toBe(true);
    expect(lines[21]).toBe(`        ... and ${count - 20} more (--json lists every one)`);
    expect(lines).toHaveLength(22);
    expect(verify.stderr).toMatch(
      new RegExp(
        `^error: verify failed: destination "disk" shard "${id}": ${count} problems, the first: `,
        'm',
      ),
    );
  });

  it('GNU tar still reads the damaged shard: only the contents differ', async () => {
    const listing = execFileSync('tar', ['--zstd', '-tvf', join(work.path, 'backups', objectName)], {
      encoding: 'utf8',
    });
    expect(listing).toContain('docs/intact.txt');
    expect(listing).toContain('docs/file-00.txt');
  });
});
