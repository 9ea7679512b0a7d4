import { addAbortSignal, Readable } from 'node:stream';
import {
  type Destination,
  type DestinationCapabilities,
  DestinationError,
  defineDestination,
  type ObjectInfo,
} from '@matric-backup/plugin-api';
import { z } from 'zod';

/** Ways to break the in-memory destination, each one a contract violation the testkit must catch. */
export interface Defects {
  /** put writes straight under the key, chunk by chunk, and leaves what it got on failure. */
  nonAtomicPut?: boolean;
  /** put stages under a temporary name and forgets to remove it on failure. */
  leaksTemporary?: boolean;
  /** put never looks at its AbortSignal. */
  ignoresAbort?: boolean;
  /** list stops after one page of 1,000 keys. */
  listsOnePage?: boolean;
  /** list treats the prefix as a folder: `p` does not match `p2/x`. */
  listsByFolder?: boolean;
  /** get of a missing key throws a plain Error instead of NOT_FOUND. */
  untypedNotFound?: boolean;
  /** delete of a missing key throws. */
  deleteMissingThrows?: boolean;
  /** Objects larger than this are refused with a CONFIG error. */
  refuseAbove?: number;
  /** close() throws the second time. */
  closeOnce?: boolean;
  /** put replaces an existing key even with ifAbsent. */
  ignoresIfAbsent?: boolean;
  /** put with ifAbsent checks before reading the body, so racing puts both pass the check. */
  checksIfAbsentEarly?: boolean;
  /** put never calls onProgress. */
  noProgress?: boolean;
  /** put stages under a listed name (`<key>.part`) while the body streams in. */
  listsUploads?: boolean;
  /** modified is cut to whole seconds (while the plugin declares subsecondModified). */
  secondsModified?: boolean;
  /** deleteMany forgets the first key. */
  deleteManyForgets?: boolean;
  /** check() succeeds whatever the credentials. */
  ignoresCredentials?: boolean;
}

/**
 * A Destination over a Map, correct unless told otherwise; `raw` exposes the storage
 * including temporaries. Separate from the exported memoryDestination, which must
 * stay free of switches that break it.
 */
export function brokenDestination(
  defects: Defects = {},
  credentials = 'right',
): Destination & { raw(): string[] } {
  const objects = new Map<string, { bytes: Buffer; modified: Date }>();
  let closed = false;

  async function collect(
    body: Readable,
    signal: AbortSignal | undefined,
    into: string,
    onProgress: ((bytes: number) => void) | undefined,
  ) {
    const source = signal && !defects.ignoresAbort ? addAbortSignal(signal, body) : body;
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of source) {
        chunks.push(chunk as Buffer);
        received += (chunk as Buffer).length;
        if (!defects.noProgress) onProgress?.(received);
        if (defects.nonAtomicPut && chunks.length === 1)
          objects.set(into, { bytes: chunk as Buffer, modified: new Date() });
      }
    } finally {
      if (defects.nonAtomicPut) objects.set(into, { bytes: Buffer.concat(chunks), modified: new Date() });
    }
    return Buffer.concat(chunks);
  }

  return {
    async put(key, body, { size, signal, onProgress, ifAbsent }) {
      signal?.throwIfAborted();
      const refuse = () => new DestinationError('ALREADY_EXISTS', `${key} exists`, { retryable: false });
      if (ifAbsent && defects.checksIfAbsentEarly && objects.has(key)) throw refuse();
      if (defects.refuseAbove !== undefined && size > defects.refuseAbove) {
        throw new DestinationError(
          'CONFIG',
          `object of ${size} B exceeds the limit of ${defects.refuseAbove} B`,
          {
            retryable: false,
          },
        );
      }
      const staging = defects.nonAtomicPut ? key : defects.listsUploads ? `${key}.part` : `.${key}.tmp`;
      if (defects.listsUploads) objects.set(staging, { bytes: Buffer.alloc(0), modified: new Date() });
      try {
        const bytes = await collect(body, signal, staging, onProgress);
        objects.delete(staging);
        // Checked and set without an await between: atomic, like a hard link.
        if (ifAbsent && !defects.ignoresIfAbsent && !defects.checksIfAbsentEarly && objects.has(key))
          throw refuse();
        objects.set(key, { bytes, modified: new Date() });
      } catch (error) {
        if (defects.leaksTemporary) objects.set(staging, { bytes: Buffer.alloc(1), modified: new Date() });
        else if (defects.listsUploads) objects.delete(staging);
        throw error;
      }
    },
    async get(key) {
      const object = objects.get(key);
      if (!object || key.startsWith('.')) {
        if (defects.untypedNotFound) throw new Error(`no ${key}`);
        throw new DestinationError('NOT_FOUND', `no object ${key}`);
      }
      return Readable.from([object.bytes]);
    },
    async *list(prefix = '') {
      let count = 0;
      for (const [key, object] of [...objects].sort(([a], [b]) => a.localeCompare(b))) {
        if (key.startsWith('.') || !key.startsWith(prefix)) continue;
        if (defects.listsByFolder && prefix && !key.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`))
          continue;
        if (defects.listsOnePage && count === 1000) return;
        count++;
        yield info(key, object, defects.secondsModified);
      }
    },
    async stat(key) {
      const object = objects.get(key);
      return object && !key.startsWith('.') ? info(key, object, defects.secondsModified) : undefined;
    },
    async delete(key) {
      if (defects.deleteMissingThrows && !objects.has(key)) throw new Error(`cannot delete ${key}: missing`);
      objects.delete(key);
    },
    async deleteMany(keys) {
      for (const key of defects.deleteManyForgets ? keys.slice(1) : keys) objects.delete(key);
      return { failed: [] };
    },
    async check() {
      if (credentials !== 'right' && !defects.ignoresCredentials)
        throw new DestinationError('AUTH_FAILED', 'wrong credentials', { retryable: false });
      return { details: [`in memory, ${objects.size} objects`] };
    },
    async close() {
      if (closed && defects.closeOnce) throw new Error('already closed');
      closed = true;
    },
    raw: () => [...objects.keys()],
  };
}

function info(key: string, object: { bytes: Buffer; modified: Date }, seconds = false): ObjectInfo {
  const modified = seconds ? new Date(Math.floor(object.modified.getTime() / 1000) * 1000) : object.modified;
  return { key, size: object.bytes.length, modified };
}

/** The broken destination as a plugin: config `{ credentials }`, anything but "right" is refused by check(). */
export function brokenPlugin(
  defects: Defects,
  capabilities: DestinationCapabilities,
  created: { last?: ReturnType<typeof brokenDestination> },
) {
  return defineDestination({
    type: 'broken',
    configSchema: z.strictObject({ credentials: z.string() }),
    capabilities,
    create: (config) => (created.last = brokenDestination(defects, config.credentials)),
  });
}
