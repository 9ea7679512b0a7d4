import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DESTINATION_API_VERSION, listPlugins, loadPlugin, MatricError } from '@matric-backup/core';
import { describe, expect, it } from 'vitest';
import { loaderIn, tempDirs } from './fixtures/config/temp.js';
import { fakeBuiltins } from './fixtures/plugins/builtins.js';
import fakeLocal from './fixtures/plugins/fake-local.js';
import { installFakePackage, linkZod, pluginSource } from './fixtures/plugins/third-party.js';

const newDir = tempDirs();
const { load, fail } = loaderIn(newDir);

async function caught(promise: Promise<unknown>): Promise<MatricError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MatricError);
  return error as MatricError;
}

/** A folder with zod and the given packages installed, for a config to live in. */
async function projectWith(...packages: Parameters<typeof installFakePackage>[1][]): Promise<string> {
  const dir = await newDir();
  await linkZod(dir);
  for (const pkg of packages) await installFakePackage(dir, pkg);
  return dir;
}

describe('loadPlugin', () => {
  it('returns a built-in first, importing each module once', async () => {
    const dir = await newDir();
    const first = await loadPlugin('local', { configDir: dir, builtins: fakeBuiltins });
    expect(first).toBe(fakeLocal);
    expect(await loadPlugin('local', { configDir: dir, builtins: fakeBuiltins })).toBe(first);
  });

  it('picks the type out of a module that exports an array', async () => {
    const dir = await newDir();
    expect((await loadPlugin('rsync', { configDir: dir, builtins: fakeBuiltins })).type).toBe('rsync');
    expect((await loadPlugin('sftp', { configDir: dir, builtins: fakeBuiltins })).type).toBe('sftp');
  });

  it('finds matric-backup-plugin-<type> in node_modules of the config folder or above', async () => {
    const dir = await projectWith({
      name: 'matric-backup-plugin-fake',
      version: '2.3.4',
      source: pluginSource({ type: 'fake' }),
    });
    const nested = join(dir, 'etc', 'backups');
    await mkdir(nested, { recursive: true });
    const plugin = await loadPlugin('fake', { configDir: nested, builtins: fakeBuiltins });
    expect(plugin).toMatchObject({
      type: 'fake',
      apiVersion: DESTINATION_API_VERSION,
      secretKeys: ['token'],
    });
  });

  it('finds @matric-backup/plugin-<type> through its exports import condition', async () => {
    const dir = await projectWith({
      name: '@matric-backup/plugin-scoped',
      entry: 'dist/index.js',
      manifest: {
        exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js', require: './missing.cjs' } },
      },
      source: pluginSource({ type: 'scoped' }),
    });
    expect((await loadPlugin('scoped', { configDir: dir })).type).toBe('scoped');
  });

  it('picks the type from a third-party package exporting several', async () => {
    const dir = await projectWith({
      name: 'matric-backup-plugin-multi',
      source: pluginSource({ type: ['alpha', 'multi', 'omega'] }),
    });
    expect((await loadPlugin('multi', { configDir: dir })).type).toBe('multi');
    const error = await caught(
      loadPlugin('beta', { configDir: dir, packageName: 'matric-backup-plugin-multi' }),
    );
    expect(error.code).toBe('PLUGIN_LOAD');
    expect(error.message).toBe(
      'matric-backup-plugin-multi@1.0.0 provides destination type alpha, multi, omega, not "beta"',
    );
  });

  it('an explicit plugin: package wins over a built-in type, and may be a path', async () => {
    const dir = await projectWith({ name: 'local-fork', source: pluginSource({ type: 'local' }) });
    const fork = await loadPlugin('local', {
      configDir: dir,
      packageName: 'local-fork',
      builtins: fakeBuiltins,
    });
    expect(fork).not.toBe(fakeLocal);
    expect(fork.secretKeys).toEqual(['token']);
    const byPath = await loadPlugin('local', {
      configDir: dir,
      packageName: './node_modules/local-fork/index.js',
    });
    expect(byPath).toBe(fork);
  });

  it('refuses another Destination API version, naming both', async () => {
    const dir = await projectWith(
      {
        name: 'matric-backup-plugin-old',
        version: '0.9.0',
        source: pluginSource({ type: 'old', apiVersion: 0 }),
      },
      {
        name: 'matric-backup-plugin-new',
        version: '9.0.0',
        source: pluginSource({ type: 'new', apiVersion: 2 }),
      },
    );
    const old = await caught(loadPlugin('old', { configDir: dir }));
    expect(old.code).toBe('PLUGIN_API_VERSION');
    expect(old.message).toBe(
      'plugin matric-backup-plugin-old@0.9.0 for type old speaks Destination API v0, this core speaks v1',
    );
    expect(old.hint).toBe('upgrade the plugin to a release for Destination API v1');
    const newer = await caught(loadPlugin('new', { configDir: dir }));
    expect(newer.message).toBe(
      'plugin matric-backup-plugin-new@9.0.0 for type new speaks Destination API v2, this core speaks v1',
    );
    expect(newer.hint).toContain('upgrade matric-backup');
  });

  it('says a plugin without an API version was not built with defineDestination', async () => {
    const dir = await projectWith({
      name: 'matric-backup-plugin-handmade',
      source: pluginSource({ type: 'handmade' }).replace('apiVersion: 1,', ''),
    });
    const error = await caught(loadPlugin('handmade', { configDir: dir }));
    expect(error.code).toBe('PLUGIN_API_VERSION');
    expect(error.message).toBe(
      'plugin matric-backup-plugin-handmade@1.0.0 for type handmade declares no Destination API version (this matric-backup speaks v1)',
    );
    expect(error.message).not.toContain('undefined');
    expect(error.hint).toContain('defineDestination');
  });

  it('refuses a module that is not a destination plugin, or one that fails to load', async () => {
    const dir = await projectWith(
      { name: 'matric-backup-plugin-empty', source: 'export default { hello: 1 };\n' },
      {
        name: 'matric-backup-plugin-partial',
        source: 'export default { apiVersion: 1, type: "partial" };\n',
      },
      { name: 'matric-backup-plugin-broken', source: 'throw new Error("boom at import");\n' },
    );
    const empty = await caught(loadPlugin('empty', { configDir: dir }));
    expect([empty.code, empty.message]).toEqual([
      'PLUGIN_LOAD',
      'matric-backup-plugin-empty@1.0.0 does not export a destination plugin',
    ]);
    const partial = await caught(loadPlugin('partial', { configDir: dir }));
    expect(partial.message).toBe(
      'matric-backup-plugin-partial@1.0.0 for type partial is not a valid destination plugin: missing configSchema, create, capabilities',
    );
    const broken = await caught(loadPlugin('broken', { configDir: dir }));
    expect(broken.code).toBe('PLUGIN_LOAD');
    expect(broken.message).toMatch(
      /^cannot load plugin package matric-backup-plugin-broken .*: boom at import$/,
    );
  });

  it('says what to npm install when nothing provides the type', async () => {
    const dir = await newDir();
    const error = await caught(loadPlugin('webdav', { configDir: dir, builtins: fakeBuiltins }));
    expect(error.code).toBe('PLUGIN_LOAD');
    expect(error.message).toBe(
      `unknown destination type "webdav": not built in (built in: local, s3, sftp, rsync, smb) and neither ` +
        `matric-backup-plugin-webdav nor @matric-backup/plugin-webdav is installed where ${dir} can find it`,
    );
    expect(error.hint).toContain(`\`npm install matric-backup-plugin-webdav\` in ${dir}`);
    const typo = await caught(loadPlugin('stfp', { configDir: dir, builtins: fakeBuiltins }));
    expect(typo.message).toBe('unknown destination type "stfp"; did you mean "sftp"?');
    expect(typo.hint).toContain('write `type: sftp`');
    const explicit = await caught(loadPlugin('webdav', { configDir: dir, packageName: 'ftp-for-matric' }));
    expect(explicit.hint).toBe(`run \`npm install ftp-for-matric\` in ${dir}`);
  });

  it('never turns a type into a path', async () => {
    const error = await caught(loadPlugin('../../etc', { configDir: await newDir() }));
    expect(error.code).toBe('PLUGIN_LOAD');
  });
});

describe('loadConfig with third-party plugins', () => {
  const source = pluginSource({
    type: 'fake',
    schema: 'z.strictObject({ url: z.url(), token: z.string() })',
  });

  it('validates the block with the plugin schema and resolves its secret references', async () => {
    const dir = await projectWith({ name: 'matric-backup-plugin-fake', source });
    const config = await load(
      'backup:\n  destinations:\n    - {name: f, type: fake, url: "https://x.example", token_file: tok}\n',
      { dir, files: { tok: 'third-party-token\n' } },
    );
    expect(config.destinations[0]).toMatchObject({
      type: 'fake',
      config: { url: 'https://x.example', token: 'third-party-token' },
      secrets: ['third-party-token'],
    });
  });

  it('reports its schema errors with path and line', async () => {
    const dir = await projectWith({ name: 'matric-backup-plugin-fake', source });
    const error = await fail(
      `backup:
  destinations:
    - name: f
      type: fake
      url: 42
      token: a-token
      tokne: a-token
`,
      { dir },
    );
    expect(error.issues.map(({ path, line, message }) => ({ path, line, message }))).toEqual([
      { path: 'backup.destinations[f].url', line: 5, message: 'expected a string, found an integer' },
      {
        path: 'backup.destinations[f].tokne',
        line: 7,
        message: 'unknown key "tokne"; did you mean "token"?',
      },
    ]);
  });

  it('turns plugin load failures into config issues at type or plugin', async () => {
    const dir = await projectWith({
      name: 'matric-backup-plugin-old',
      source: pluginSource({ type: 'old', apiVersion: 0 }),
    });
    const error = await fail(
      `backup:
  destinations:
    - name: a
      type: old
    - name: b
      type: local
      plugin: not-installed-xyz
`,
      { dir },
    );
    expect(error.issues.map(({ path, line }) => ({ path, line }))).toEqual([
      { path: 'backup.destinations[a].type', line: 4 },
      { path: 'backup.destinations[b].plugin', line: 7 },
    ]);
    expect(error.issues[0]!.message).toContain('speaks Destination API v0, this core speaks v1');
    expect(error.issues[1]!.message).toContain('not-installed-xyz');
    // The hint says what fixes it: install or upgrade the plugin, not edit the file.
    expect(error.hint).toBe(
      `upgrade the plugin to a release for Destination API v1\n      run \`npm install not-installed-xyz\` in ${dir}`,
    );
  });
});

describe('listPlugins', () => {
  it('lists built-ins, then installed plugin packages with their types and versions', async () => {
    const dir = await projectWith(
      { name: 'matric-backup-plugin-fake', version: '2.0.0', source: pluginSource({ type: 'fake' }) },
      { name: '@matric-backup/plugin-duo', version: '0.3.0', source: pluginSource({ type: ['one', 'two'] }) },
      { name: 'matric-backup-plugin-broken', source: 'throw new Error("boom");\n' },
      {
        name: 'matric-backup-plugin-old',
        version: '0.1.0',
        source: pluginSource({ type: 'old', apiVersion: 0 }),
      },
      { name: 'unrelated-package', source: pluginSource({ type: 'nope' }) },
    );
    const listed = await listPlugins({ configDir: dir, builtins: fakeBuiltins });
    expect(listed.map(({ error, ...rest }) => ({ ...rest, error: error && 'error' }))).toEqual([
      { type: 'local', packageName: '@matric-backup/plugin-local', source: 'builtin', error: undefined },
      {
        type: 's3',
        packageName: '@matric-backup/plugin-s3',
        version: '0.1.0',
        source: 'builtin',
        error: undefined,
      },
      { type: 'sftp', packageName: '@matric-backup/plugin-sftp', source: 'builtin', error: undefined },
      { type: 'rsync', packageName: '@matric-backup/plugin-sftp', source: 'builtin', error: undefined },
      { type: 'smb', packageName: '@matric-backup/plugin-smb', source: 'builtin', error: undefined },
      {
        type: 'one',
        packageName: '@matric-backup/plugin-duo',
        version: '0.3.0',
        source: 'installed',
        apiVersion: 1,
        error: undefined,
      },
      {
        type: 'two',
        packageName: '@matric-backup/plugin-duo',
        version: '0.3.0',
        source: 'installed',
        apiVersion: 1,
        error: undefined,
      },
      {
        type: '?',
        packageName: 'matric-backup-plugin-broken',
        version: '1.0.0',
        source: 'installed',
        error: 'error',
      },
      {
        type: 'fake',
        packageName: 'matric-backup-plugin-fake',
        version: '2.0.0',
        source: 'installed',
        apiVersion: 1,
        error: undefined,
      },
      {
        type: 'old',
        packageName: 'matric-backup-plugin-old',
        version: '0.1.0',
        source: 'installed',
        apiVersion: 0,
        error: 'error',
      },
    ]);
    expect(listed.find((entry) => entry.packageName === 'matric-backup-plugin-broken')?.error).toContain(
      'boom',
    );
    expect(listed.find((entry) => entry.type === 'old')?.error).toBe(
      'plugin matric-backup-plugin-old@0.1.0 for type old speaks Destination API v0, this core speaks v1',
    );
  });
});
