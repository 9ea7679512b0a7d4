import { posix } from 'node:path';
import { DestinationError } from '@matric-backup/plugin-api';
import type { FileEntryWithStats, InputAttributes, SFTPWrapper, Stats } from 'ssh2';
import type { SshConnection } from './connect.js';
import { sftpError } from './errors.js';

type Callback<T> = (error: Error | undefined | null, value: T) => void;

/**
 * The SFTP requests the destination needs, as promises whose errors are already
 * DestinationErrors naming the operation and remote path.
 */
export class RemoteFs {
  readonly supportsPosixRename: boolean;
  readonly supportsStatvfs: boolean;
  readonly supportsFsync: boolean;
  /** Rejecters of requests in flight, failed at once when the connection is lost. */
  private readonly pending = new Set<(error: unknown) => void>();

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly connection: SshConnection,
  ) {
    // ssh2 keeps the server's advertised extensions here (name -> version string).
    const extensions = (sftp as unknown as { _extensions: Record<string, string> })._extensions ?? {};
    this.supportsPosixRename = extensions['posix-rename@openssh.com'] === '1';
    this.supportsStatvfs = extensions['statvfs@openssh.com'] === '2';
    this.supportsFsync = extensions['fsync@openssh.com'] === '1';
    // ssh2 fails the requests pending when the channel closes, but a request sent
    // after that is never answered: fail everything in flight ourselves.
    connection.lost.addEventListener('abort', () => {
      for (const fail of this.pending) fail(new Error('connection lost'));
    });
  }

  get lost(): boolean {
    return this.connection.lost.aborted;
  }

  private call<T>(operation: string, path: string, run: (callback: Callback<T>) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: unknown) => {
        this.pending.delete(fail);
        reject(sftpError(error, operation, path, this.lost));
      };
      if (this.lost) return fail(new Error('connection lost'));
      this.pending.add(fail);
      try {
        run((error, value) => {
          if (error) return fail(error);
          this.pending.delete(fail);
          resolve(value);
        });
      } catch (error) {
        // ssh2 throws synchronously when the channel is already gone.
        fail(error);
      }
    });
  }

  stat(path: string): Promise<Stats> {
    return this.call('stat', path, (cb) => this.sftp.stat(path, cb));
  }

  fstat(handle: Buffer, path: string): Promise<Stats> {
    return this.call('stat', path, (cb) => this.sftp.fstat(handle, cb));
  }

  readdir(path: string): Promise<FileEntryWithStats[]> {
    return this.call('list', path, (cb) => this.sftp.readdir(path, cb));
  }

  open(path: string, flags: 'r' | 'w', attributes?: InputAttributes): Promise<Buffer> {
    return this.call('open', path, (cb) => this.sftp.open(path, flags, attributes ?? {}, cb));
  }

  close(handle: Buffer, path: string): Promise<void> {
    return this.call('close', path, (cb) => this.sftp.close(handle, (error) => cb(error, undefined)));
  }

  /** One request; `buffer` must fit the server's maximum write length. */
  write(handle: Buffer, buffer: Buffer, position: number, path: string): Promise<void> {
    return this.call('write', path, (cb) =>
      this.sftp.write(handle, buffer, 0, buffer.length, position, (error) => cb(error, undefined)),
    );
  }

  /**
   * Reads into `into` (its whole length); resolves with the part filled, which is
   * shorter near the end of the file and empty at EOF.
   */
  read(handle: Buffer, into: Buffer, position: number, path: string): Promise<Buffer> {
    return this.call('read', path, (cb) =>
      this.sftp.read(handle, into, 0, into.length, position, (error, bytesRead) =>
        cb(error, into.subarray(0, bytesRead)),
      ),
    );
  }

  fsync(handle: Buffer, path: string): Promise<void> {
    return this.call('fsync', path, (cb) =>
      this.sftp.ext_openssh_fsync(handle, (error) => cb(error, undefined)),
    );
  }

  unlink(path: string): Promise<void> {
    return this.call('delete', path, (cb) => this.sftp.unlink(path, (error) => cb(error, undefined)));
  }

  /**
   * Replaces `to` if it exists. posix-rename@openssh.com does that atomically; plain
   * SFTP rename refuses an existing target, so without the extension the old object
   * is removed first (a short window where the key is absent, never half-written).
   */
  async rename(from: string, to: string): Promise<void> {
    if (this.supportsPosixRename) {
      return this.call('rename', to, (cb) =>
        this.sftp.ext_openssh_rename(from, to, (error) => cb(error, undefined)),
      );
    }
    try {
      await this.call<void>('rename', to, (cb) =>
        this.sftp.rename(from, to, (error) => cb(error, undefined)),
      );
    } catch (error) {
      if ((await this.kind(to)) !== 'file') throw error;
      await this.unlink(to);
      await this.call<void>('rename', to, (cb) =>
        this.sftp.rename(from, to, (error) => cb(error, undefined)),
      );
    }
  }

  /**
   * Gives `from` the name `to` only while `to` does not exist. Plain SFTP rename
   * (SSH_FXP_RENAME, not posix-rename) never replaces a file: OpenSSH's server
   * hard-links the new name and fails when it exists, so of two racing renames
   * one fails. The refusal arrives as a bare FAILURE; a stat tells "exists" apart.
   */
  async renameIfAbsent(from: string, to: string): Promise<void> {
    try {
      await this.call<void>('rename', to, (cb) =>
        this.sftp.rename(from, to, (error) => cb(error, undefined)),
      );
    } catch (error) {
      if (this.lost || (await this.kind(to).catch(() => undefined)) === undefined) throw error;
      throw new DestinationError('ALREADY_EXISTS', `${to} exists; it was left as it is`, {
        cause: error,
        retryable: false,
      });
    }
  }

  /** `mkdir -p`; an existing folder is fine. */
  async mkdirs(path: string): Promise<void> {
    const kind = await this.kind(path);
    if (kind === 'directory') return;
    if (kind !== undefined) {
      throw new DestinationError('UNKNOWN', `cannot create folder ${path}: a file of that name exists`, {
        retryable: false,
      });
    }
    const parent = posix.dirname(path);
    if (parent !== path) await this.mkdirs(parent);
    try {
      await this.call<void>('mkdir', path, (cb) => this.sftp.mkdir(path, (error) => cb(error, undefined)));
    } catch (error) {
      // Another writer may have created it meanwhile.
      if ((await this.kind(path)) !== 'directory') throw error;
    }
  }

  async kind(path: string): Promise<'file' | 'directory' | 'other' | undefined> {
    try {
      const stats = await this.stat(path);
      return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other';
    } catch (error) {
      if ((error as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** Free bytes for an unprivileged user, when the server offers statvfs@openssh.com. */
  async freeBytes(path: string): Promise<number | undefined> {
    if (!this.supportsStatvfs) return undefined;
    const info = await this.call<{ f_bavail: number | bigint; f_frsize: number | bigint }>(
      'statvfs',
      path,
      (cb) => this.sftp.ext_openssh_statvfs(path, cb),
    );
    return Number(info.f_bavail) * Number(info.f_frsize);
  }
}
