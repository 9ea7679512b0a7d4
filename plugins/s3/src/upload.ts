import { addAbortSignal, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { DestinationError, type PutOptions } from '@matric-backup/plugin-api';
import { fixedSizeParts, PartBuffers, readExactly } from './chunks.js';
import { choosePartSize, effectiveConcurrency } from './config.js';
import type { S3Target } from './target.js';

/** How long an interrupted multipart upload waits before it is aborted a second time. */
const REPEAT_ABORT_AFTER_MS = 500;

/**
 * Stores `body` under the full object key `key`. Small objects go up in one
 * PutObject, larger ones as a multipart upload that is aborted on any failure,
 * so S3 never shows a partial object and keeps no orphaned parts.
 */
export async function uploadObject(
  target: S3Target,
  key: string,
  body: Readable,
  options: PutOptions,
): Promise<void> {
  // Aborting destroys the source stream, which ends whichever read is pending.
  if (options.signal) addAbortSignal(options.signal, body);
  const { config } = target;
  const object = {
    Bucket: config.bucket,
    Key: key,
    ContentType: 'application/octet-stream',
    Metadata: { sha256: options.sha256 },
    StorageClass: config.storage_class as PutObjectCommand['input']['StorageClass'],
    ServerSideEncryption: config.sse,
    SSEKMSKeyId: config.sse_kms_key_id,
  };

  // If-None-Match: * makes S3 refuse an existing key atomically (AWS since 2024). Servers that
  // ignore the header (s3rver, older S3-compatible stores) are still refused a key that
  // exists before the upload starts, which also saves sending it.
  const IfNoneMatch = options.ifAbsent ? '*' : undefined;
  if (options.ifAbsent && (await exists(target, key, options.signal))) {
    throw new DestinationError(
      'ALREADY_EXISTS',
      `put "${key}" on bucket "${config.bucket}": the object exists; it was left as it is`,
      {
        retryable: false,
      },
    );
  }

  if (options.size <= config.multipart_threshold) {
    // Held in memory so the SDK can resend it on a transient error.
    const buffer = await readExactly(body, options.size);
    const command = new PutObjectCommand({
      ...object,
      Body: buffer,
      ContentLength: buffer.length,
      IfNoneMatch,
    });
    await target.client.send(command, { abortSignal: options.signal });
    options.onProgress?.(buffer.length);
    return;
  }

  const created = await target.client.send(new CreateMultipartUploadCommand(object), {
    abortSignal: options.signal,
  });
  const uploadId = created.UploadId;
  if (!uploadId) throw new DestinationError('UNKNOWN', `the server started no multipart upload for "${key}"`);
  try {
    const parts = await uploadParts(target, { key, uploadId }, body, options);
    await target.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: config.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        IfNoneMatch,
      }),
      { abortSignal: options.signal },
    );
  } catch (error) {
    await abortUpload(target, key, uploadId);
    if (options.signal?.aborted) {
      // Parts cancelled on the wire may still be written by the server after the abort, which
      // brings the upload back (S3 documents that an abort may need repeating; s3rver did it in
      // about one of four interrupted runs here). Once more, after a moment, finds it gone or removes it.
      await sleep(REPEAT_ABORT_AFTER_MS);
      await abortUpload(target, key, uploadId);
    }
    throw error;
  }
}

/**
 * Uploads the parts, at most `concurrency` at a time, reading the next part only
 * when a slot is free (memory stays at about partSize x (concurrency + 1)). The
 * first failure cancels the parts still in flight; returns once none is.
 */
async function uploadParts(
  target: S3Target,
  upload: { key: string; uploadId: string },
  body: Readable,
  options: PutOptions,
): Promise<CompletedPart[]> {
  const partSize = choosePartSize(options.size, target.config.part_size);
  const limit = effectiveConcurrency(partSize, target.config.concurrency);
  const buffers = new PartBuffers(partSize);
  const cancel = new AbortController();
  const onAbort = () => cancel.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const completed: CompletedPart[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let sent = 0;
  let partNumber = 0;
  try {
    for await (const part of fixedSizeParts(body, buffers, options.size)) {
      const PartNumber = ++partNumber;
      const command = new UploadPartCommand({
        Bucket: target.config.bucket,
        Key: upload.key,
        UploadId: upload.uploadId,
        PartNumber,
        Body: part,
        ContentLength: part.length,
      });
      const task: Promise<void> = target.client
        .send(command, { abortSignal: cancel.signal })
        .then(({ ETag }) => {
          if (!ETag)
            throw new DestinationError('UNKNOWN', `the server returned no ETag for part ${PartNumber}`);
          completed.push({ ETag, PartNumber });
          sent += part.length;
          buffers.give(part);
          options.onProgress?.(sent);
        })
        .catch((error: unknown) => {
          failure ??= { error };
          cancel.abort();
        })
        .finally(() => inflight.delete(task));
      inflight.add(task);
      if (inflight.size >= limit) await Promise.race(inflight);
      if (failure) break;
    }
  } catch (error) {
    failure ??= { error };
    cancel.abort();
  } finally {
    // A part still on the wire after AbortMultipartUpload could leave a stray part behind.
    await Promise.all(inflight);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure.error;
  return completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
}

/**
 * Whether the key exists, when a HeadObject can tell. A HeadObject that fails leaves
 * the verdict to the upload itself: its errors carry a body saying why (a HEAD's
 * cannot, so a wrong secret would show as a bare 403).
 */
async function exists(target: S3Target, key: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await target.client.send(new HeadObjectCommand({ Bucket: target.config.bucket, Key: key }), {
      abortSignal: signal,
    });
    return true;
  } catch {
    return false;
  }
}

async function abortUpload(target: S3Target, key: string, uploadId: string): Promise<void> {
  try {
    await target.client.send(
      new AbortMultipartUploadCommand({ Bucket: target.config.bucket, Key: key, UploadId: uploadId }),
    );
  } catch (error) {
    if ((error as { name?: string })?.name === 'NoSuchUpload') return;
    const reason = target.fail(error, 'abort multipart upload', key).message;
    target.log.warn(
      `could not abort multipart upload ${uploadId}: ${reason}. Its parts stay stored (and billed) until aborted; ` +
        'an AbortIncompleteMultipartUpload lifecycle rule on the bucket removes such leftovers.',
    );
  }
}
