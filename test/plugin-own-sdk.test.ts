import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { installOwnSdkPlugin, PUT_LOG, VAULT_TOKEN, VAULT_TYPE } from './helpers/own-sdk-plugin.js';

// A plugin installed next to backup.yaml with its own copy of the SDK: its
// DestinationError is another class than the CLI's, and its codes must still
// arrive intact (not UNKNOWN, not retried).
describe('a third-party plugin with its own copy of the SDK', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let vault: string;

  beforeAll(async () => {
    work = await tempDir();
    await installOwnSdkPlugin(work.path);
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
});
