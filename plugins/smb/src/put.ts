import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DestinationError, type PutOptions } from '@matric-backup/core';
import { type ErrorContext, errorFromStatus } from './errors.js';
import { quote, remotePath, temporaryName } from './names.js';
import { folderExists, problems } from './outcome.js';
import { parseListing } from './output.js';
import type { Smbclient, SmbclientProcess } from './smbclient.js';

/**
 * Streams `body` to smbclient's stdin under a temporary name, renames it over
 * the final name and lists the result, in one smbclient session:
 *
 *   mkdir "\a"; put /dev/stdin "\a\.name.tmp-x"; rename "\a\.name.tmp-x" "\a\name" -f; ls "\a\name"
 *
 * (`put -` would also read stdin, but smbclient then silently skips the
 * commands after it.) smbclient sees end-of-input only once the whole,
 * size-checked stream was written; on any failure or abort it is killed
 * first, so it never renames a short file, and the temporary file is deleted.
 * The final `ls` proves the object is there with the announced size.
 */
export async function putViaSmbclient(
  client: Smbclient,
  folder: readonly string[],
  name: string,
  body: Readable,
  options: PutOptions,
  context: ErrorContext,
): Promise<void> {
  if (options.signal?.aborted) {
    body.destroy();
    throw abortedError(context);
  }
  const finalPath = quote(remotePath([...folder, name]));
  const tempPath = quote(remotePath([...folder, temporaryName(name)]));
  const process = await client.start(
    [
      ...folder.map((_, depth) => `mkdir ${quote(remotePath(folder.slice(0, depth + 1)))}`),
      `put /dev/stdin ${tempPath}`,
      `rename ${tempPath} ${finalPath} -f`,
      `ls ${finalPath}`,
    ],
    { input: true },
  );
  try {
    await streamInto(process, body, options);
  } catch (error) {
    process.kill();
    const result = await process.done;
    // When smbclient ended on its own (logon failure, full disk), its report says why, not our EPIPE.
    const reported = result.signal === null ? problems(result, folderExists)[0] : undefined;
    const failure = options.signal?.aborted
      ? abortedError(context, error)
      : reported
        ? errorFromStatus(reported, context)
        : error instanceof DestinationError
          ? error
          : new DestinationError(
              'UNKNOWN',
              `${context.operation} on ${context.share}: ${(error as Error).message}`,
              {
                cause: error,
                retryable: true,
              },
            );
    await removeTemporary(client, tempPath, failure);
    throw failure;
  }
  let result = await process.done;
  let failed = problems(result, folderExists);
  // An smbclient without `rename -f` refuses to replace an existing name: delete it, then rename.
  if (failed[0]?.status === 'NT_STATUS_OBJECT_NAME_COLLISION') {
    result = await client.run([`del ${finalPath}`, `rename ${tempPath} ${finalPath}`, `ls ${finalPath}`]);
    failed = problems(result);
  }
  // The ls of one exact name lists at most that file.
  const stored = parseListing(result.stdout).find((entry) => !entry.isFolder);
  if (failed.length === 0 && stored?.size === options.size) return;
  const failure = failed[0]
    ? errorFromStatus(failed[0], context)
    : stored
      ? new DestinationError(
          'INTEGRITY',
          `${context.operation} on ${context.share}: ${stored.size} bytes stored, ${options.size} sent`,
          {
            retryable: true,
          },
        )
      : new DestinationError(
          'UNKNOWN',
          `${context.operation} on ${context.share}: the object is missing after the upload`,
          {
            retryable: true,
          },
        );
  await removeTemporary(client, tempPath, failure);
  throw failure;
}

/** Writes body to the child's stdin with backpressure, checks its size, then ends the input. */
async function streamInto(
  process: SmbclientProcess,
  body: Readable,
  { size, signal, onProgress }: PutOptions,
) {
  const stdin = process.stdin!;
  let sent = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      if (sent > size) return callback(sizeMismatch(size, sent, 'more than'));
      onProgress?.(sent);
      if (stdin.write(chunk)) return callback();
      stdin.once('drain', () => callback());
    },
    final(callback) {
      callback(sent === size ? null : sizeMismatch(size, sent, 'only'));
    },
  });
  // smbclient gone before the input ended (logon failure, server away): stop feeding it.
  let inputDone = false;
  process.done.then(
    () => !inputDone && sink.destroy(new Error('smbclient ended before the upload was complete')),
    (error) => sink.destroy(error),
  );
  await pipeline(body, sink, { signal });
  inputDone = true;
  stdin.end();
}

function sizeMismatch(size: number, sent: number, how: string): DestinationError {
  return new DestinationError(
    'INTEGRITY',
    `the stream had ${how} the announced ${size} bytes (${sent} read)`,
    {
      retryable: true,
    },
  );
}

function abortedError(context: ErrorContext, cause?: unknown): DestinationError {
  return new DestinationError('ABORTED', `${context.operation} on ${context.share} aborted`, {
    cause,
    retryable: false,
  });
}

// Failures where no session was established, so no temporary file can exist (and
// logging on again, e.g. with a wrong password, only risks locking the account).
const NO_SESSION = new Set(['AUTH_FAILED', 'UNREACHABLE', 'CONFIG']);
// Just after a killed upload the server may hold the file open for a moment.
const BUSY = new Set(['NT_STATUS_SHARING_VIOLATION', 'NT_STATUS_DELETE_PENDING']);

/** Best effort: deletes the temporary file of a failed put. */
async function removeTemporary(
  client: Smbclient,
  quotedPath: string,
  failure: DestinationError,
): Promise<void> {
  if (NO_SESSION.has(failure.code)) return;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const result = await client.run([`del ${quotedPath}`]).catch(() => undefined);
    if (!result?.statuses.some(({ status }) => BUSY.has(status))) return;
    await sleep(100 * attempt);
  }
}
