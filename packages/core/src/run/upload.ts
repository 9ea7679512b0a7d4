import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import { DestinationError, isDestinationError } from '@matric-backup/plugin-api';
import { type RetryPolicy, withRetries } from '../destination/retry.js';
import { readSmallObject } from '../shard/read.js';
import { interruptSignal } from '../util/interrupt.js';
import { type Warning, warning } from '../util/warning.js';
import { throttle } from './throttle.js';
import type { DestinationResult, RunEvent } from './types.js';

export interface UploadJob {
  name: string;
  type: string;
  required: boolean;
  destination: Destination;
  /** The finished spool file; each attempt reads it with a fresh stream. */
  file: string;
  /** Send it as a stream only, never as the file (see SpoolFileChoice). */
  stream?: boolean;
  keys: { archive: string; index: string; sidecar: string };
  /** The shard's index object in the spool folder, stored between the archive and the sidecar. */
  index: { file: string; size: number; sha256: string };
  size: number;
  sha256: string;
  /** The sidecar manifest's JSON text, stored last. */
  sidecar: Buffer;
  policy: RetryPolicy;
  emit: (event: RunEvent) => void;
  warn: (found: Warning) => void;
  /** Turns any error into the reported form, with secrets masked. */
  describe: (error: unknown) => { code: string; message: string; retryable: boolean };
}

/**
 * Stores one shard on one destination: the archive, its index object, then the
 * sidecar manifest (which is what makes the shard complete), each with retries
 * and `ifAbsent` (a store never replaces an existing object for us), then reads
 * them back: the sidecar must be byte for byte ours (it carries this run's
 * random id), the archive and the index of our sizes. If the index or the
 * sidecar cannot be stored what was stored is deleted again, so no incomplete
 * shard lingers; if another writer's objects are found
 * under our keys nothing is deleted (they may be all that is left of the other
 * writer's backup) and the upload fails.
 *
 * ALREADY_EXISTS on a first attempt is another writer's object. On a retry it
 * may be our own: an attempt whose object was stored but whose answer was lost.
 * The read-back then tells which.
 */
export async function uploadShard(job: UploadJob): Promise<DestinationResult> {
  const { name, destination, keys, size, emit } = job;
  const started = performance.now();
  const result = (status: 'success' | 'failed', bytes: number, attempts: number): DestinationResult => ({
    name,
    type: job.type,
    required: job.required,
    status,
    bytes,
    durationMs: Math.round(performance.now() - started),
    attempts,
  });
  const onRetry = ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) => {
    const { code, message } = job.describe(error);
    emit({ type: 'upload-retry', destination: name, attempt, delayMs, error: { code, message } });
  };

  let attempts = 0;
  let archiveStored = false;
  let indexStored = false;
  let keysShared = false;
  emit({ type: 'upload-start', destination: name, size });
  try {
    const progress = throttle((bytes: number) =>
      emit({ type: 'upload-progress', destination: name, bytes, size }),
    );
    await withRetries(
      job.policy,
      async (attempt) => {
        attempts++;
        const body = createReadStream(job.file, { highWaterMark: 1 << 20 });
        try {
          await destination
            .put(keys.archive, body, {
              size,
              sha256: job.sha256,
              onProgress: progress.push,
              signal: interruptSignal,
              ifAbsent: true,
              ...(!job.stream && { sourcePath: resolve(job.file) }),
            })
            .catch(storedByEarlierAttempt(attempt));
        } finally {
          body.destroy();
        }
      },
      onRetry,
    );
    archiveStored = true;
    emit({ type: 'upload-progress', destination: name, bytes: size, size });
    await withRetries(
      job.policy,
      async (attempt) => {
        const body = createReadStream(job.index.file);
        try {
          await destination
            .put(keys.index, body, {
              size: job.index.size,
              sha256: job.index.sha256,
              signal: interruptSignal,
              ifAbsent: true,
              sourcePath: resolve(job.index.file),
            })
            .catch(storedByEarlierAttempt(attempt));
        } finally {
          body.destroy();
        }
      },
      onRetry,
    );
    indexStored = true;
    const sidecarSha256 = createHash('sha256').update(job.sidecar).digest('hex');
    await withRetries(
      job.policy,
      (attempt) =>
        destination
          .put(keys.sidecar, Readable.from([job.sidecar], { objectMode: false }), {
            size: job.sidecar.length,
            sha256: sidecarSha256,
            signal: interruptSignal,
            ifAbsent: true,
          })
          .catch(storedByEarlierAttempt(attempt)),
      onRetry,
    );
    // get is retried by the destination only until its stream opens; a read that breaks
    // mid-stream (a reset connection) is retried here, as a whole.
    const conflict = await withRetries(job.policy, () => readBack(job), onRetry);
    if (conflict) {
      keysShared = true;
      throw new DestinationError(
        'INTEGRITY',
        `another writer stored objects under this shard's keys at the same time (${conflict}); nothing was deleted`,
        {
          retryable: false,
          destination: name,
          hint: 'every config sharing a destination needs its own backup.name; run `matric-backup list` there',
        },
      );
    }
    emit({ type: 'upload-done', destination: name, status: 'success' });
    return result('success', size + job.index.size + job.sidecar.length, attempts);
  } catch (error) {
    if (isDestinationError(error) && error.code === 'ALREADY_EXISTS') keysShared = true;
    if (archiveStored && !keysShared && interruptSignal.aborted) {
      // Every operation stops once the run is interrupted, this delete too. The run's
      // in-flight marker outlives the process, so the next prune knows the archive is orphaned.
      job.warn(
        warning(
          'UPLOAD_LEFTOVER',
          `${name}: interrupted after the archive ${keys.archive}${indexStored ? ` and its index ${keys.index} were` : ' was'} stored; ${indexStored ? 'they stay' : 'it stays'} without the sidecar (incomplete) until this config's next prune removes ${indexStored ? 'them' : 'it'}`,
          { destination: name },
        ),
      );
    } else if (archiveStored && !keysShared) {
      for (const key of indexStored ? [keys.index, keys.archive] : [keys.archive]) {
        await destination.delete(key).catch((cleanupError: unknown) => {
          job.warn(
            warning(
              'UPLOAD_LEFTOVER',
              `${name}: could not remove ${key} of the failed upload (${job.describe(cleanupError).message}); this config's next prune removes it (the run history records the failure)`,
              { destination: name },
            ),
          );
        });
      }
    }
    const described = job.describe(error);
    emit({
      type: 'upload-done',
      destination: name,
      status: 'failed',
      error: { code: described.code, message: described.message },
    });
    return { ...result('failed', 0, attempts), error: described };
  }
}

/**
 * For a put's `.catch`: ALREADY_EXISTS on a retry is taken as this run's own
 * object (left to the read-back to confirm); anything else is rethrown.
 */
function storedByEarlierAttempt(attempt: number) {
  return (error: unknown): void => {
    if (attempt > 1 && isDestinationError(error) && error.code === 'ALREADY_EXISTS') return;
    throw error;
  };
}

/** Why the stored objects are not the ones this run wrote, or undefined when they are. */
async function readBack(job: UploadJob): Promise<string | undefined> {
  const sidecar = await readSmallObject(job.destination, job.keys.sidecar);
  if (sidecar !== job.sidecar.toString('utf8'))
    return `${job.keys.sidecar} is not the sidecar this run wrote`;
  for (const [key, size] of [
    [job.keys.archive, job.size],
    [job.keys.index, job.index.size],
  ] as const) {
    const stored = await job.destination.stat(key);
    if (stored?.size !== size)
      return `${key} holds ${stored ? `${stored.size} bytes` : 'nothing'}, this run wrote ${size}`;
  }
  return undefined;
}
