import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DestinationError,
  isDestinationError,
  type PutOptions,
  temporaryKey,
} from '@matric-backup/plugin-api';
import type { ErrorContext } from './errors.js';
import { localFileOf } from './local-source.js';
import { quote, remotePath } from './names.js';
import { type Expected, failureOf, folderExists } from './outcome.js';
import { parseAllinfo } from './output.js';
import type { SessionPool } from './pool.js';
import type { BatchResult, SmbSession, TransferResult } from './session.js';

/**
 * Uploads under a temporary name and checks its size, then — only when it is
 * complete — renames it over the final name and checks that, each step one
 * batch on the same session:
 *
 *   mkdir "\a"; put <fifo or local file> "\a\.name.tmp-x"; allinfo "\a\.name.tmp-x"
 *   rename "\a\.name.tmp-x" "\a\name" -f; allinfo "\a\name"
 *
 * (without -f for `ifAbsent`: the server then refuses an existing name),
 *
 * (smbclient runs the rest of a batch after a failed put, so a rename in the
 * same batch would move a partial file into place.) On any failure the
 * temporary file is deleted.
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
  const tempPath = quote(remotePath([...folder, temporaryKey(name)]));
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
  const commands = (source: string) => [
    ...folder.map((_, depth) => `mkdir ${quote(remotePath(folder.slice(0, depth + 1)))}`),
    `put ${quote(source)} ${tempPath}`,
    `allinfo ${tempPath}`,
  ];
  const localFile = localFileOf(options);
  const { result, failure } = localFile
    ? await fromLocalFile(session, commands(localFile), body, options.signal)
    : await session.transfer(commands(session.fifoPath), {
        body,
        size: options.size,
        signal: options.signal,
        onProgress: options.onProgress,
      });
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
  assertStoredSize(result, options.size, folderExists, context);

  if (options.ifAbsent) {
    // Without -f the server refuses an existing name (SMB2 rename, ReplaceIfExists off): atomic.
    const placed = await session.run([`rename ${tempPath} ${finalPath}`, `allinfo ${finalPath}`]);
    if (placed.statuses[0]?.status === 'NT_STATUS_OBJECT_NAME_COLLISION') {
      throw new DestinationError(
        'ALREADY_EXISTS',
        `${context.operation} on ${context.share}: ${finalPath} exists; it was left as it is`,
        { retryable: false },
      );
    }
    assertStoredSize(placed, options.size, undefined, context);
    if (localFile) options.onProgress?.(options.size);
    return;
  }
  let placed = await session.run([`rename ${tempPath} ${finalPath} -f`, `allinfo ${finalPath}`]);
  // An smbclient without `rename -f` refuses to replace an existing name: delete it, then rename.
  if (placed.statuses[0]?.status === 'NT_STATUS_OBJECT_NAME_COLLISION') {
    placed = await session.run([
      `del ${finalPath}`,
      `rename ${tempPath} ${finalPath}`,
      `allinfo ${finalPath}`,
    ]);
  }
  assertStoredSize(placed, options.size, undefined, context);
  if (localFile) options.onProgress?.(options.size);
}

/** The batch succeeded and its final `allinfo` shows a file of `size` bytes. */
function assertStoredSize(
  result: BatchResult,
  size: number,
  expected: Expected | undefined,
  context: ErrorContext,
): void {
  const failed = failureOf(result, context, expected);
  if (failed) throw failed;
  const stored = parseAllinfo(result.output);
  if (stored && !stored.isFolder && stored.size === size) return;
  throw new DestinationError(
    stored ? 'INTEGRITY' : 'UNKNOWN',
    `${context.operation} on ${context.share}: ${stored ? `${stored.size} bytes stored, ${size} sent` : 'the uploaded file is missing'}`,
    { retryable: true },
  );
}

/** smbclient reads the file itself; aborting kills the session mid-transfer. */
async function fromLocalFile(
  session: SmbSession,
  commands: string[],
  body: Readable,
  signal: AbortSignal | undefined,
): Promise<TransferResult> {
  body.destroy();
  const abort = () => session.kill();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const result = await session.run(commands);
    return { result, failure: signal?.aborted ? signal.reason : undefined };
  } finally {
    signal?.removeEventListener('abort', abort);
  }
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
