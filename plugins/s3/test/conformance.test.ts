import { randomUUID } from 'node:crypto';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import plugin from '@matric-backup/plugin-s3';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, it } from 'vitest';

let server: S3TestServer;
let lastPrefix = '';
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(() => server?.dispose());

/** A fresh prefix in the test bucket; 5 MiB parts from 5 MiB on, so 12 and 64 MiB objects go multipart. */
function config(secret?: string) {
  lastPrefix = `t-${randomUUID()}/`;
  return {
    endpoint: server.endpoint,
    bucket: server.bucket,
    access_key_id: server.accessKeyId,
    secret_access_key: secret ?? server.secretAccessKey,
    prefix: lastPrefix,
    multipart_threshold: '5MiB',
    part_size: '5MiB',
  };
}

runDestinationConformance({
  name: 's3 (s3rver)',
  runner: { describe, it },
  plugin,
  config: () => config(),
  badCredentials: () => config('not-the-secret'),
  manyKeys: 2500,
  // What s3rver holds on disk under the prefix: finished objects and unfinished multipart uploads.
  rawList: async () => [
    ...server
      .storedKeys()
      .filter((key) => key.startsWith(lastPrefix))
      .map((key) => key.slice(lastPrefix.length)),
    ...unfinishedUploads(lastPrefix),
  ],
});

/** Multipart uploads under the prefix that were neither completed nor aborted. */
function unfinishedUploads(prefix: string): string[] {
  return server
    .pendingUploads()
    .filter((upload) => upload.key.startsWith(prefix))
    .map((upload) => `${upload.key.slice(prefix.length)}#unfinished-upload-${upload.uploadId}`);
}
