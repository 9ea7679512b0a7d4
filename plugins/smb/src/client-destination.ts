import { Readable } from 'node:stream';
import type {
  CheckResult,
  Destination,
  ObjectInfo,
  OperationOptions,
  PluginContext,
  PutOptions,
  TemporaryObject,
} from '@matric-backup/plugin-api';
import { parseTemporaryKey, temporaryKey } from '@matric-backup/plugin-api';
import { type Credentials, isExposed } from './auth-file.js';
import { parseShare, pathSegments, type SmbConfig } from './config.js';
import { type SmbclientOptions, uncOf } from './connection.js';
import { type ErrorContext, isNotFound } from './errors.js';
import { getViaSmbclient } from './get.js';
import { assertExpressible, quote, remotePath, unexpressibleReason } from './names.js';
import { assertSucceeded, folderExists } from './outcome.js';
import { type ListedEntry, parseAllinfo, parseFreeBytes, parseListing } from './output.js';
import { SessionPool } from './pool.js';
import { putViaSmbclient } from './put.js';
import { type BatchResult, SmbSession } from './session.js';

const notFound = ({ status }: { status: string }) => isNotFound(status);
const PROBE = Buffer.from('matric-backup write probe\n');

/**
 * The share reached with Samba's smbclient. Metadata operations and uploads
 * run on a small pool of logged-on smbclient sessions; a download runs in an
 * smbclient of its own (the file comes out on its stdout).
 */
export function createSmbclientDestination(config: SmbConfig, context: PluginContext): Destination {
  const { host, name: share } = parseShare(config.share!);
  const credentials: Credentials =
    config.credentials_file !== undefined
      ? { kind: 'file', path: config.credentials_file }
      : {
          kind: 'inline',
          username: config.username!,
          password: config.password ?? '',
          domain: config.domain,
        };
  const options: SmbclientOptions = {
    binary: config.smbclient_path,
    host,
    port: config.port,
    share,
    credentials,
    domain: credentials.kind === 'file' ? config.domain : undefined,
    timeoutSeconds: config.timeout,
    tmpDir: context.tmpDir,
  };
  const unc = uncOf(options);
  const errorContext = (operation: string): ErrorContext => ({
    share: unc,
    username: config.username,
    operation,
  });
  const pool = new SessionPool(
    () => SmbSession.open(options, errorContext('connect')),
    config.connections,
    30_000,
  );
  const base = pathSegments(config.path);
  const keyPath = (key: string) => [...base, ...key.split('/')];
  let warnedExposed = false;

  return {
    async put(key: string, body: Readable, putOptions: PutOptions) {
      assertExpressible(key);
      const segments = keyPath(key);
      await putViaSmbclient(
        pool,
        segments.slice(0, -1),
        segments.at(-1)!,
        body,
        putOptions,
        errorContext(`put ${JSON.stringify(key)}`),
      );
    },

    async get(key: string) {
      assertExpressible(key);
      return getViaSmbclient(options, remotePath(keyPath(key)), errorContext(`get ${JSON.stringify(key)}`));
    },

    async *list(prefix = '', options?: OperationOptions) {
      // The deepest folder the prefix names is listed recursively; the rest of the prefix filters names.
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const folderSegments = folder === '' ? [] : folder.split('/');
      // Nothing can be stored under a name the share cannot hold.
      if (folderSegments.some((segment) => unexpressibleReason(segment))) return;
      const listed = [...base, ...folderSegments];
      // `recurse` toggles; the second one restores the session's default (off).
      const result = await pool.use((session) =>
        runAbortable(session, ['recurse', `ls ${quote(listMask(listed))}`, 'recurse'], options?.signal),
      );
      assertSucceeded(result, errorContext(`list ${JSON.stringify(prefix)}`), notFound);
      const baseFolder = remotePath(base);
      for (const entry of parseListing(result.output)) {
        const key = keyOf(entry, remotePath(listed), baseFolder);
        if (key?.startsWith(prefix)) yield { key, size: entry.size, modified: entry.modified };
      }
    },

    async *listTemporary(): AsyncIterable<TemporaryObject> {
      const result = await pool.use((session) =>
        session.run(['recurse', `ls ${quote(listMask(base))}`, 'recurse']),
      );
      assertSucceeded(result, errorContext('list temporary files'), notFound);
      const baseFolder = remotePath(base);
      for (const entry of parseListing(result.output)) {
        const name = keyOf(entry, baseFolder, baseFolder, true);
        if (name)
          yield { name, key: parseTemporaryKey(name)!.key, size: entry.size, modified: entry.modified };
      }
    },

    async stat(key: string, options?: OperationOptions): Promise<ObjectInfo | undefined> {
      assertExpressible(key);
      const result = await pool.use((session) =>
        runAbortable(session, [`allinfo ${quote(remotePath(keyPath(key)))}`], options?.signal),
      );
      assertSucceeded(result, errorContext(`stat ${JSON.stringify(key)}`), notFound);
      const info = parseAllinfo(result.output);
      return info && !info.isFolder ? { key, size: info.size, modified: info.modified } : undefined;
    },

    async delete(key: string) {
      assertExpressible(key);
      const result = await pool.use((session) => session.run([`del ${quote(remotePath(keyPath(key)))}`]));
      assertSucceeded(result, errorContext(`delete ${JSON.stringify(key)}`), notFound);
    },

    async check(): Promise<CheckResult> {
      if (credentials.kind === 'file' && !warnedExposed && (await isExposed(credentials.path))) {
        warnedExposed = true;
        context.log.warn(`credentials_file ${credentials.path} is readable by other users; chmod 600 it`);
      }
      const probe = quote(remotePath([...base, temporaryKey('matric-check')]));
      const { result, failure } = await pool.use((session) =>
        session.transfer(
          [
            ...base.map((_, depth) => `mkdir ${quote(remotePath(base.slice(0, depth + 1)))}`),
            `put ${quote(session.fifoPath)} ${probe}`,
            `du ${probe}`,
            `del ${probe}`,
          ],
          { body: Readable.from([PROBE]), size: PROBE.length },
        ),
      );
      assertSucceeded(result, errorContext('check'), folderExists);
      if (failure !== undefined) throw failure;
      const freeBytes = parseFreeBytes(result.output);
      const who =
        credentials.kind === 'file' ? `the user in ${credentials.path}` : JSON.stringify(config.username);
      return {
        details: [
          `logged on to ${unc} as ${who}`,
          `${unc}/${base.join('/')} is writable (probe file written and deleted)`,
          ...(freeBytes === undefined ? [] : [`${(freeBytes / 1024 ** 3).toFixed(1)} GiB free`]),
        ],
        freeBytes,
      };
    },

    close: () => pool.close(),
  };
}

/** `\a\b\*`: every entry of a folder (`\*` for the share's root). */
function listMask(segments: readonly string[]): string {
  return segments.length === 0 ? '\\*' : `${remotePath(segments)}\\*`;
}

/** The key of a listed file, or undefined for folders and (unless `temporary`, then only for them) temporary files. */
function keyOf(
  entry: ListedEntry,
  listedFolder: string,
  baseFolder: string,
  temporary = false,
): string | undefined {
  if (entry.isFolder || (parseTemporaryKey(entry.name) !== undefined) !== temporary) return undefined;
  const folder = entry.folder ?? listedFolder;
  const relative = baseFolder === '\\' ? folder.slice(1) : folder.slice(baseFolder.length + 1);
  const parts = relative === '' ? [entry.name] : [...relative.split('\\'), entry.name];
  return parts.join('/');
}

/**
 * One batch on `session`; smbclient cannot cancel a command, so an abort kills the
 * session (the pool then drops it) and the batch rejects with an AbortError.
 */
async function runAbortable(
  session: SmbSession,
  lines: readonly string[],
  signal: AbortSignal | undefined,
): Promise<BatchResult> {
  signal?.throwIfAborted();
  const kill = () => session.kill();
  signal?.addEventListener('abort', kill, { once: true });
  try {
    const result = await session.run(lines);
    signal?.throwIfAborted();
    return result;
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  } finally {
    signal?.removeEventListener('abort', kill);
  }
}
