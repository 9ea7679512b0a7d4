import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import type { DeleteManyResult, ObjectInfo } from '@matric-backup/plugin-api';
import type { S3Target } from './target.js';

/** DeleteObjects takes at most this many keys a request. */
export const DELETE_BATCH = 1000;

/** Every object under the destination's prefix + `prefix`, one page (1,000 keys) at a time. */
export async function* listObjects(
  target: S3Target,
  prefix: string,
  signal?: AbortSignal,
): AsyncGenerator<ObjectInfo> {
  const base = target.config.prefix;
  let ContinuationToken: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await target.client.send(
        new ListObjectsV2Command({ Bucket: target.config.bucket, Prefix: base + prefix, ContinuationToken }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw target.fail(error, 'list', base + prefix);
    }
    for (const object of page.Contents ?? []) {
      // Folder placeholders ("a/") made by web consoles are not objects of ours.
      if (!object.Key || object.Key.endsWith('/')) continue;
      yield {
        key: object.Key.slice(base.length),
        size: object.Size ?? 0,
        modified: object.LastModified ?? new Date(0),
      };
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
}

/**
 * Deletes many keys with DeleteObjects, 1,000 a request. Missing keys count as
 * deleted (S3 reports them so). A key the server refuses is returned in `failed`;
 * a request that fails as a whole throws, after the batches before it were done.
 */
export async function deleteObjects(
  target: S3Target,
  keys: readonly string[],
  signal?: AbortSignal,
): Promise<DeleteManyResult> {
  const failed: DeleteManyResult['failed'] = [];
  for (let start = 0; start < keys.length; start += DELETE_BATCH) {
    const batch = keys.slice(start, start + DELETE_BATCH);
    const byObjectKey = new Map(batch.map((key) => [target.objectKey(key), key]));
    let result: DeleteObjectsCommandOutput;
    try {
      result = await target.client.send(
        new DeleteObjectsCommand({
          Bucket: target.config.bucket,
          Delete: { Objects: [...byObjectKey.keys()].map((Key) => ({ Key })), Quiet: true },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw target.fail(error, 'delete', `${batch.length} keys from ${target.objectKey(batch[0]!)}`);
    }
    for (const entry of result.Errors ?? []) {
      const key = (entry.Key && byObjectKey.get(entry.Key)) ?? entry.Key ?? '?';
      if (entry.Code === 'NoSuchKey') continue;
      // Shaped like an SDK error so that the per-key code maps like a whole-request one.
      const refusal = Object.assign(new Error(entry.Message ?? entry.Code ?? 'refused'), {
        name: entry.Code ?? 'Error',
      });
      failed.push({ key, error: target.fail(refusal, 'delete', target.objectKey(key)) });
    }
  }
  return { failed };
}
