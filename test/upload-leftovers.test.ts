import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type S3TestServer,
  type SmbServer,
  type SshServer,
  startS3Server,
  startSmbServer,
  startSshServer,
} from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, tempDir } from './helpers/cli.js';
import { type DestinationSpec, filesUnder, writeConfig } from './helpers/config.js';

// A run killed with SIGKILL in the middle of an upload leaves the upload's temporary
// object behind (nothing is left to remove it). `prune` of that config removes it once
// it is a day old, and never another config's leftover or a complete shard.

const MiB = 1024 * 1024;
const FOLDER = 'shared/shards';
const TWO_DAYS_AGO = new Date(Date.now() - 2 * 86_400_000);

let s3: S3TestServer;
let sshd: SshServer;
let smbd: SmbServer;
let work: Awaited<ReturnType<typeof tempDir>>;
let source: string;
let passwordFile: string;

beforeAll(async () => {
  [s3, sshd, smbd] = await Promise.all([startS3Server(), startSshServer(), startSmbServer()]);
  work = await tempDir('mb-e2e-leftovers-');
  source = join(work.path, 'source');
  await mkdir(source);
  // Random bytes zstd cannot shrink: an upload that lasts long enough to be cut.
  const file = await open(join(source, 'random.bin'), 'w');
  for (let i = 0; i < 12; i++) await file.write(randomBytes(8 * MiB));
  await file.close();
  passwordFile = join(work.path, 'smb.password');
  await (await open(passwordFile, 'w', 0o600)).writeFile(`${smbd.password}\n`);
});
afterAll(async () => {
  await Promise.all([s3?.dispose(), sshd?.stop(), smbd?.stop()]);
  await work?.cleanup();
});

interface Shared {
  destination: () => DestinationSpec;
  /** The temporary objects of unfinished uploads on the server, as names the plugin lists. */
  temporaries: () => string[];
  /** The server's folder behind the destination, for files; undefined for S3. */
  folder?: () => string;
}

const temporaryFiles = (root: string) => () =>
  readdirSafe(root).filter((name) => /^\..+\.tmp-[0-9a-f]{12}$/.test(name));

const destinations: Record<string, Shared> = {
  local: {
    // Paced: the spool is otherwise linked into place and its fsync written back while archiving, so the
    // temporary object lives too briefly for the kill to land while it exists.
    destination: () => ({
      name: 'shared',
      type: 'local',
      path: join(work.path, 'local-folder'),
      bandwidth_limit: '48MiB/s',
    }),
    temporaries: () => temporaryFiles(join(work.path, 'local-folder'))(),
    folder: () => join(work.path, 'local-folder'),
  },
  sftp: {
    destination: () => ({
      name: 'shared',
      type: 'sftp',
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      path: join(sshd.root, FOLDER),
      ssh_key: sshd.keyPath,
      known_hosts: sshd.knownHostsPath,
    }),
    temporaries: () => temporaryFiles(join(sshd.root, FOLDER))(),
    folder: () => join(sshd.root, FOLDER),
  },
  smb: {
    destination: () => ({
      name: 'shared',
      type: 'smb',
      share: `//${smbd.host}/${smbd.share}`,
      port: smbd.port,
      path: FOLDER,
      username: smbd.username,
      password_file: passwordFile,
    }),
    temporaries: () => temporaryFiles(join(smbd.root, FOLDER))(),
    folder: () => join(smbd.root, FOLDER),
  },
  s3: {
    destination: () => ({
      name: 'shared',
      type: 's3',
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      prefix: 'leftovers/',
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
      part_size: '5MiB',
      multipart_threshold: '5MiB',
    }),
    temporaries: () =>
      s3
        .pendingUploads()
        .filter((upload) => upload.key.startsWith('leftovers/'))
        .map((upload) => upload.uploadId),
  },
};

function readdirSafe(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}

/** A config of its own folder (own state, own lock) with an explicit name, so its id tag is known. */
async function configFor(name: string, destination: DestinationSpec): Promise<string> {
  const dir = join(work.path, `${name}-${destination.type}`);
  await mkdir(dir, { recursive: true });
  return writeConfig(dir, {
    name,
    sources: [{ name: 'data', type: 'directory', path: source }],
    destinations: [destination],
    retention: { keep_last: 3 },
    retry: { max_retries: 0 },
  });
}

/** Starts a run and SIGKILLs it as soon as the destination holds a temporary object of its upload. */
async function killMidUpload(config: string, shared: Shared): Promise<string[]> {
  const before = new Set(shared.temporaries());
  const run = startCli(['run', '-c', config], { timeoutMs: 170_000 });
  let settled = false;
  void run.result.then(() => (settled = true));
  const deadline = Date.now() + 150_000;
  for (;;) {
    const fresh = shared.temporaries().filter((name) => !before.has(name));
    if (fresh.length > 0) {
      process.kill(run.pid, 'SIGKILL');
      const result = await run.result;
      expect(result.code).toBe(128);
      return fresh;
    }
    if (settled)
      throw new Error(`the run ended before its upload could be cut: ${(await run.result).stderr}`);
    if (Date.now() > deadline) throw new Error('no temporary object appeared within 150 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Waits until the file has kept its size for 2 s. smbclient reads the spool file
 * itself and is a process of its own: it finishes writing the temporary file after
 * the CLI that started it was killed (then finds no one to tell and exits).
 */
async function stopsGrowing(path: string): Promise<void> {
  let last = -1;
  for (let i = 0; i < 60; i++) {
    const { size } = await stat(path);
    if (size === last) return;
    last = size;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

interface PruneJson {
  destinations: Array<{ leftovers: Array<{ name: string; key: string; action: string }>; deleted: string[] }>;
}

describe.each(Object.keys(destinations))('a run killed mid-upload to %s', (type) => {
  const shared = destinations[type]!;
  let mine: string;
  let theirs: string;
  let leftovers: string[];
  let theirShard: string[];

  beforeAll(async () => {
    mine = await configFor('alpha', shared.destination());
    theirs = await configFor('beta', shared.destination());
    expect((await runCli(['run', '-c', theirs])).code).toBe(0);
    leftovers = await killMidUpload(mine, shared);
    if (shared.folder) {
      theirShard = (await readdir(shared.folder())).filter((name) => name.startsWith('backup_'));
      // The other config's own killed upload, a day old too: a copy of ours under its tag.
      const theirTag = theirShard[0]!.split('_')[3]!.split('.')[0]!;
      const ours = leftovers[0]!;
      await stopsGrowing(join(shared.folder(), ours));
      const mineTag = ours.split('_')[3]!.split('.')[0]!;
      await copyFile(join(shared.folder(), ours), join(shared.folder(), ours.replace(mineTag, theirTag)));
      for (const name of shared.temporaries())
        await utimes(join(shared.folder(), name), TWO_DAYS_AGO, TWO_DAYS_AGO);
    }
  }, 300_000);

  it('leaves the temporary object of its upload behind, hidden from list', async () => {
    expect(leftovers).toHaveLength(1);
    const list = await runCli(['list', '--json', '-c', mine]);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain('.tmp-');
  });

  it.runIf(type !== 's3')(
    "prune --dry-run lists this config's day-old leftover and deletes nothing; prune removes exactly it",
    async () => {
      const folder = shared.folder!();
      const before = await filesUnder(folder);
      const dry = await runCli(['prune', '--dry-run', '--json', '-c', mine]);
      expect(dry.code).toBe(0);
      const planned = (JSON.parse(dry.stdout) as PruneJson).destinations[0]!.leftovers;
      expect(planned).toEqual([
        expect.objectContaining({ name: leftovers[0], key: leftovers[0]!.slice(1, -17), action: 'delete' }),
      ]);
      expect(await filesUnder(folder)).toEqual(before);
      const table = await runCli(['prune', '--dry-run', '-c', mine]);
      expect(table.stdout).toContain(
        `temporary object of an unfinished upload of ${leftovers[0]!.slice(1, -17)}`,
      );

      const pruned = await runCli(['prune', '--json', '-c', mine]);
      expect(pruned.code).toBe(0);
      const after = await filesUnder(folder);
      expect(after).toEqual(before.filter((name) => name !== leftovers[0]));
      // The other config's leftover and its complete shard are still there.
      for (const name of theirShard) expect(after).toContain(name);
      expect(after.filter((name) => name.endsWith(`.tmp-${leftovers[0]!.slice(-12)}`))).toHaveLength(1);
    },
  );

  it.runIf(type === 's3')(
    's3rver cannot list unfinished multipart uploads: prune says so, exits 0, and the upload stays',
    async () => {
      const pruned = await runCli(['prune', '--json', '-c', mine]);
      expect(pruned.code).toBe(0);
      expect(pruned.stderr).toMatch(/cannot list unfinished multipart uploads \(NotImplemented\)/);
      expect(shared.temporaries()).toEqual(leftovers);
      expect(
        s3.storedKeys().filter((key) => key.startsWith('leftovers/') && key.endsWith('.manifest.json')),
      ).toHaveLength(1);
    },
  );
});
