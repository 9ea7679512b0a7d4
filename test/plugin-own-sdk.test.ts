import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import {
  HANDMADE_TYPE,
  installHandmadePlugin,
  installOwnSdkPlugin,
  PUT_LOG,
  VAULT_TOKEN,
  VAULT_TYPE,
} from './helpers/own-sdk-plugin.js';

// A plugin installed next to backup.yaml with its own copy of the SDK: its
// DestinationError is another class than the CLI's, and its codes must still
// arrive intact (not UNKNOWN, not retried).
describe('a third-party plugin with its own copy of the SDK', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let vault: string;

  beforeAll(async () => {
    work = await tempDir();
    await installOwnSdkPlugin(work.path);
    await installHandmadePlugin(work.path);
    await writeFile(join(work.path, 'notes.txt'), 'kept safe\n');
    vault = join(work.path, 'vault');
  });
  afterAll(() => work.cleanup());

  const configWith = (token: string) =>
    writeConfig(work.path, {
      sources: [{ name: 'notes', type: 'directory', path: work.path, include: ['notes.txt'] }],
      destinations: [{ name: 'v', type: VAULT_TYPE, path: vault, token }],
      // Fast retries, so a lost code (UNKNOWN, retryable) shows as extra attempts, not a slow test.
      retry: { max_retries: 2, initial_delay: '10ms' },
    });
  const puts = async () =>
    (await readFile(join(work.path, PUT_LOG), 'utf8').catch(() => '')).split('\n').filter(Boolean);

  it('AUTH_FAILED from put: exit 1, the code, one attempt', async () => {
    const config = await configWith('wrong-token');
    const json = await runCli(['run', '--json', '-c', config]);
    expect(json.code).toBe(1);
    const [result] = JSON.parse(json.stdout).destinations;
    expect(result).toMatchObject({
      name: 'v',
      status: 'failed',
      attempts: 1,
      error: { code: 'AUTH_FAILED', message: 'the vault rejected the token' },
    });
    expect(await puts()).toHaveLength(1);

    const human = await runCli(['run', '-c', config]);
    expect(human.code).toBe(1);
    expect(`${human.stdout}${human.stderr}`).toContain('AUTH_FAILED: the vault rejected the token');
    expect(human.stdout).not.toContain('attempts');
    expect(await puts()).toHaveLength(2);
    expect(`${human.stdout}${human.stderr}`).not.toContain('wrong-token');
  });

  it('AUTH_FAILED from check(): exit 1 with the code', async () => {
    const check = await runCli(['check', '-c', await configWith('wrong-token')]);
    expect(check.code).toBe(1);
    expect(`${check.stdout}${check.stderr}`).toContain('AUTH_FAILED');
    expect(`${check.stdout}${check.stderr}`).not.toContain('UNKNOWN');
  });

  it('NOT_FOUND from get: verify names the lost archive, exit 1', async () => {
    const config = await configWith(VAULT_TOKEN);
    const run = await runCli(['run', '-c', config]);
    expect(run.code, run.stderr).toBe(0);
    const archive = (await readdir(join(vault, 'blobs'))).find((name) => name.endsWith('.tar.zst'));
    expect(archive).toBeDefined();
    // The blob goes, the vault's index still lists it.
    await rm(join(vault, 'blobs', archive!));

    const verify = await runCli(['verify', '--latest', '-c', config]);
    expect(verify.code).toBe(1);
    const output = `${verify.stdout}${verify.stderr}`;
    expect(output).toContain(`NOT_FOUND: no object "${archive}" in the vault`);
    expect(output).not.toContain('UNKNOWN');
  });

  it('plugins lists the vault as usable and the handmade plugin as unusable, exit 2', async () => {
    const config = await configWith(VAULT_TOKEN);
    const listed = await runCli(['plugins', '-c', config]);
    expect(listed.code).toBe(2);
    expect(listed.stdout).toMatch(/^vault\s+matric-backup-plugin-vault\s+1\.0\.0\s+v1\s+installed\s*$/m);
    expect(listed.stdout).toMatch(
      /^handmade\s+matric-backup-plugin-handmade\s+0\.0\.1\s+installed, UNUSABLE: .*declares no Destination API version/m,
    );
    expect(listed.stdout).not.toContain('vundefined');
    expect(listed.stderr).toContain(
      'error: an installed plugin cannot be used: matric-backup-plugin-handmade',
    );

    const json = await runCli(['plugins', '--json', '-c', config]);
    expect(json.code).toBe(2);
    const { plugins } = JSON.parse(json.stdout);
    expect(plugins.find((plugin: { type: string }) => plugin.type === VAULT_TYPE)).toMatchObject({
      api_version: 1,
      source: 'installed',
    });
  });

  it('a config using the handmade plugin: exit 2, the hint says how to get a working plugin', async () => {
    const config = await writeConfig(
      work.path,
      {
        sources: [{ name: 'notes', type: 'directory', path: work.path, include: ['notes.txt'] }],
        destinations: [{ name: 'h', type: HANDMADE_TYPE }],
      },
      'handmade.yaml',
    );
    const check = await runCli(['check', '-c', config]);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(
      /backup\.destinations\[h\]\.type: plugin matric-backup-plugin-handmade@0\.0\.1 for type handmade declares no Destination API version/,
    );
    expect(check.stderr).toMatch(/^hint: .*defineDestination/m);
    expect(check.stderr).not.toContain('fix the file');
  });
});
