import { PassThrough, type Readable } from 'node:stream';
import { DestinationError } from '@matric-backup/plugin-api';
import type { SmbclientOptions } from './connection.js';
import type { ErrorContext } from './errors.js';
import { quote } from './names.js';
import { startOneShot } from './oneshot.js';
import { assertSucceeded, failureOf } from './outcome.js';
import { parseGetSize } from './output.js';
import type { BatchResult } from './session.js';

/**
 * `get "\path" -` in an smbclient of its own streams the file to stdout. The
 * returned stream starts once the first bytes arrived, so a missing file
 * rejects get() itself; it ends only after smbclient exited cleanly and the
 * byte count matches the size smbclient announced.
 */
export async function getViaSmbclient(
  options: SmbclientOptions,
  path: string,
  context: ErrorContext,
): Promise<Readable> {
  const process = await startOneShot(options, `get ${quote(path)} -`);
  const data = process.data;
  const first = await firstChunk(data);
  if (first === null) {
    assertSucceeded(await process.done, context);
    return new PassThrough().end();
  }

  const out = new PassThrough();
  let received = 0;
  let finished = false;
  data.unshift(first);
  data.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  data.pipe(out, { end: false });
  process.done.then(
    (result) => {
      finished = true;
      const failure = transferFailure(result, received, context);
      if (failure) out.destroy(failure);
      else out.end();
    },
    (error: Error) => {
      finished = true;
      out.destroy(error);
    },
  );
  // The reader stopped early: nobody needs the rest.
  out.on('close', () => {
    if (finished) return;
    process.kill();
    data.destroy();
  });
  return out;
}

function firstChunk(data: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const settle = (chunk: Buffer | null, error?: Error) => {
      data.off('data', onData).off('end', onEnd).off('error', onError);
      data.pause();
      if (error) reject(error);
      else resolve(chunk);
    };
    const onData = (chunk: Buffer) => settle(chunk);
    const onEnd = () => settle(null);
    const onError = (error: Error) => settle(null, error);
    data.on('data', onData).once('end', onEnd).once('error', onError);
  });
}

function transferFailure(result: BatchResult, received: number, context: ErrorContext): Error | undefined {
  const failure = failureOf(result, context);
  if (failure) return failure;
  const announced = parseGetSize(result.output);
  if (announced === undefined || announced === received) return undefined;
  return new DestinationError(
    'INTEGRITY',
    `${context.operation} on ${context.share}: received ${received} of ${announced} bytes`,
    { retryable: true },
  );
}
