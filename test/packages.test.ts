import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
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

/** The tarball `pnpm pack` makes, as npm would download it. */
async function packed(dir: string): Promise<Buffer> {
  const out = await mkdtemp(join(tmpdir(), 'mb-pack-'));
  try {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', out, '--json'], { cwd: dir });
    return await readFile((JSON.parse(stdout) as { filename: string }).filename);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
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

  it('publint and are-the-types-wrong find nothing in its tarball', async () => {
    const tarball = await packed(dir);
    const { messages, pkg } = await publint({
      pack: { tarball: new Uint8Array(tarball).buffer },
      level: 'suggestion',
      strict: true,
    });
    expect(messages.map((message) => `${message.code}: ${formatMessage(message, pkg)}`)).toEqual([]);
    // The CLI is a bin with no importable entry; every library's types must resolve as it declares them.
    if (!manifest.exports) return;
    const types = await checkPackage(createPackageFromTarballData(new Uint8Array(tarball)));
    const problems = types.types
      ? types.problems
          // attw's esm-only profile: these packages are ESM on purpose (Node >= 20.19 can require() them), so
          // CommonJS resolution and TypeScript's pre-exports `node10` resolution are not offered.
          .filter(
            (problem) =>
              !('resolutionKind' in problem && ['node10', 'node16-cjs'].includes(problem.resolutionKind)),
          )
          .map((problem) => JSON.stringify(problem))
      : ['no types in the tarball'];
    expect(problems).toEqual([]);
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

describe('the workspace', () => {
  it('knip finds no unused file, export or dependency', { timeout: 180_000 }, async () => {
    const outcome = await run('pnpm', ['exec', 'knip', '--no-progress'], { cwd: REPO_ROOT }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? 1,
        stdout: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );
    expect(outcome.stdout.trim()).toBe('');
    expect(outcome.code).toBe(0);
  });
});
