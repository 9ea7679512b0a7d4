import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type CheckResult,
  type Destination,
  DestinationError,
  type ObjectInfo,
  type OperationOptions,
  type PutOptions,
  parseTemporaryKey,
  type TemporaryObject,
  temporaryKey,
} from '@matric-backup/plugin-api';
import type { FileEntryWithStats } from 'ssh2';
import { takeWholeFile } from '../shared/file-source.js';
import { createHostKeyVerifier, type HostKeyVerifier } from '../shared/host-keys.js';
import { hostKeyPolicyOf } from '../shared/ssh-config.js';
import { connectSsh, describeEndpoint, openSftp, type SshConnection, type SshEndpoint } from './connect.js';
import { RemoteFs } from './remote-fs.js';
import type { SftpConfig } from './schema.js';
import { SftpReadStream, SftpWriteStream, uploadFile } from './streams.js';

interface Session {
  connection: SshConnection;
  fs: RemoteFs;
}

/**
 * One SSH connection per destination, opened on first use and reopened after it
 * is lost (core retries a failed put; the retry gets a fresh connection).
 */
export class SftpDestination implements Destination {
  private session: Promise<Session> | undefined;
  private verifier: Promise<HostKeyVerifier> | undefined;
  private readonly endpoint: SshEndpoint;
  private readonly root: string;
  private closed = false;

  constructor(private readonly config: SftpConfig) {
    this.endpoint = { host: config.host, port: config.port, username: config.username };
    this.root = config.path.length > 1 ? config.path.replace(/\/+$/, '') : config.path;
  }

  private remote(key: string): string {
    return key === '' ? this.root : posix.join(this.root, key);
  }

  private connect(): Promise<Session> {
    if (this.closed) throw new DestinationError('ABORTED', 'destination is closed', { retryable: false });
    const current = this.session;
    if (current) {
      return current.then(
        (session) => (session.connection.lost.aborted ? this.reconnect(current) : session),
        () => this.reconnect(current),
      );
    }
    return this.reconnect(undefined);
  }

  private reconnect(stale: Promise<Session> | undefined): Promise<Session> {
    // Concurrent callers that saw the same stale session share one new connection.
    if (this.session !== stale) return this.connect();
    this.verifier ??= createHostKeyVerifier(hostKeyPolicyOf(this.config), this.config.host, this.config.port);
    const opening = this.verifier.then(async (verifier) => {
      const connection = await connectSsh({
        endpoint: this.endpoint,
        credentials: {
          sshKey: this.config.ssh_key,
          passphrase: this.config.passphrase,
          password: this.config.password,
          agent: this.config.agent,
        },
        verifier,
        timeoutMs: this.config.connect_timeout * 1000,
      });
      try {
        return { connection, fs: new RemoteFs(await openSftp(connection), connection) };
      } catch (error) {
        connection.client.end();
        throw error;
      }
    });
    this.session = opening;
    // A failed attempt is not cached: the next call (core's retry) tries again.
    opening.catch(() => {
      if (this.session === opening) this.session = undefined;
    });
    return opening;
  }

  async put(key: string, body: Readable, options: PutOptions): Promise<void> {
    const { fs } = await this.connect();
    const target = this.remote(key);
    const folder = posix.dirname(target);
    const temp = temporaryKey(target);
    let handle: Buffer | undefined;
    try {
      handle = await fs.open(temp, 'w', { mode: 0o600 }).catch(async (error) => {
        if ((error as DestinationError).code !== 'NOT_FOUND') throw error;
        await fs.mkdirs(folder);
        return fs.open(temp, 'w', { mode: 0o600 });
      });
      const transfer = { concurrency: this.config.concurrency, onProgress: options.onProgress };
      const file = takeWholeFile(body, options);
      if (file) {
        await uploadFile(fs, handle, temp, file, { ...transfer, signal: options.signal });
      } else {
        await pipeline(body, new SftpWriteStream(fs, handle, temp, transfer), { signal: options.signal });
      }
      // Durable before it becomes visible: a server crash right after the rename must not leave a hole.
      if (fs.supportsFsync) await fs.fsync(handle, temp);
      const open = handle;
      handle = undefined;
      await fs.close(open, temp);
      await (options.ifAbsent ? fs.renameIfAbsent(temp, target) : fs.rename(temp, target));
    } catch (error) {
      if (handle) await fs.close(handle, temp).catch(() => undefined);
      await fs.unlink(temp).catch(() => undefined);
      throw await this.explainWriteFailure(fs, error, options.size);
    }
  }

  /**
   * SFTP v3 (OpenSSH) reports a full disk as a bare FAILURE; ask the server for its
   * free space to tell NO_SPACE apart.
   */
  private async explainWriteFailure(fs: RemoteFs, error: unknown, size: number): Promise<unknown> {
    if ((error as DestinationError).code !== 'UNKNOWN' || fs.lost) return error;
    const free = await fs.freeBytes(this.root).catch(() => undefined);
    if (free === undefined || free >= size) return error;
    return new DestinationError(
      'NO_SPACE',
      `${(error as Error).message} (only ${free} bytes free on the server)`,
      {
        cause: error,
        retryable: false,
      },
    );
  }

  async get(key: string): Promise<Readable> {
    const { fs } = await this.connect();
    const path = this.remote(key);
    const handle = await fs.open(path, 'r');
    try {
      const stats = await fs.fstat(handle, path);
      if (!stats.isFile())
        throw new DestinationError('NOT_FOUND', `get ${path}: not a file`, { retryable: false });
      return new SftpReadStream(fs, handle, stats.size, path, { concurrency: this.config.concurrency });
    } catch (error) {
      await fs.close(handle, path).catch(() => undefined);
      throw error;
    }
  }

  async *list(prefix = '', options?: OperationOptions): AsyncIterable<ObjectInfo> {
    const { fs } = await this.connect();
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(fs, slash >= 0 ? prefix.slice(0, slash) : '', prefix, false, options?.signal);
  }

  async *listTemporary(options?: OperationOptions): AsyncIterable<TemporaryObject> {
    const { fs } = await this.connect();
    for await (const info of this.walk(fs, '', '', true, options?.signal))
      yield { ...info, name: info.key, key: parseTemporaryKey(info.key)!.key };
  }

  /** Files below `folderKey` whose key starts with `prefix`: objects, or with `temporary` the temporary files of puts. */
  private async *walk(
    fs: RemoteFs,
    folderKey: string,
    prefix: string,
    temporary: boolean,
    signal: AbortSignal | undefined,
  ): AsyncIterable<ObjectInfo> {
    // SFTP requests cannot be cancelled one by one: an interrupted walk stops before its next folder.
    signal?.throwIfAborted();
    let entries: FileEntryWithStats[];
    try {
      entries = await fs.readdir(this.remote(folderKey));
    } catch (error) {
      if ((error as DestinationError).code === 'NOT_FOUND') return;
      throw error;
    }
    entries.sort(byFilename);
    for (const { filename, attrs } of entries) {
      if (filename === '.' || filename === '..') continue;
      const key = folderKey ? `${folderKey}/${filename}` : filename;
      if (attrs.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`))
          yield* this.walk(fs, key, prefix, temporary, signal);
        continue;
      }
      if (
        attrs.isFile() &&
        key.startsWith(prefix) &&
        (parseTemporaryKey(filename) !== undefined) === temporary
      )
        yield { key, size: attrs.size, modified: new Date(attrs.mtime * 1000) };
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const { fs } = await this.connect();
    try {
      const stats = await fs.stat(this.remote(key));
      return stats.isFile() ? { key, size: stats.size, modified: new Date(stats.mtime * 1000) } : undefined;
    } catch (error) {
      if ((error as DestinationError).code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const { fs } = await this.connect();
    try {
      await fs.unlink(this.remote(key));
    } catch (error) {
      if ((error as DestinationError).code !== 'NOT_FOUND') throw error;
    }
  }

  async check(): Promise<CheckResult> {
    const { connection, fs } = await this.connect();
    const verifier = await this.verifier!;
    const details = [
      `connected to ${describeEndpoint(this.endpoint)}; ${verifier.describe(connection.hostKey)}`,
    ];
    await fs.mkdirs(this.root);
    const probe = posix.join(this.root, temporaryKey('matric-backup-check'));
    const handle = await fs.open(probe, 'w', { mode: 0o600 });
    try {
      await fs.write(handle, Buffer.from('matric-backup check\n'), 0, probe);
    } finally {
      await fs.close(handle, probe).catch(() => undefined);
      await fs.unlink(probe);
    }
    details.push(`${this.root} is writable`);
    const freeBytes = await fs.freeBytes(this.root);
    if (freeBytes === undefined) details.push('free space: not reported by this server');
    return { details, freeBytes };
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    const { connection } = await session.catch(() => ({ connection: undefined }));
    if (!connection || connection.lost.aborted) return;
    await new Promise<void>((resolve) => {
      connection.client.once('close', () => resolve());
      connection.client.end();
    });
  }
}

function byFilename(a: FileEntryWithStats, b: FileEntryWithStats): number {
  return a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0;
}
