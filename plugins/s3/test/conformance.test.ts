import { runDestinationConformance } from '@matric-backup/destination-testkit';
import plugin from '@matric-backup/plugin-s3';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll } from 'vitest';
import { openTestDestination } from './helpers.js';

let server: S3TestServer;
let lastPrefix = '';
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(() => server?.dispose());

runDestinationConformance({
  name: 's3 (s3rver)',
  factory: async () => {
    // 5 MiB parts from 5 MiB on, so the suite's 12 MiB and 64 MiB objects take the multipart path.
    const { raw, prefix } = openTestDestination(server, {
      multipart_threshold: '5MiB',
      part_size: '5MiB',
    });
    lastPrefix = prefix;
    return raw;
  },
  capabilities: plugin.capabilities,
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
