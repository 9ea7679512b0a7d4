import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chunkedStream, openTestDestination, randomData, readAll, sha256 } from './helpers.js';

const MiB = 1024 * 1024;
let server: S3TestServer;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(() => server?.dispose());

/** Unfinished multipart uploads of one test's prefix. */
function pendingUploads(prefix: string) {
  return server.pendingUploads().filter((upload) => upload.key.startsWith(prefix));
}

function storedMetadata(objectKey: string): Record<string, string> {
  const path = server.storedObjectPath(objectKey).replace(/object$/, 'metadata.json');
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe.each(['when_required', 'when_supported'] as const)('checksums: %s', (checksums) => {
  test('a streamed multipart upload is stored byte for byte, with its sha256 as metadata', async () => {
    const { destination, prefix } = openTestDestination(server, { checksums, part_size: '5MiB' });
    const data = randomData(17 * MiB + 3);
    const progress: number[] = [];
    await destination.put('shard.tar.zst', chunkedStream(data), {
      size: data.length,
      sha256: sha256(data),
      onProgress: (bytes) => progress.push(bytes),
    });

    // The file s3rver wrote: aws-chunked framing or a lost byte would show here.
    const stored = readFileSync(server.storedObjectPath(`${prefix}shard.tar.zst`));
    expect(stored.length).toBe(data.length);
    expect(stored.equals(data)).toBe(true);
    expect(storedMetadata(`${prefix}shard.tar.zst`)['x-amz-meta-sha256']).toBe(sha256(data));
    expect((await readAll(await destination.get('shard.tar.zst'))).equals(data)).toBe(true);
    // 4 parts of 5 MiB (the last one 2 MiB + 3 bytes), reported as each lands.
    expect(progress).toHaveLength(4);
    expect(progress.at(-1)).toBe(data.length);
    await destination.close();
  });

  test('a small object goes up in one request, byte for byte', async () => {
    const { destination, prefix } = openTestDestination(server, { checksums });
    const data = randomData(MiB + 1);
    await destination.put('small.bin', chunkedStream(data, 1000), {
      size: data.length,
      sha256: sha256(data),
    });
    expect(readFileSync(server.storedObjectPath(`${prefix}small.bin`)).equals(data)).toBe(true);
    expect(storedMetadata(`${prefix}small.bin`)['x-amz-meta-sha256']).toBe(sha256(data));
    expect(pendingUploads(prefix)).toEqual([]);
    await destination.close();
  });
});

test('aborting mid-multipart aborts the upload on the server: no object, no parts left', async () => {
  const { destination, prefix } = openTestDestination(server, {
    part_size: '5MiB',
    multipart_threshold: '5MiB',
  });
  const data = randomData(20 * MiB);
  const controller = new AbortController();
  // 12 MiB arrive, then the source stalls (as one whose producer is gone); only the signal ends the put.
  let pushed = false;
  const body = new Readable({
    read() {
      if (!pushed) this.push(data.subarray(0, 12 * MiB));
      pushed = true;
    },
  });
  let firstPartStored: () => void = () => {};
  const firstPart = new Promise<void>((resolve) => (firstPartStored = resolve));
  const outcome = destination
    .put('aborted.bin', body, {
      size: data.length,
      sha256: sha256(data),
      signal: controller.signal,
      onProgress: () => firstPartStored(),
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  await firstPart;
  // The upload really is under way on the server before we abort it.
  expect(pendingUploads(prefix)).toHaveLength(1);
  controller.abort();
  const error = await outcome;

  expect(error).toMatchObject({ code: 'ABORTED', retryable: false });
  expect(await destination.stat('aborted.bin')).toBeUndefined();
  expect(pendingUploads(prefix)).toEqual([]);
  await destination.close();
});

test.each([
  ['shorter', 10 * MiB - 1],
  ['longer', 10 * MiB + 1],
])('a source %s than announced is refused (INTEGRITY) and nothing is stored', async (_, actual) => {
  const { destination, prefix } = openTestDestination(server, {
    part_size: '5MiB',
    multipart_threshold: '5MiB',
  });
  const data = randomData(actual);
  await expect(
    destination.put('wrong-size.bin', chunkedStream(data), { size: 10 * MiB, sha256: sha256(data) }),
  ).rejects.toMatchObject({ code: 'INTEGRITY', retryable: false });
  expect(await destination.stat('wrong-size.bin')).toBeUndefined();
  expect(pendingUploads(prefix)).toEqual([]);
  await destination.close();
});

test('unfinished multipart uploads: s3rver cannot list them (a warning, none listed); deleteTemporary aborts one by upload id', async () => {
  const { destination, raw, prefix, warnings } = openTestDestination(server);
  const client = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  // What a run killed mid-upload leaves: an upload with a part and no completion.
  const key = 'backup_20260101_000000_abcdefgh.tar.zst';
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: `${prefix}${key}` }),
  );
  await client.send(
    new UploadPartCommand({
      Bucket: server.bucket,
      Key: `${prefix}${key}`,
      UploadId,
      PartNumber: 1,
      Body: randomData(1024),
    }),
  );
  expect(pendingUploads(prefix)).toHaveLength(1);

  const listed = [];
  for await (const leftover of destination.listTemporary!()) listed.push(leftover);
  expect(listed).toEqual([]);
  expect(warnings.join('\n')).toMatch(/cannot list unfinished multipart uploads \(NotImplemented\)/);

  const leftover = { name: UploadId!, key, size: 1024, modified: new Date() };
  await destination.deleteTemporary!(leftover);
  expect(pendingUploads(prefix)).toEqual([]);
  // Idempotent: an upload already gone is fine.
  await raw.deleteTemporary!(leftover);
  client.destroy();
  await destination.close();
});
