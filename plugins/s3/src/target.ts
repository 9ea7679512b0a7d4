import type { S3Client } from '@aws-sdk/client-s3';
import type { DestinationError, PluginLogger } from '@matric-backup/plugin-api';
import type { S3Config } from './config.js';
import { describeServer, mapS3Error } from './errors.js';

/** What every operation needs: the client, the settings, and how to report a failure. */
export interface S3Target {
  client: S3Client;
  config: S3Config;
  log: PluginLogger;
  /** The object key in the bucket for a destination key. */
  objectKey(key: string): string;
  /** Maps an SDK error to a DestinationError naming the operation and key. */
  fail(error: unknown, operation: string, key?: string): DestinationError;
}

export function createTarget(client: S3Client, config: S3Config, log: PluginLogger): S3Target {
  const server = describeServer(config.endpoint);
  return {
    client,
    config,
    log,
    objectKey: (key) => config.prefix + key,
    fail: (error, operation, key) => mapS3Error(error, { bucket: config.bucket, server, operation, key }),
  };
}
