import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  type ListPartsCommandOutput,
} from '@aws-sdk/client-s3';
import type { TemporaryObject } from '@matric-backup/plugin-api';
import type { S3Target } from './target.js';

/**
 * Unfinished multipart uploads under the prefix (a killed run's upload keeps its
 * parts, billed, until aborted): ListMultipartUploads, then ListParts for each
 * one's size. `name` is the upload id, which deleteTemporary needs to abort it.
 * A server without ListMultipartUploads (s3rver, some S3-compatible stores)
 * answers NotImplemented: then none are listed, with a warning naming the
 * lifecycle rule that removes them instead.
 */
export async function* listMultipartLeftovers(target: S3Target): AsyncGenerator<TemporaryObject> {
  const { bucket, prefix } = target.config;
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  do {
    let page: ListMultipartUploadsCommandOutput;
    try {
      page = await target.client.send(
        new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, UploadIdMarker }),
      );
    } catch (error) {
      if ((error as { name?: string })?.name === 'NotImplemented') {
        target.log.warn(
          `bucket "${bucket}": the server cannot list unfinished multipart uploads (NotImplemented), so those of killed uploads are not removed; an AbortIncompleteMultipartUpload lifecycle rule on the bucket removes them`,
        );
        return;
      }
      throw target.fail(error, 'list unfinished multipart uploads', prefix);
    }
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId) continue;
      yield {
        name: upload.UploadId,
        key: upload.Key.slice(prefix.length),
        size: await partsSize(target, upload.Key, upload.UploadId),
        modified: upload.Initiated ?? new Date(0),
      };
    }
    [KeyMarker, UploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [];
  } while (KeyMarker !== undefined);
}

async function partsSize(target: S3Target, key: string, uploadId: string): Promise<number> {
  let size = 0;
  let PartNumberMarker: string | undefined;
  do {
    let page: ListPartsCommandOutput;
    try {
      page = await target.client.send(
        new ListPartsCommand({
          Bucket: target.config.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumberMarker,
        }),
      );
    } catch (error) {
      throw target.fail(error, 'list parts of', key);
    }
    for (const part of page.Parts ?? []) size += part.Size ?? 0;
    PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (PartNumberMarker !== undefined);
  return size;
}

/** Aborts one unfinished upload listed by listMultipartLeftovers; an upload already gone is fine. */
export async function abortMultipartLeftover(target: S3Target, leftover: TemporaryObject): Promise<void> {
  const key = target.objectKey(leftover.key);
  try {
    await target.client.send(
      new AbortMultipartUploadCommand({ Bucket: target.config.bucket, Key: key, UploadId: leftover.name }),
    );
  } catch (error) {
    if ((error as { name?: string })?.name === 'NoSuchUpload') return;
    throw target.fail(error, 'abort multipart upload', key);
  }
}
