import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Destination, guardDestination, type PluginLogger } from '@matric-backup/core';
import { createS3Destination, type S3ConfigInput, s3ConfigSchema } from '@matric-backup/plugin-s3';
import type { S3TestServer } from '@matric-backup/test-servers';

export interface TestDestination {
  /** Wrapped by core's guard, as core hands it out. */
  destination: Destination;
  /** The plugin's own object, unwrapped. */
  raw: Destination;
  /** Every warning the plugin logged. */
  warnings: string[];
  prefix: string;
}

/** The plugin as core hands it out (guarded), on a fresh prefix so tests never see each other's keys. */
export function openTestDestination(
  server: S3TestServer,
  overrides: Partial<S3ConfigInput> = {},
): TestDestination {
  const prefix = `t-${randomUUID()}/`;
  const warnings: string[] = [];
  const log: PluginLogger = { debug() {}, info() {}, warn: (message) => warnings.push(message) };
  const config = s3ConfigSchema.parse({
    endpoint: server.endpoint,
    bucket: server.bucket,
    access_key_id: server.accessKeyId,
    secret_access_key: server.secretAccessKey,
    prefix,
    ...overrides,
  });
  const raw = createS3Destination(config, { log });
  return { destination: guardDestination('s3-test', raw), raw, warnings, prefix };
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Random bytes delivered in uneven chunks, as a file or pipeline would. */
export function chunkedStream(data: Buffer, chunkSize = 64 * 1024 + 7): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < data.length; offset += chunkSize)
        yield data.subarray(offset, offset + chunkSize);
    })(),
  );
}

export function randomData(size: number): Buffer {
  return randomBytes(size);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
