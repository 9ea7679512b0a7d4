import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  type CheckResult,
  type Destination,
  DestinationError,
  type PluginContext,
} from '@matric-backup/plugin-api';
import { createS3Client } from './client.js';
import type { S3Config } from './config.js';
import { withMappedErrors } from './download.js';
import { describeServer } from './errors.js';
import { abortMultipartLeftover, listMultipartLeftovers } from './multipart-leftovers.js';
import { deleteObjects, listObjects } from './objects.js';
import { createTarget, type S3Target } from './target.js';
import { uploadObject } from './upload.js';

/** A Destination over one bucket (and prefix); keys map to `<prefix><key>`. */
export function createS3Destination(config: S3Config, context: Pick<PluginContext, 'log'>): Destination {
  const target = createTarget(createS3Client(config), config, context.log);
  const { client } = target;
  const Bucket = config.bucket;

  return {
    async put(key, body, options) {
      const objectKey = target.objectKey(key);
      try {
        await uploadObject(target, objectKey, body, options);
      } catch (error) {
        throw target.fail(error, 'put', objectKey);
      }
    },

    async get(key, options) {
      const objectKey = target.objectKey(key);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket, Key: objectKey }), {
          abortSignal: options?.signal,
        });
        return withMappedErrors(response.Body as Readable, (error) => target.fail(error, 'get', objectKey));
      } catch (error) {
        throw target.fail(error, 'get', objectKey);
      }
    },

    list(prefix = '', options) {
      return listObjects(target, prefix, options?.signal);
    },

    async stat(key, options) {
      const objectKey = target.objectKey(key);
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: objectKey }), {
          abortSignal: options?.signal,
        });
        return { key, size: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) };
      } catch (error) {
        const mapped = target.fail(error, 'stat', objectKey);
        if (mapped.code === 'NOT_FOUND') return undefined;
        throw mapped;
      }
    },

    async delete(key, options) {
      const objectKey = target.objectKey(key);
      try {
        // S3 answers 204 for a missing key too, so this is idempotent as it stands.
        await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey }), {
          abortSignal: options?.signal,
        });
      } catch (error) {
        throw target.fail(error, 'delete', objectKey);
      }
    },

    deleteMany(keys, options) {
      return deleteObjects(target, keys, options?.signal);
    },

    listTemporary() {
      return listMultipartLeftovers(target);
    },

    deleteTemporary(leftover) {
      return abortMultipartLeftover(target, leftover);
    },

    check() {
      return checkBucket(target);
    },

    async close() {
      client.destroy();
    },
  };
}

/**
 * The bucket exists and we may list, write and delete in it (what runs, list and
 * retention need). A one-key listing rather than HeadBucket: its errors carry a body,
 * so a refusal says why (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied).
 */
async function checkBucket(target: S3Target): Promise<CheckResult> {
  const { client, config } = target;
  const where = `bucket "${config.bucket}"${config.prefix ? ` (prefix "${config.prefix}")` : ''} on ${describeServer(config.endpoint)}`;
  try {
    await client.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: config.prefix, MaxKeys: 1 }));
  } catch (error) {
    throw target.fail(error, 'check');
  }
  const probe = target.objectKey(`.matric-backup-check-${randomUUID()}`);
  try {
    await client.send(
      new PutObjectCommand({ Bucket: config.bucket, Key: probe, Body: 'probe', ContentLength: 5 }),
    );
  } catch (error) {
    throw notPermitted(target.fail(error, 'write probe', probe), `${where} exists but is not writable`);
  }
  try {
    await client.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: probe }));
  } catch (error) {
    throw notPermitted(
      target.fail(error, 'delete probe', probe),
      `${where} is writable but refuses deletes (retention needs them); remove "${probe}" by hand`,
    );
  }
  return { details: [`${where} exists`, 'listing, writing and deleting objects works'] };
}

/** Credentials that reach the bucket but may not write are a permission problem, not an auth one. */
function notPermitted(error: DestinationError, message: string): DestinationError {
  if (error.code !== 'AUTH_FAILED') return error;
  return new DestinationError('PERMISSION_DENIED', message, {
    cause: error,
    retryable: false,
    hint: error.hint,
  });
}
