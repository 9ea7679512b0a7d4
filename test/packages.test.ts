import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

const run = promisify(execFile);

interface Manifest {
  name: string;
  private?: boolean;
  files?: string[];
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Every package of the workspace that is published to npm. */
const publishable = ['packages', 'plugins', 'apps']
  .flatMap((group) => readdirSync(join(REPO_ROOT, group)).map((name) => join(REPO_ROOT, group, name)))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => !manifest.private);

/** What `pnpm pack` would put in the tarball (the build must have run). */
async function packedFiles(dir: string): Promise<string[]> {
  const { stdout } = await run('pnpm', ['pack', '--dry-run', '--json'], { cwd: dir });
  return (JSON.parse(stdout) as { files: Array<{ path: string }> }).files.map((file) => file.path);
}

describe.concurrent.each(publishable)('package $manifest.name packs clean', ({ dir, manifest }) => {
  it('has the metadata npm shows, and package.json among its exports', () => {
    expect(manifest).toMatchObject({
      repository: { type: 'git', directory: dir.slice(REPO_ROOT.length + 1) },
      homepage: expect.stringMatching(/^https:\/\//),
      bugs: expect.stringMatching(/^https:\/\//),
      license: 'MIT',
    });
    expect((manifest.keywords as string[]).length).toBeGreaterThan(0);
    if (manifest.exports) expect(manifest.exports['./package.json']).toBe('./package.json');
    for (const entry of (manifest.files ?? []).filter((file) => !file.startsWith('!')))
      expect(existsSync(join(dir, entry)), `files: ${entry}`).toBe(true);
  });

  it('ships no build cache, and every source map with its sources', async () => {
    const files = await packedFiles(dir);
    expect(files).toContain('README.md');
    expect(files.filter((file) => file.endsWith('.tsbuildinfo'))).toEqual([]);
    const shipped = new Set(files.map(normalize));
    const orphans = files
      .filter((file) => file.endsWith('.map'))
      .flatMap((map) =>
        (JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources: string[] }).sources
          .map((source) => normalize(join(dirname(map), source)))
          .filter((source) => !shipped.has(source)),
      );
    expect(orphans).toEqual([]);
  });

  it.runIf(manifest.bin)('its bin files run on their own: shebang and executable bit', async () => {
    for (const file of Object.values(manifest.bin ?? {})) {
      const path = join(dir, file);
      expect(readFileSync(path, 'utf8').startsWith('#!/usr/bin/env ')).toBe(true);
      expect(statSync(path).mode & 0o111).toBe(0o111);
      const { stdout } = await run(path, ['--version']);
      expect(stdout.trim()).toBe(manifest.version);
    }
  });
});
