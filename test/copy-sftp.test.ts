import { chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type SshServer, startSshServer } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, tempDir } from './helpers/cli.js';
import { type DestinationSpec, writeConfig } from './helpers/config.js';
import { expectRestored } from './helpers/fan-out.js';
import { generateTree, sha256File } from './helpers/tree.js';

interface CopyJson {
  from: string;
  to: string;
  ok: boolean;
  shards: Array<{ id: string; type: string; status: string; link_of?: string; resumed?: boolean }>;
}

// copy as an operator migrating shards uses it: an incremental chain made on a local
// folder copied to sftp whole (base first) and restored from there alone; a copy
// killed mid-archive (slowed by bandwidth_limit) leaves nothing on the target that
// looks complete, and running it again completes it. Then verify --sample on a local folder: the shard it reads
// whole shows its damaged file, the others only what costs no download.
describe('copy between destinations, verify --sample', () => {
  let sshd: SshServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;
  let config: string;
  let nasFolder: string;
  let slowFolder: string;

  beforeAll(async () => {
    sshd = await startSshServer();
    work = await tempDir('mb-e2e-copy-');
    source = join(work.path, 'source');
    // Incompressible, so that the slow destination's copy takes a few seconds.
    await generateTree(source, { bigFileBytes: 3 * 1024 * 1024, smallFiles: 50 });
    nasFolder = await mkdtemp(join(sshd.root, 'copy-'));
    slowFolder = await mkdtemp(join(sshd.root, 'slow-'));
    const { uid, gid } = await stat(sshd.root);
    await Promise.all([chown(nasFolder, uid, gid), chown(slowFolder, uid, gid)]);
    const sftp = (name: string, path: string, extra: object = {}): DestinationSpec => ({
      name,
      type: 'sftp',
      enabled: false,
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      path,
      ssh_key: sshd.keyPath,
      known_hosts: sshd.knownHostsPath,
      ...extra,
    });
    config = await writeConfig(work.path, {
      sources: [{ name: 'data', type: 'directory', path: source }],
      destinations: [
        { name: 'disk', type: 'local', path: join(work.path, 'disk') },
        sftp('nas', nasFolder),
        sftp('nas-slow', slowFolder, { bandwidth_limit: '1MiB/s' }),
      ],
      incremental: { max_chain: 5 },
      retry: { max_retries: 0 },
    });
  });
  afterAll(async () => {
    await sshd?.dispose();
    await work?.cleanup();
  });

  it('copies an incremental chain to sftp whole, base first; the copy restores the source', async () => {
    const run = async () => {
      const result = await runCli(['run', '-c', config, '--json']);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { id: string };
    };
    const base = await run();
    await writeFile(join(source, 'README.md'), '# changed after the full shard\n');
    const first = await run();
    await rm(join(source, 'zero-bytes.bin'));
    await writeFile(join(source, 'new.txt'), 'new in the second incremental\n');
    const second = await run();

    const copy = await runCli(['copy', 'latest', '--from', 'disk', '--to', 'nas', '-c', config, '--json']);
    expect(copy.code, copy.stderr).toBe(0);
    const report = JSON.parse(copy.stdout) as CopyJson;
    expect(report.shards.map(({ id, type, status, link_of }) => ({ id, type, status, link_of }))).toEqual([
      { id: base.id, type: 'full', status: 'copied', link_of: second.id },
      { id: first.id, type: 'incremental', status: 'copied', link_of: second.id },
      { id: second.id, type: 'incremental', status: 'copied', link_of: undefined },
    ]);
    // The same bytes as on the disk, and nothing else (no temporary left).
    const disk = join(work.path, 'disk');
    expect((await readdir(nasFolder)).sort()).toEqual((await readdir(disk)).sort());
    for (const name of await readdir(disk)) {
      expect(await sha256File(join(nasFolder, name)), name).toBe(await sha256File(join(disk, name)));
    }
    await expectRestored(config, 'nas', join(work.path, 'restored'), source);
  });

  it('a copy stopped mid-archive leaves nothing that looks complete; copying again completes it', async () => {
    /** Starts the copy to the slow destination and sends `signal` once its upload has begun. */
    const stopMidway = async (signal: NodeJS.Signals) => {
      const copy = startCli(['copy', '--all', '--from', 'disk', '--to', 'nas-slow', '-c', config]);
      // At 1 MiB/s the 3 MiB full shard takes seconds: wait until its upload has begun.
      let started: string[] = [];
      for (let tries = 0; tries < 1200 && started.length === 0; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        started = await readdir(slowFolder);
      }
      expect(started.length, 'the upload never began').toBeGreaterThan(0);
      process.kill(copy.pid, signal);
      return copy.result;
    };
    // Ctrl-C: the upload is aborted and removes its temporary file before the process exits.
    const interrupted = await stopMidway('SIGINT');
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(await readdir(slowFolder)).toEqual([]);
    // SIGKILL: no chance to clean up, and still no sidecar.
    await stopMidway('SIGKILL');
    expect((await readdir(slowFolder)).filter((name) => name.endsWith('.manifest.json'))).toEqual([]);

    const resumed = await runCli([
      'copy',
      '--all',
      '--from',
      'disk',
      '--to',
      'nas-slow',
      '-c',
      config,
      '--json',
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as CopyJson).shards.map((shard) => shard.status)).toEqual([
      'copied',
      'copied',
      'copied',
    ]);
    // The killed upload's temporary (a dot file, never listed) waits for prune; the shards are whole.
    const disk = join(work.path, 'disk');
    const stored = (await readdir(slowFolder)).filter((name) => !name.startsWith('.'));
    expect(stored.sort()).toEqual((await readdir(disk)).sort());
    for (const name of await readdir(disk)) {
      expect(await sha256File(join(slowFolder, name)), name).toBe(await sha256File(join(disk, name)));
    }
  });

  it('verify --sample reads the sampled shard whole and finds its damaged file; the others by size only', async () => {
    // Uncompressed, so a file's bytes can be found in the archive and one of them changed.
    const plain = await writeConfig(
      work.path,
      {
        sources: [{ name: 'data', type: 'directory', path: source }],
        destinations: [{ name: 'plain', type: 'local', path: join(work.path, 'plain') }],
        compression: { algorithm: 'none' },
        retry: { max_retries: 0 },
      },
      'plain.yaml',
    );
    for (let n = 0; n < 2; n++) {
      const run = await runCli(['run', '-c', plain]);
      expect(run.code, run.stderr).toBe(0);
    }
    const folder = join(work.path, 'plain');
    const archives = (await readdir(folder)).filter((name) => name.endsWith('.tar'));
    expect(archives).toHaveLength(2);
    // Both damaged the same way, the size kept: only reading a shard whole can tell.
    for (const name of archives) {
      const bytes = await readFile(join(folder, name));
      const at = bytes.indexOf('small file 7\n');
      expect(at).toBeGreaterThan(0);
      bytes[at] ^= 0x20;
      await writeFile(join(folder, name), bytes);
    }

    const sample = await runCli(['verify', '--sample', '1', '-c', plain, '--json']);
    expect(sample.code).toBe(1);
    const lines = JSON.parse(sample.stdout).results as Array<{
      ok: boolean;
      sampled: boolean;
      problems: Array<{ path?: string; code: string }>;
    }>;
    const read = lines.filter((line) => line.sampled);
    const sizeOnly = lines.filter((line) => !line.sampled);
    expect(read).toHaveLength(1);
    expect(read[0]!.ok).toBe(false);
    expect(read[0]!.problems).toContainEqual(
      expect.objectContaining({ path: 'data/many/000/file-00007.txt', code: 'CONTENT_MISMATCH' }),
    );
    expect(sizeOnly).toMatchObject([{ ok: true, problems: [] }]);
  });
});
