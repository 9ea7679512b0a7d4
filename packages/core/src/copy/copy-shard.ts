import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Destination } from '@matric-backup/plugin-api';
import { DestinationError, isDestinationError } from '@matric-backup/plugin-api';
import { type RetryNotice, type RetryPolicy, withRetries } from '../destination/retry.js';
import { type ShardManifest, SIDECAR_SUFFIX } from '../shard/manifest.js';
import { parseShardManifest } from '../shard/manifest-schema.js';
import { ObjectDigest, readSmallObject } from '../shard/read.js';
import { interruptSignal, stopCleanlyOnInterrupt } from '../util/interrupt.js';

export interface CopyShardOptions {
  policy: RetryPolicy;
  onRetry?: (notice: RetryNotice) => void;
  /** Bytes of the archive stored on the target so far. */
  onProgress?: (bytes: number) => void;
  /** Something worth saying that did not fail the copy (an archive left behind). */
  warn?: (message: string) => void;
}

export interface CopiedShard {
  /** Bytes written to the target: archive and sidecar. */
  bytes: number;
  /**
   * The archive was already on the target without its sidecar (an earlier copy
   * stopped in between) and matched the sidecar's size and checksum: only the
   * sidecar was stored.
   */
  resumed: boolean;
}

/**
 * Copies one complete shard from `from` to `to`, as a run stores one: the
 * archive first, streamed from the source straight into the target's put
 * (never held in memory), every put `ifAbsent`; core's put check counts and
 * hashes the body against the sidecar's size and checksum, so a damaged source
 * fails the put before the target commits it. Then the sidecar, byte for byte,
 * last: a copy stopped anywhere before leaves no shard that looks complete.
 * Both are read back. Source reads and target puts are retried as a whole by
 * `policy` (a get can be opened again, unlike a run's spool this needs no file).
 */
export async function copyShard(
  from: Destination,
  to: Destination,
  manifest: ShardManifest,
  options: CopyShardOptions,
): Promise<CopiedShard> {
  const { policy } = options;
  const onRetry = options.onRetry ?? (() => undefined);
  const archiveKey = manifest.object.name;
  const sidecarKey = `${manifest.id}${SIDECAR_SUFFIX}`;
  const sidecar = Buffer.from(await withRetries(policy, () => readSmallObject(from, sidecarKey), onRetry));
  // The sidecar is copied as read; it must still describe the archive the put check holds the copy to.
  const read = parseShardManifest(sidecar.toString('utf8'));
  if (read.checksum !== manifest.checksum || read.object.size !== manifest.object.size) {
    throw new DestinationError('INTEGRITY', `${sidecarKey} changed on the source while it was being copied`, {
      retryable: false,
    });
  }

  let stored = false;
  let resumed = false;
  let indexStored = false;
  try {
    await withRetries(
      policy,
      async (attempt) => {
        const body = await from.get(archiveKey);
        try {
          // Registered, so an interrupt waits for the aborted put to remove what it began.
          await stopCleanlyOnInterrupt(
            to.put(archiveKey, body, {
              size: manifest.object.size,
              sha256: manifest.checksum.replace(/^sha256:/, ''),
              ifAbsent: true,
              signal: interruptSignal,
              ...(options.onProgress && { onProgress: options.onProgress }),
            }),
          );
          stored = true;
        } catch (error) {
          if (!(isDestinationError(error) && error.code === 'ALREADY_EXISTS')) throw error;
          // Under our key without a sidecar: an earlier attempt or an earlier copy that
          // stopped before the sidecar, or something else. Its bytes tell which.
          if (!(await holdsArchive(to, manifest))) throw foreignArchive(archiveKey, error);
          if (attempt === 1) resumed = true;
          else stored = true;
        } finally {
          body.destroy();
        }
      },
      onRetry,
    );
    if (manifest.index) indexStored = await copyIndex(from, to, manifest.index, options);
    await withRetries(
      policy,
      () =>
        stopCleanlyOnInterrupt(
          to.put(sidecarKey, Readable.from([sidecar]), {
            size: sidecar.length,
            sha256: createHash('sha256').update(sidecar).digest('hex'),
            ifAbsent: true,
            signal: interruptSignal,
          }),
        ).catch(async (error: unknown) => {
          // Stored by an attempt whose answer was lost, or by a copy beside this one: the same bytes are fine.
          if (isDestinationError(error) && error.code === 'ALREADY_EXISTS') {
            if ((await readSmallObject(to, sidecarKey)) === sidecar.toString('utf8')) return;
          }
          throw error;
        }),
      onRetry,
    );
  } catch (error) {
    if (indexStored && manifest.index && !interruptSignal.aborted)
      await to.delete(manifest.index.name).catch(() => undefined);
    if (stored && !interruptSignal.aborted) {
      await to
        .delete(archiveKey)
        .catch(() =>
          options.warn?.(`the archive ${archiveKey} stays on the target without its sidecar (incomplete)`),
        );
    } else if (stored) {
      options.warn?.(
        `interrupted after the archive ${archiveKey} was stored; it stays without its sidecar (incomplete) until the copy is run again or prune removes it`,
      );
    }
    throw error;
  }
  const problem = await withRetries(policy, () => readBack(to, manifest, sidecar), onRetry);
  if (problem) {
    throw new DestinationError('INTEGRITY', `read back after the copy: ${problem}; nothing was deleted`, {
      retryable: false,
    });
  }
  const indexBytes = indexStored && manifest.index ? manifest.index.size : 0;
  return { bytes: (resumed ? 0 : manifest.object.size) + indexBytes + sidecar.length, resumed };
}

/**
 * Copies the shard's index object (between the archive and the sidecar), held
 * to the sidecar's size and checksum by the target's put check. An index the
 * source lacks or holds damaged is left out with a warning, never failing the
 * copy: the archive is what counts, and `ls` on the copy falls back to reading
 * it. One already on the target with the right size (an earlier copy) stays.
 * Whether this copy stored it (so a failure after it removes it again).
 */
async function copyIndex(
  from: Destination,
  to: Destination,
  index: NonNullable<ShardManifest['index']>,
  options: CopyShardOptions,
): Promise<boolean> {
  const onRetry = options.onRetry ?? (() => undefined);
  try {
    await withRetries(
      options.policy,
      async () => {
        const body = await from.get(index.name);
        try {
          await stopCleanlyOnInterrupt(
            to.put(index.name, body, {
              size: index.size,
              sha256: index.checksum.replace(/^sha256:/, ''),
              ifAbsent: true,
              signal: interruptSignal,
            }),
          );
        } finally {
          body.destroy();
        }
      },
      onRetry,
    );
    return true;
  } catch (error) {
    if (!isDestinationError(error)) throw error;
    if (error.code === 'ALREADY_EXISTS' && (await to.stat(index.name))?.size === index.size) return false;
    if (error.code === 'NOT_FOUND' || error.code === 'INTEGRITY') {
      options.warn?.(
        `the index ${index.name} was not copied (${error.message}); listing the copy reads its archive instead`,
      );
      return false;
    }
    throw error;
  }
}

/** Whether the object under the archive key has the sidecar's size and checksum (read whole). */
async function holdsArchive(to: Destination, manifest: ShardManifest): Promise<boolean> {
  const info = await to.stat(manifest.object.name);
  if (info?.size !== manifest.object.size) return false;
  const digest = new ObjectDigest();
  for await (const chunk of await to.get(manifest.object.name)) digest.update(chunk as Buffer);
  return digest.problems(manifest).length === 0;
}

function foreignArchive(key: string, cause: unknown): DestinationError {
  return new DestinationError(
    'ALREADY_EXISTS',
    `${key} is already there without its sidecar, and it is not this shard's archive (its size or checksum differs); nothing was replaced`,
    {
      retryable: false,
      cause,
      hint: '`matric-backup list` on the target shows it as incomplete; `matric-backup prune` removes leftovers of failed runs',
    },
  );
}

/** Why the target's objects are not the copy just made, or undefined when they are. */
async function readBack(
  to: Destination,
  manifest: ShardManifest,
  sidecar: Buffer,
): Promise<string | undefined> {
  const sidecarKey = `${manifest.id}${SIDECAR_SUFFIX}`;
  if ((await readSmallObject(to, sidecarKey)) !== sidecar.toString('utf8'))
    return `${sidecarKey} is not the source's sidecar`;
  const archive = await to.stat(manifest.object.name);
  if (archive?.size !== manifest.object.size) {
    return `${manifest.object.name} holds ${archive ? `${archive.size} bytes` : 'nothing'}, the sidecar says ${manifest.object.size}`;
  }
  return undefined;
}
