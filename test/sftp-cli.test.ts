import { chown, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  freePort,
  type RsyncServer,
  type SshServer,
  startRsyncServer,
  startSshServer,
} from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { type DestinationSpec, filesUnder } from './helpers/config.js';
import { dataConfig, expectRestored, runToAll } from './helpers/fan-out.js';
import { generateTree, sha256File } from './helpers/tree.js';

// The CLI against a real sshd and a real rsync daemon: one run fans the shard out to
// a local folder, sftp, rsync over ssh and an rsync daemon; each then restores to
// identical files on its own. Then the failures an operator meets first: an unknown
// host key (refused once, the fingerprint printed) and a server that is down (retried).
describe('sftp and rsync destinations through the CLI', () => {
  let sshd: SshServer;
  let rsyncd: RsyncServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;
  let passwordFile: string;
  let sftpFolder: string;
  let rsyncSshFolder: string;
  const daemonFolder = 'e2e/shards';

  const sftp = (overrides: Record<string, unknown> = {}): DestinationSpec => ({
    name: 'nas-sftp',
    type: 'sftp',
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    path: sftpFolder,
    ssh_key: sshd.keyPath,
    known_hosts: sshd.knownHostsPath,
    ...overrides,
  });
  const rsyncSsh = (): DestinationSpec => ({
    name: 'nas-rsync',
    type: 'rsync',
    target: `${sshd.username}@${sshd.host}:${rsyncSshFolder}`,
    port: sshd.port,
    ssh_key: sshd.keyPath,
    host_key_fingerprint: sshd.fingerprint,
  });
  const rsyncDaemon = (): DestinationSpec => ({
    name: 'nas-rsyncd',
    type: 'rsync',
    target: `${rsyncd.url}/${daemonFolder}`,
    password_file: passwordFile,
  });
  const configWith = (name: string, destinations: DestinationSpec[], retry?: object) =>
    dataConfig(work.path, source, name, destinations, retry);

  beforeAll(async () => {
    [sshd, rsyncd] = await Promise.all([startSshServer(), startRsyncServer()]);
    work = await tempDir('mb-e2e-sftp-');
    source = join(work.path, 'source');
    await generateTree(source, { bigFileBytes: 12 * 1024 * 1024, smallFiles: 300 });
    passwordFile = join(work.path, 'rsyncd.password');
    await writeFile(passwordFile, `${rsyncd.password}\n`, { mode: 0o600 });
    sftpFolder = await mkdtemp(join(sshd.root, 'sftp-'));
    rsyncSshFolder = await mkdtemp(join(sshd.root, 'rsync-'));
    // Both folders belong to the ssh test user, who writes into them.
    const { uid, gid } = await stat(sshd.root);
    await Promise.all([chown(sftpFolder, uid, gid), chown(rsyncSshFolder, uid, gid)]);
  });
  afterAll(async () => {
    await Promise.all([sshd?.dispose(), rsyncd?.dispose()]);
    await work?.cleanup();
  });

  describe('one run to local + sftp + rsync (ssh and daemon), then restore from each', () => {
    let config: string;
    const names = ['disk', 'nas-sftp', 'nas-rsync', 'nas-rsyncd'];

    beforeAll(async () => {
      config = await configWith('fan-out.yaml', [
        { name: 'disk', type: 'local', path: join(work.path, 'disk') },
        sftp(),
        rsyncSsh(),
        rsyncDaemon(),
      ]);
    });

    it('stores the same shard bytes on every destination', async () => {
      const summary = await runToAll(config, names);
      const { key, sha256 } = summary.archive;
      const stored = {
        disk: join(work.path, 'disk'),
        'nas-sftp': sftpFolder,
        'nas-rsync': rsyncSshFolder,
        'nas-rsyncd': join(rsyncd.root, daemonFolder),
      };
      for (const [name, folder] of Object.entries(stored)) {
        // Exactly the shard's archive, index and sidecar: no temporary file left anywhere.
        expect(await filesUnder(folder), name).toEqual(
          [key, `${summary.id}.index.json.zst`, `${summary.id}.manifest.json`].sort(),
        );
        expect(await sha256File(join(folder, key)), name).toBe(sha256);
      }
    });

    for (const name of ['nas-sftp', 'nas-rsync', 'nas-rsyncd']) {
      it(`restores from ${name} alone to identical files`, async () => {
        await expectRestored(config, name, join(work.path, `restored-${name}`), source);
      });
    }

    it('check connects to each and reports how the host key was trusted', async () => {
      const check = await runCli(['check', '-c', config]);
      expect(check.code, check.stderr + check.stdout).toBe(0);
      expect(check.stdout).toContain(`${sshd.fingerprint} found in ${sshd.knownHostsPath}`);
      expect(check.stdout).toContain(`${sshd.fingerprint} matches host_key_fingerprint`);
    });
  });

  it('an unknown host key fails the run once (not retried) and prints the fingerprint to pin', async () => {
    const emptyKnownHosts = join(work.path, 'empty_known_hosts');
    await writeFile(emptyKnownHosts, '');
    const config = await configWith('unknown-host.yaml', [sftp({ known_hosts: emptyKnownHosts })], {
      max_retries: 2,
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code).toBe(1);
    const [result] = JSON.parse(run.stdout).destinations;
    expect(result).toMatchObject({
      name: 'nas-sftp',
      status: 'failed',
      attempts: 1,
      error: { code: 'CONFIG' },
    });
    expect(result.error.message).toContain(`host_key_fingerprint: "${sshd.fingerprint}"`);
  });

  it('a server that is down is UNREACHABLE and retried before the run gives up', async () => {
    const config = await configWith('down.yaml', [sftp({ port: await freePort(), connect_timeout: 5 })], {
      max_retries: 1,
      initial_delay: '100ms',
    });
    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code).toBe(1);
    const [result] = JSON.parse(run.stdout).destinations;
    expect(result).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'UNREACHABLE', retryable: true },
    });
  });
});
