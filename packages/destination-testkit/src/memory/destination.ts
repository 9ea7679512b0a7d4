import { Readable } from 'node:stream';
import { type Destination, DestinationError, type ObjectInfo } from '@matric-backup/plugin-api';
import { MemoryStore } from './store.js';

/** A Destination over a MemoryStore; `store` is that store, for tests to inspect. */
export interface MemoryDestination extends Destination {
  readonly store: MemoryStore;
}

// Read back in chunks like a real stream, so consumers see more than one chunk.
const CHUNK = 64 * 1024;
let uploadCount = 0;

/**
 * A correct Destination kept in memory: atomic, abortable puts that report
 * progress and, with `ifAbsent`,
 * never replace an existing key (exclusively, so racing puts get one winner); string-prefix
 * listing; idempotent delete and deleteMany. It passes the conformance suite,
 * so it is the reference to read next to the contract, and a quick stand-in for
 * a real store in tests of code that uses destinations.
 */
export function memoryDestination(store: MemoryStore = new MemoryStore()): MemoryDestination {
  const { objects, calls } = store;
  return {
    store,
    async put(key, body, { signal, onProgress, ifAbsent }) {
      calls.push(`put ${key}`);
      const attempt = store.nextAttempt(key);
      signal?.throwIfAborted();
      const upload = ++uploadCount;
      const chunks: Buffer[] = [];
      let received = 0;
      store.uploads.set(upload, { key, bytes: 0 });
      try {
        for await (const chunk of signal ? abortable(body, signal) : body) {
          chunks.push(chunk as Buffer);
          received += (chunk as Buffer).length;
          store.uploads.set(upload, { key, bytes: received });
          onProgress?.(received);
        }
      } finally {
        // Whatever happened, the staged bytes are gone: a failed put leaves nothing.
        store.uploads.delete(upload);
      }
      const failure = store.failPut?.(key, attempt);
      if (failure) throw failure;
      // Checked and set without an await between: as atomic as a hard link or If-None-Match.
      if (ifAbsent && objects.has(key))
        throw new DestinationError('ALREADY_EXISTS', `${key} exists`, { retryable: false });
      objects.set(key, { bytes: Buffer.concat(chunks), modified: new Date() });
    },
    async get(key) {
      calls.push(`get ${key}`);
      const object = objects.get(key);
      if (!object) throw new DestinationError('NOT_FOUND', `no object ${key}`);
      return Readable.from(chunksOf(object.bytes));
    },
    async *list(prefix = '') {
      calls.push(`list ${prefix}`);
      for (const key of store.keys()) if (key.startsWith(prefix)) yield info(store, key)!;
    },
    async stat(key) {
      calls.push(`stat ${key}`);
      return info(store, key);
    },
    async delete(key) {
      calls.push(`delete ${key}`);
      objects.delete(key);
    },
    async deleteMany(keys) {
      calls.push(`deleteMany ${keys.join(' ')}`);
      for (const key of keys) objects.delete(key);
      return { failed: [] };
    },
    async check() {
      calls.push('check');
      return { details: [`in memory, ${objects.size} objects`] };
    },
    async close() {
      calls.push('close');
    },
  };
}

/** The body's chunks until the signal fires; then the put rejects with an AbortError. */
async function* abortable(body: Readable, signal: AbortSignal): AsyncGenerator<unknown> {
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const chunks = body[Symbol.asyncIterator]();
  try {
    while (true) {
      const next = await Promise.race([chunks.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    body.destroy();
  }
}

function info(store: MemoryStore, key: string): ObjectInfo | undefined {
  const object = store.objects.get(key);
  return object && { key, size: object.bytes.length, modified: object.modified };
}

function* chunksOf(bytes: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK) yield bytes.subarray(offset, offset + CHUNK);
}
