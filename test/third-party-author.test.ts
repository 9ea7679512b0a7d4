import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli as runRepoCli, tempDir } from './helpers/cli.js';
import { diffTrees } from './helpers/tree.js';

const run = promisify(execFile);
const TEMPLATE = join(REPO_ROOT, 'examples/plugin-template');
const PLUGIN = 'matric-backup-plugin-example';

/** Unpacks an npm tarball as npm install does: its `package/` folder becomes `target`. */
async function unpack(tarball: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await run('tar', ['xzf', tarball, '-C', target, '--strip-components=1']);
}

/** Packs the package in `dir` into `out` and returns the tarball's path. */
async function pack(dir: string, out: string): Promise<string> {
  await run('pnpm', ['pack', '--pack-destination', out], { cwd: dir });
  const name = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).name as string;
  const prefix = name.replace(/^@/, '').replace('/', '-');
  const tarball = (await readdir(out)).find((file) => file.startsWith(`${prefix}-`) && file.endsWith('.tgz'));
  if (!tarball) throw new Error(`no tarball for ${name} in ${out}`);
  return join(out, tarball);
}

// An author outside the repository: copies the template, builds it against the
// PACKED SDK, packs the plugin, installs it next to a backup.yaml (with its own
// SDK copy, as npm lays it out) and uses it through the CLI installed with
// `npm install -g` from the packed tarballs, as a user gets it from the registry.
describe('a third-party author, from the template to a working plugin', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let site: string;
  let author: string;
  let testkit: string;
  let cli: string;
  const runCli = (args: string[]) => runRepoCli(args, { command: cli });

  beforeAll(async () => {
    work = await tempDir('mb-author-');
    const packs = join(work.path, 'packs');
    await mkdir(packs);
    const sdk = await pack(join(REPO_ROOT, 'packages/plugin-api'), packs);
    testkit = await pack(join(REPO_ROOT, 'packages/destination-testkit'), packs);

    // The user's CLI: what npm would publish, installed globally into a clean prefix.
    const published = [sdk];
    for (const dir of [
      'packages/core',
      'plugins/local',
      'plugins/s3',
      'plugins/sftp',
      'plugins/smb',
      'apps/cli',
    ])
      published.push(await pack(join(REPO_ROOT, dir), packs));
    const prefix = join(work.path, 'prefix');
    await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', ...published],
      {
        maxBuffer: 16 << 20,
      },
    );
    cli = join(prefix, 'bin/matric-backup');

    author = join(work.path, 'author');
    await cp(TEMPLATE, author, { recursive: true, filter: (path) => !/\/(node_modules|dist)$/.test(path) });
    await unpack(sdk, join(author, 'node_modules/@matric-backup/plugin-api'));
    // The author's other build dependencies, from this repository's store.
    const requireHere = createRequire(join(REPO_ROOT, 'packages/plugin-api/package.json'));
    await symlink(dirname(requireHere.resolve('zod/package.json')), join(author, 'node_modules/zod'));
    await mkdir(join(author, 'node_modules/@types'));
    await symlink(join(REPO_ROOT, 'node_modules/@types/node'), join(author, 'node_modules/@types/node'));
    await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: author,
    });
    const plugin = await pack(author, packs);

    // The user's side: a config folder with the plugin installed next to it.
    site = join(work.path, 'site');
    await unpack(plugin, join(site, 'node_modules', PLUGIN));
    await unpack(sdk, join(site, 'node_modules', PLUGIN, 'node_modules/@matric-backup/plugin-api'));
    await symlink(dirname(requireHere.resolve('zod/package.json')), join(site, 'node_modules/zod'));
    await mkdir(join(site, 'data/sub'), { recursive: true });
    await writeFile(join(site, 'data/a.txt'), 'alpha\n');
    await writeFile(join(site, 'data/sub/b.bin'), Buffer.alloc(200_000, 7));
    await writeFile(join(site, 'not-a-folder'), 'a file where a folder should be\n');
  }, 600_000);
  afterAll(() => work.cleanup());

  const config = async (path: string) => {
    const file = join(site, `backup-${path.replace(/\W/g, '')}.yaml`);
    await writeFile(
      file,
      `backup:
  state_dir: state
  sources: [{name: data, type: directory, path: ./data}]
  retry: {max_retries: 2, initial_delay: 10ms}
  destinations:
    - {name: ex, type: example, path: ${JSON.stringify(path)}}
`,
    );
    return file;
  };

  it('plugins lists it with its API version; run, verify and restore work through the CLI', async () => {
    const file = await config('./store');
    const plugins = await runCli(['plugins', '-c', file]);
    expect(plugins.code, plugins.stderr).toBe(0);
    expect(plugins.stdout).toMatch(/^example\s+matric-backup-plugin-example\s+0\.1\.0\s+v1\s+installed\s*$/m);

    expect((await runCli(['check', '-c', file])).code).toBe(0);
    const backup = await runCli(['run', '-c', file]);
    expect(backup.code, backup.stderr).toBe(0);
    const verify = await runCli(['verify', '--latest', '-c', file]);
    expect(verify.code, verify.stderr).toBe(0);
    const target = join(site, 'restored');
    const restore = await runCli(['restore', 'latest', '--to', target, '-c', file]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await diffTrees(join(site, 'data'), join(target, 'data'))).toEqual([]);
  });

  it('the packed testkit runs its conformance suite under node:test, outside the repository', async () => {
    await unpack(testkit, join(author, 'node_modules/@matric-backup/destination-testkit'));
    await writeFile(
      join(author, 'conformance.test.mjs'),
      `import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import plugin from './dist/index.js';

const parent = await mkdtemp(join(tmpdir(), 'example-node-test-'));
after(() => rm(parent, { recursive: true, force: true }));

runDestinationConformance({
  name: 'example under node:test',
  runner: { describe, it },
  plugin,
  config: async () => ({ path: await mkdtemp(join(parent, 'root-')) }),
  largeObjectSize: 8 * 1024 * 1024,
});
`,
    );
    const { stdout } = await run(process.execPath, ['--test', 'conformance.test.mjs'], { cwd: author });
    expect(stdout).toMatch(/^# fail 0$/m);
    expect(Number(/^# pass (\d+)$/m.exec(stdout)?.[1])).toBeGreaterThan(25);
  });

  it('its error code arrives intact from its own SDK copy: CONFIG, one attempt, exit 1', async () => {
    const file = await config('./not-a-folder/store');
    const backup = await runCli(['run', '--json', '-c', file]);
    expect(backup.code).toBe(1);
    const [result] = JSON.parse(backup.stdout).destinations;
    expect(result).toMatchObject({ name: 'ex', status: 'failed', attempts: 1, error: { code: 'CONFIG' } });
  });
});
