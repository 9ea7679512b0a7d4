import assert from 'node:assert/strict';
import {
  type Destination,
  type DestinationErrorCode,
  isDestinationError,
  type ObjectInfo,
} from '@matric-backup/plugin-api';
import { digest, type Payload } from './payload.js';

/**
 * Awaits `promise`, which must reject. With a `code`, the rejection must be a
 * DestinationError with that code, except that an aborted operation may also
 * reject with the AbortError its signal gave (matric-backup maps it to ABORTED).
 * Without one, any error will do: matric-backup wraps whatever a plugin throws.
 */
export async function expectDestinationError(
  promise: Promise<unknown>,
  code: DestinationErrorCode | undefined,
  what: string,
): Promise<{ code?: string; retryable?: boolean; message: string }> {
  let settled: unknown;
  try {
    await promise;
  } catch (error) {
    settled = error ?? new Error(String(error));
  }
  assert.ok(settled !== undefined, `${what}: expected a rejection, but it resolved`);
  if (code === 'ABORTED' && isAbortError(settled)) return { code, message: (settled as Error).message };
  if (code === undefined) return settled as Error;
  assert.ok(
    isDestinationError(settled),
    `${what}: expected a DestinationError ${code}, got ${describeError(settled)}`,
  );
  assert.equal(settled.code, code, `${what}: wrong error code (${settled.message})`);
  return settled;
}

function isAbortError(error: unknown): boolean {
  return (
    (error as { name?: unknown })?.name === 'AbortError' ||
    (error as { code?: unknown })?.code === 'ABORT_ERR'
  );
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function putPayload(destination: Destination, key: string, payload: Payload) {
  await destination.put(key, payload.stream(), { size: payload.size, sha256: payload.sha256 });
}

/** The stored object under `key` has exactly the payload's bytes, per get, stat and list. */
export async function expectStored(destination: Destination, key: string, payload: Payload) {
  const read = await digest(await destination.get(key));
  assert.equal(read.size, payload.size, `get(${JSON.stringify(key)}) returned the wrong number of bytes`);
  assert.equal(read.sha256, payload.sha256, `get(${JSON.stringify(key)}) returned different bytes`);
  const info = await destination.stat(key);
  assert.ok(info, `stat(${JSON.stringify(key)}) found nothing after put`);
  expectInfo(info, key, payload.size);
}

export function expectInfo(info: ObjectInfo, key: string, size: number) {
  assert.equal(info.key, key, 'ObjectInfo.key must be the key as passed to put');
  assert.equal(info.size, size, `size of ${JSON.stringify(key)}`);
  assert.ok(info.modified instanceof Date, `modified of ${JSON.stringify(key)} must be a Date`);
  const skew = Math.abs(info.modified.getTime() - Date.now());
  assert.ok(
    skew < 24 * 3600_000,
    `modified of ${JSON.stringify(key)} is ${info.modified.toISOString()}, not about now`,
  );
}

export async function listAll(destination: Destination, prefix?: string): Promise<ObjectInfo[]> {
  const found: ObjectInfo[] = [];
  for await (const info of destination.list(prefix)) found.push(info);
  return found;
}

/** `list(prefix)` returns exactly `keys`, each once. */
export async function expectListed(destination: Destination, prefix: string, keys: string[]) {
  const listed = (await listAll(destination, prefix)).map((info) => info.key);
  assert.deepEqual([...listed].sort(), [...keys].sort(), `list(${JSON.stringify(prefix)})`);
}

/** Nothing but `keys` is stored: neither in list('') nor, when the plugin offers it, at the storage level. */
export async function expectOnlyKeys(
  destination: Destination,
  rawList: (() => Promise<string[]>) | undefined,
  keys: string[],
) {
  await expectListed(destination, '', keys);
  if (rawList) {
    assert.deepEqual(
      (await rawList()).sort(),
      [...keys].sort(),
      'storage-level listing (rawList) has leftovers',
    );
  }
}
