import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DELETE_BATCH } from '@matric-backup/plugin-s3';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { chunkedStream, collect, openTestDestination, sha256 } from './helpers.js';

let server: S3TestServer;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(() => server?.dispose());

function rawClient() {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
}

function storeDirectly(objectKey: string) {
  const path = server.storedObjectPath(objectKey);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, objectKey);
}

async function putSmall(destination: ReturnType<typeof openTestDestination>['destination'], key: string) {
  const data = Buffer.from(key);
  await destination.put(key, chunkedStream(data), { size: data.length, sha256: sha256(data) });
}

test('deleteMany removes more keys than one DeleteObjects call takes, and reports a key the server refused', async () => {
  const { destination, prefix } = openTestDestination(server);
  // One more than a batch: the harness refuses a DeleteObjects of more than 1,000 keys, as S3 does.
  const keys = Array.from({ length: DELETE_BATCH + 1 }, (_, i) => `many/${String(i).padStart(4, '0')}.bin`);
  // Written straight into s3rver's folder: 1,001 PutObjects would cost s3rver ~15 s.
  for (const key of keys) storeDirectly(`${prefix}${key}`);
  expect(await collect(destination.list('many/'))).toHaveLength(keys.length);
  // A key whose stored file is a folder cannot be unlinked, so the server fails that key alone.
  mkdirSync(server.storedObjectPath(`${prefix}stuck.bin`), { recursive: true });

  const result = await destination.deleteMany!([...keys, 'never-existed.bin', 'stuck.bin']);

  expect(result.failed.map((failure) => failure.key)).toEqual(['stuck.bin']);
  expect(result.failed[0]!.error).toMatchObject({ retryable: true, destination: 's3-test' });
  expect(result.failed[0]!.error.message).toContain(`${prefix}stuck.bin`);
  expect(await collect(destination.list('many/'))).toEqual([]);
  await destination.close();
});

test('list returns keys relative to the prefix, only under it, without folder placeholders', async () => {
  const { destination, prefix } = openTestDestination(server);
  const other = openTestDestination(server);
  await putSmall(destination, 'a/one.bin');
  await putSmall(destination, 'a/b/two.bin');
  await putSmall(destination, 'three.bin');
  await putSmall(other.destination, 'a/elsewhere.bin');
  // What web consoles create for "folders".
  const client = rawClient();
  await client.send(
    new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}a/`, Body: '', ContentLength: 0 }),
  );
  client.destroy();

  const listed = await collect(destination.list());
  expect(listed.map((object) => object.key).sort()).toEqual(['a/b/two.bin', 'a/one.bin', 'three.bin']);
  expect(listed.find((object) => object.key === 'three.bin')?.size).toBe('three.bin'.length);
  expect((await collect(destination.list('a/'))).map((object) => object.key).sort()).toEqual([
    'a/b/two.bin',
    'a/one.bin',
  ]);
  await destination.close();
  await other.destination.close();
});
