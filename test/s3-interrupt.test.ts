import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startCli, tempDir } from './helpers/cli.js';
import { filesUnder, writeConfig } from './helpers/config.js';

const MiB = 1024 * 1024;
const PREFIX = 'interrupted/';

let server: S3TestServer;
let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  server = await startS3Server();
  work = await tempDir('mb-e2e-s3-kill-');
  // Shared by both tests.
  await mkdir(join(work.path, 'source'));
  await writeRandomFile(join(work.path, 'source', 'random.bin'), 300 * MiB);
});
afterAll(async () => {
  await server?.dispose();
  await work?.cleanup();
});

/** 300 MB that zstd cannot shrink, so the upload takes long enough to be cut. */
async function writeRandomFile(path: string, size: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; written += 8 * MiB)
      await file.write(randomBytes(Math.min(8 * MiB, size - written)));
  } finally {
    await file.close();
  }
}

/** Resolves once s3rver holds at least one part of a multipart upload: the upload is under way. */
async function firstPartStored(timeoutMs: number): Promise<void> {
  const uploads = join(server.directory, server.bucket, '._S3rver_uploads');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      existsSync(uploads) &&
      readdirSync(uploads).some((id) => readdirSync(join(uploads, id)).includes('1'))
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no multipart upload began within ${timeoutMs} ms`);
}

it('the S3 server dying mid-upload: exit 3, the local copy is whole, and S3 holds no partial object', async () => {
  const source = join(work.path, 'source');
  const disk = join(work.path, 'disk');
  const config = await writeConfig(work.path, {
    sources: [{ name: 'data', type: 'directory', path: source }],
    destinations: [
      { name: 'disk', type: 'local', path: disk },
      {
        name: 'offsite',
        type: 's3',
        endpoint: server.endpoint,
        bucket: server.bucket,
        prefix: PREFIX,
        access_key_id: server.accessKeyId,
        secret_access_key: server.secretAccessKey,
        part_size: '5MiB',
        concurrency: 2,
      },
    ],
    // One quick retry: it meets the dead server too.
    retry: { max_retries: 1, initial_delay: '200ms' },
  });

  const running = runCli(['run', '-c', config, '--json'], { timeoutMs: 170_000 });
  await firstPartStored(120_000);
  await server.stop();
  const run = await running;

  expect(run.code, run.stderr).toBe(3);
  const summary = JSON.parse(run.stdout);
  expect(summary.status).toBe('partial');
  const byName = Object.fromEntries(summary.destinations.map((d: { name: string }) => [d.name, d]));
  expect(byName.disk.status).toBe('success');
  expect(byName.offsite).toMatchObject({
    status: 'failed',
    attempts: 2,
    error: { code: 'UNREACHABLE', retryable: true },
  });

  // The local destination has the complete shard, and it verifies.
  expect(await filesUnder(disk)).toEqual(
    [`${summary.id}.index.json.zst`, `${summary.id}.manifest.json`, summary.archive.key].sort(),
  );
  const verify = await runCli(['verify', summary.id, '-d', 'disk', '-c', config]);
  expect(verify.code, verify.stderr).toBe(0);

  // Back on the same folder, the bucket shows nothing of the shard.
  await server.restart();
  expect(server.storedKeys()).toEqual([]);
  const check = await runCli(['check', '-d', 'offsite', '-c', config]);
  expect(check.code, check.stderr).toBe(0);
  const list = await runCli(['list', '-d', 'offsite', '-c', config, '--json']);
  expect(list.code, list.stderr).toBe(0);
  expect(JSON.parse(list.stdout).destinations).toMatchObject([{ complete: [], incomplete: [] }]);
});

it('SIGTERM mid-upload: the upload is aborted, exit 143, and S3 holds no object and no multipart upload', async () => {
  const source = join(work.path, 'source');
  const dir = join(work.path, 'sigterm');
  await mkdir(dir);
  const config = await writeConfig(dir, {
    sources: [{ name: 'data', type: 'directory', path: source }],
    destinations: [
      {
        name: 'offsite',
        type: 's3',
        endpoint: server.endpoint,
        bucket: server.bucket,
        prefix: 'sigterm/',
        access_key_id: server.accessKeyId,
        secret_access_key: server.secretAccessKey,
        part_size: '5MiB',
        concurrency: 2,
      },
    ],
  });
  const uploads = join(server.directory, server.bucket, '._S3rver_uploads');
  const uploadIds = () => (existsSync(uploads) ? readdirSync(uploads) : []);
  // The test above may have left its cut-off upload behind (its server was dead, nothing could abort it).
  const before = new Set(uploadIds());
  const ours = () => uploadIds().filter((id) => !before.has(id));
  const running = startCli(['run', '-c', config], { timeoutMs: 170_000 });
  const deadline = Date.now() + 120_000;
  while (!ours().some((id) => readdirSync(join(uploads, id)).includes('1'))) {
    if (Date.now() > deadline) throw new Error('no multipart upload began within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.kill(running.pid, 'SIGTERM');
  const run = await running.result;

  expect(run.code, run.stderr).toBe(143);
  expect(run.stderr).toContain('uploads in flight were aborted');
  expect(server.storedKeys().filter((key) => key.startsWith('sigterm/'))).toEqual([]);
  expect(ours()).toEqual([]);
  expect(readdirSync(join(dir, 'state')).filter((name) => name.endsWith('.lock'))).toEqual([]);
});
