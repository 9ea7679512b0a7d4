import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import type { DestinationSpec } from './helpers/config.js';
import { dataConfig, expectRestored, expectVerified, runToAll } from './helpers/fan-out.js';
import { generateTree, sha256File } from './helpers/tree.js';

// The CLI against a real S3 server: one run to a local folder and s3rver, then
// verify and restore from S3 alone; and the failures an operator meets first
// (wrong credentials, a missing bucket) with the message and exit code they get.
describe('s3 destination through the CLI', () => {
  let server: S3TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;
  let secretFile: string;
  const PREFIX = 'hosts/e2e/';

  const s3 = (overrides: Record<string, unknown> = {}): DestinationSpec => ({
    name: 'offsite',
    type: 's3',
    endpoint: server.endpoint,
    bucket: server.bucket,
    prefix: PREFIX,
    access_key_id: server.accessKeyId,
    secret_access_key_file: secretFile,
    // Small parts, so that this shard goes up as a real multipart upload.
    part_size: '5MiB',
    multipart_threshold: '5MiB',
    ...overrides,
  });
  const configWith = (name: string, destinations: DestinationSpec[]) =>
    dataConfig(work.path, source, name, destinations);

  beforeAll(async () => {
    server = await startS3Server();
    work = await tempDir('mb-e2e-s3-');
    source = join(work.path, 'source');
    await generateTree(source, { bigFileBytes: 12 * 1024 * 1024, smallFiles: 300 });
    secretFile = join(work.path, 's3.secret');
    await writeFile(secretFile, `${server.secretAccessKey}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await server?.dispose();
    await work?.cleanup();
  });

  describe('run to local + s3, then verify and restore from s3 alone', () => {
    let config: string;
    let shardId: string;

    beforeAll(async () => {
      config = await configWith('both.yaml', [
        { name: 'disk', type: 'local', path: join(work.path, 'disk') },
        s3(),
      ]);
    });

    it('stores the same shard bytes on both', async () => {
      const summary = await runToAll(config, ['disk', 'offsite']);
      shardId = summary.id;
      const objectKey = `${PREFIX}${summary.archive.key}`;
      expect(server.storedKeys()).toEqual(
        [`${PREFIX}${shardId}.index.json.zst`, `${PREFIX}${shardId}.manifest.json`, objectKey].sort(),
      );
      // What s3rver wrote to disk is the very shard the local destination holds.
      expect(await sha256File(server.storedObjectPath(objectKey))).toBe(summary.archive.sha256);
      expect(await sha256File(join(work.path, 'disk', summary.archive.key))).toBe(summary.archive.sha256);
      const metadata = JSON.parse(
        readFileSync(server.storedObjectPath(objectKey).replace(/object$/, 'metadata.json'), 'utf8'),
      );
      expect(metadata['x-amz-meta-sha256']).toBe(summary.archive.sha256);
    });

    it('verifies the shard on s3', async () => {
      await expectVerified(config, shardId, 'offsite');
    });

    it('restores from s3 to identical files', async () => {
      await expectRestored(config, 'offsite', join(work.path, 'restored'), source);
    });

    it('check reports the bucket as writable', async () => {
      const check = await runCli(['check', '-d', 'offsite', '-c', config]);
      expect(check.code, check.stderr).toBe(0);
      expect(check.stdout).toMatch(/ok\s+offsite \(s3\): bucket "matric-test" \(prefix "hosts\/e2e\/"\)/);
    });
  });

  it('wrong credentials: run and check fail with AUTH_FAILED, the secret nowhere in the output', async () => {
    const wrongSecret = join(work.path, 'wrong.secret');
    await writeFile(wrongSecret, 'not-the-secret-9Xq2\n', { mode: 0o600 });
    const config = await configWith('wrong-credentials.yaml', [s3({ secret_access_key_file: wrongSecret })]);

    const run = await runCli(['run', '-c', config, '--json']);
    expect(run.code).toBe(1);
    const [result] = JSON.parse(run.stdout).destinations;
    expect(result).toMatchObject({
      name: 'offsite',
      status: 'failed',
      error: { code: 'AUTH_FAILED', retryable: false },
    });
    expect(result.error.message).toContain('SignatureDoesNotMatch');

    const check = await runCli(['check', '-c', config]);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/error: destination "offsite": .*refused.*SignatureDoesNotMatch/);
    for (const output of [run.stdout, run.stderr, check.stdout, check.stderr]) {
      expect(output).not.toContain('not-the-secret-9Xq2');
    }
  });

  it('missing bucket: run and check fail with a CONFIG error naming it', async () => {
    const config = await configWith('missing-bucket.yaml', [s3({ bucket: 'no-such-bucket' })]);

    const run = await runCli(['run', '-c', config]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAILED\s+offsite\s+CONFIG: bucket "no-such-bucket" does not exist/);
    expect(run.stderr).toContain('bucket "no-such-bucket" does not exist');

    const check = await runCli(['check', '-c', config, '--json']);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).destinations).toMatchObject([
      {
        name: 'offsite',
        status: 'failed',
        error: { code: 'CONFIG', message: expect.stringContaining('"no-such-bucket"') },
      },
    ]);
  });
});
