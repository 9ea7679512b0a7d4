import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { DestinationError, isDestinationError, type PutOptions } from '@matric-backup/core';
import type { ErrorContext } from './errors.js';
import { quote, remotePath, temporaryName } from './names.js';
import { failureOf, folderExists } from './outcome.js';
import { parseAllinfo } from './output.js';
import type { SessionPool } from './pool.js';
import type { SmbSession } from './session.js';

/**
 * Uploads under a temporary name, renames it over the final name and lists
 * the result, in one batch on one session:
 *
 *   mkdir "\a"; put <fifo> "\a\.name.tmp-x"; rename "\a\.name.tmp-x" "\a\name" -f; allinfo "\a\name"
 *
 * The final `allinfo` proves the object is there with the announced size. On any
 * failure the temporary file is deleted.
 */
export async function putViaSmbclient(
  pool: SessionPool,
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
  let uploaded = false;
  try {
    await pool.use(async (session) => {
      await upload(session, folder, body, options, context, { finalPath, tempPath });
      uploaded = true;
    });
  } catch (error) {
    if (!uploaded && !NO_SESSION.has((error as DestinationError).code)) await removeTemporary(pool, tempPath);
    throw error;
  }
}

async function upload(
  session: SmbSession,
  folder: readonly string[],
  body: Readable,
  options: PutOptions,
  context: ErrorContext,
  { finalPath, tempPath }: { finalPath: string; tempPath: string },
): Promise<void> {
  const { result, failure } = await session.transfer(
    [
      ...folder.map((_, depth) => `mkdir ${quote(remotePath(folder.slice(0, depth + 1)))}`),
      `put ${quote(session.fifoPath)} ${tempPath}`,
      `rename ${tempPath} ${finalPath} -f`,
      `allinfo ${finalPath}`,
    ],
    { body, size: options.size, signal: options.signal, onProgress: options.onProgress },
  );
  if (failure !== undefined) {
    if (options.signal?.aborted) throw abortedError(context, failure);
    if (isDestinationError(failure)) throw failure;
    // smbclient stopped reading on its own: what it printed says why; else the source failed.
    throw (
      failureOf({ ...result, exit: undefined }, context, folderExists) ??
      new DestinationError(
        'UNKNOWN',
        `${context.operation} on ${context.share}: ${(failure as Error).message}`,
        {
          cause: failure,
          retryable: true,
        },
      )
    );
  }
  let outcome = result;
  // An smbclient without `rename -f` refuses to replace an existing name: delete it, then rename.
  if (
    outcome.statuses.some(
      ({ status, line }) => status === 'NT_STATUS_OBJECT_NAME_COLLISION' && line.includes('renaming'),
    )
  ) {
    outcome = await session.run([
      `del ${finalPath}`,
      `rename ${tempPath} ${finalPath}`,
      `allinfo ${finalPath}`,
    ]);
  }
  const failed = failureOf(outcome, context, folderExists);
  if (failed) throw failed;
  const stored = parseAllinfo(outcome.output);
  if (stored && !stored.isFolder && stored.size === options.size) return;
  throw new DestinationError(
    stored ? 'INTEGRITY' : 'UNKNOWN',
    `${context.operation} on ${context.share}: ${stored ? `${stored.size} bytes stored, ${options.size} sent` : 'the object is missing after the upload'}`,
    { retryable: true },
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
async function removeTemporary(pool: SessionPool, quotedPath: string): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const result = await pool.use((session) => session.run([`del ${quotedPath}`])).catch(() => undefined);
    if (!result?.statuses.some(({ status }) => BUSY.has(status))) return;
    await sleep(100 * attempt);
  }
}
