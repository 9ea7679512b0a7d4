import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, type SmbServer, startSmbServer } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { type DestinationSpec, filesUnder } from './helpers/config.js';
import { dataConfig, expectRestored, expectVerified, runToAll } from './helpers/fan-out.js';
import { generateTree, sha256File } from './helpers/tree.js';

// The CLI against a real Samba server with its default security: one run fans the
// shard out to a local folder and the share, then verify and restore from the share
// alone. Then what an operator meets first: a wrong password and a server that is down.
describe('smb destination through the CLI', () => {
  let server: SmbServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;
  let passwordFile: string;
  const FOLDER = 'hosts/e2e';

  const smb = (overrides: Record<string, unknown> = {}): DestinationSpec => ({
    name: 'nas',
    type: 'smb',
    share: `//${server.host}/${server.share}`,
    port: server.port,
    path: FOLDER,
    username: server.username,
    // Through core's secret reference: the password never sits in backup.yaml.
    password_file: passwordFile,
    ...overrides,
  });
  const configWith = (name: string, destinations: DestinationSpec[], retry?: object) =>
    dataConfig(work.path, source, name, destinations, retry);

  beforeAll(async () => {
    server = await startSmbServer();
    work = await tempDir('mb-e2e-smb-');
    source = join(work.path, 'source');
    await generateTree(source, { bigFileBytes: 12 * 1024 * 1024, smallFiles: 300 });
    passwordFile = join(work.path, 'smb.password');
    await writeFile(passwordFile, `${server.password}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await server?.stop();
    await work?.cleanup();
  });

  describe('run to local + smb, then verify and restore from smb alone', () => {
    let config: string;
    let shardId: string;

    beforeAll(async () => {
      config = await configWith('both.yaml', [
        { name: 'disk', type: 'local', path: join(work.path, 'disk') },
        smb(),
      ]);
    });

    it('stores the same shard bytes on both', async () => {
      const summary = await runToAll(config, ['disk', 'nas']);
      shardId = summary.id;
      const onShare = join(server.root, FOLDER);
      // Only the shard's archive, index and sidecar: no temporary file left behind.
      expect(await filesUnder(onShare)).toEqual(
        [summary.archive.key, `${shardId}.index.json.zst`, `${shardId}.manifest.json`].sort(),
      );
      expect(await sha256File(join(onShare, summary.archive.key))).toBe(summary.archive.sha256);
      expect(await sha256File(join(work.path, 'disk', summary.archive.key))).toBe(summary.archive.sha256);
    });

    it('verifies the shard on the share', async () => {
      await expectVerified(config, shardId, 'nas');
    });

    it('restores from the share to identical files', async () => {
      await expectRestored(config, 'nas', join(work.path, 'restored'), source);
    });

    it('check reports the share as writable', async () => {
      const check = await runCli(['check', '-d', 'nas', '-c', config]);
      expect(check.code, check.stderr).toBe(0);
      expect(check.stdout).toContain(`//${server.host}/${server.share}/${FOLDER} is writable`);
    });
  });

  it('wrong password: run and check fail with AUTH_FAILED, the password nowhere in the output', async () => {
    const wrong = join(work.path, 'wrong.password');
    await writeFile(wrong, 'not-the-password-7Kp\n', { mode: 0o600 });
    const config = await configWith('wrong-password.yaml', [smb({ password_file: wrong })]);

    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).destinations).toMatchObject([
      { name: 'nas', status: 'failed', error: { code: 'AUTH_FAILED', retryable: false } },
    ]);
    const check = await runCli(['check', '-c', config]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`logon failed for user "${server.username}"`);
    for (const output of [run.stdout, run.stderr, check.stdout, check.stderr]) {
      expect(output).not.toContain('not-the-password-7Kp');
      expect(output).not.toContain(server.password);
    }
  });

  it('the password `backup` (a word the tool prints): ids, share and names intact, the secret masked in messages', async () => {
    const config = await configWith('weak-password.yaml', [
      { name: 'disk', type: 'local', path: join(work.path, 'disk-weak') },
      // Inline on purpose: the weakest way a password can be given, and a wrong one.
      smb({ password_file: undefined, password: 'backup', required: false }),
    ]);
    const check = await runCli(['check', '-c', config]);
    expect(check.stderr).toMatch(
      /warning: .*weak-password\.yaml:\d+:\d+: backup\.destinations\[nas\]\.password: this secret is too weak to be masked safely/,
    );
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.id).toMatch(/^backup_\d{8}_\d{6}_[a-z]{8}(_\d+)?$/);
    expect(summary.destinations).toMatchObject([
      { name: 'disk', status: 'success' },
      { name: 'nas', status: 'failed', error: { code: 'AUTH_FAILED' } },
    ]);
    const list = JSON.parse((await runCli(['list', '--json', '-c', config])).stdout);
    expect(list.destinations[0].complete.map((shard: { id: string }) => shard.id)).toEqual([summary.id]);
    const history = JSON.parse((await runCli(['history', '--json', '-c', config])).stdout);
    expect(history.runs[0].id).toBe(summary.id);
    const human = await runCli(['list', '-c', config]);
    expect(human.stdout).toContain(summary.id);
    for (const output of [run.stdout, run.stderr, human.stdout, check.stdout, check.stderr]) {
      expect(output).not.toContain('***_');
      expect(output).not.toContain('matric-***');
      expect(output).not.toMatch(/password[:=" ]+backup/);
    }
    expect(check.stdout).not.toContain(`//${server.host}/***`);
  });

  it('server down: the smb destination is retried, fails UNREACHABLE, and the run is partial (exit 3)', async () => {
    const config = await configWith(
      'down.yaml',
      [{ name: 'disk', type: 'local', path: join(work.path, 'disk-down') }, smb({ port: await freePort() })],
      { max_retries: 1, initial_delay: '10ms', max_delay: '10ms' },
    );
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code, run.stderr).toBe(3);
    expect(JSON.parse(run.stdout).destinations).toMatchObject([
      { name: 'disk', status: 'success' },
      { name: 'nas', status: 'failed', attempts: 2, error: { code: 'UNREACHABLE', retryable: true } },
    ]);
  });
});
