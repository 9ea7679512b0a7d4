import type { Readable } from 'node:stream';
import type { Destination, OperationOptions, PutOptions, TemporaryObject } from '@matric-backup/plugin-api';
import { limiter } from '../util/limit.js';
import { forward } from './forward.js';

/**
 * Wraps a Destination so that at most `concurrency` of its operations run at
 * once (the plugin's `capabilities.maxConcurrency`). A get holds its slot until
 * its stream is returned. Listings take no slot: their caller works on each
 * item while the listing stays open, and a stat or delete it makes then would
 * wait for a slot the listing holds.
 */
export function limited(inner: Destination, concurrency: number): Destination {
  const slot = limiter(concurrency);
  const { deleteMany, deleteTemporary } = inner;
  return {
    ...forward(inner),
    put: (key: string, body: Readable, options: PutOptions) => slot(() => inner.put(key, body, options)),
    get: (key, options) => slot(() => inner.get(key, options)),
    stat: (key, options) => slot(() => inner.stat(key, options)),
    delete: (key, options) => slot(() => inner.delete(key, options)),
    ...(deleteMany && {
      deleteMany: (keys: readonly string[], options?: OperationOptions) =>
        slot(() => deleteMany.call(inner, keys, options)),
    }),
    ...(deleteTemporary && {
      deleteTemporary: (temporary: TemporaryObject, options?: OperationOptions) =>
        slot(() => deleteTemporary.call(inner, temporary, options)),
    }),
    check: () => slot(() => inner.check()),
  };
}
